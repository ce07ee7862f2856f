//! Lowering of hand-built term DAGs: per layer family, the produced model runs through the
//! reference interpreter and matches values computed by hand (each expectation says how);
//! custom layers match coremltools' own custom-layer models field for field; every error case
//! is a typed error naming what is wrong.

mod common;

use mlrewrite::ir::{DType, Shape};
use mlrewrite::lower::{lower, mlmodel, LowerError, LowerOptions};
use mlrewrite::proto::coreml::neural_network_layer::Layer;
use mlrewrite::proto::coreml::{model, Model, NeuralNetworkLayer};
use mlrewrite::rewrite::lang::Node;
use mlrewrite::rewrite::term::{Term, TermDag, TermId, TermInput, TermOutput};
use mlrewrite::rules::value::{Tensor, Value};
use mlrewrite::run::{Interpreter, RunOptions};
use ndarray::{ArrayD, IxDyn};
use prost::Message;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Builds a `TermDag` term by term (children first, as extraction does).
#[derive(Default)]
struct Dag {
    dag: TermDag,
}

impl Dag {
    fn push(&mut self, node: Node, origin: Option<&str>) -> TermId {
        self.dag.nodes.push(Term { node, dtypes: vec![], shapes: vec![], origin: origin.map(str::to_string), replaces: origin.into_iter().map(str::to_string).collect() });
        self.dag.nodes.len() - 1
    }
    fn input(&mut self, name: &str, dims: &[usize]) -> TermId {
        let spec = Some(dims.iter().map(|&d| Some(d)).collect());
        let t = self.push(Node::input(name, mlrewrite::rules::value::DType::Float32, spec), Some(name));
        self.dag.inputs.push(TermInput { name: name.into(), term: t, dtype: DType::F32, shape: Shape::from_usize(dims) });
        t
    }
    fn nn(&mut self, kind: &str, params: Vec<(&str, Value)>, args: &[TermId], origin: Option<&str>) -> TermId {
        self.push(Node::nn(kind, params, args.iter().map(|&a| egg::Id::from(a)).collect()), origin)
    }
    fn konst(&mut self, t: Tensor) -> TermId {
        self.push(Node::Const(Arc::new(t)), None)
    }
    fn proj(&mut self, index: u32, arg: TermId) -> TermId {
        self.push(Node::Proj { index, arg: [egg::Id::from(arg)] }, None)
    }
    fn output(&mut self, name: &str, term: TermId, dims: &[usize]) {
        self.dag.outputs.push(TermOutput { name: name.into(), term, dtype: DType::F32, shape: Shape::from_usize(dims), inner: false });
    }
}

fn floats(v: &[f32]) -> Value {
    Value::List(v.iter().map(|&x| Value::float(x as f64)).collect())
}

fn tensor(shape: &[usize], v: &[f32]) -> Value {
    Value::Tensor(Arc::new(Tensor::from_f32(shape.to_vec(), v.to_vec())))
}

fn arr(shape: &[usize], v: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap()
}

fn layers(m: &Model) -> &[NeuralNetworkLayer] {
    match &m.r#type {
        Some(model::Type::NeuralNetwork(nn)) => &nn.layers,
        _ => panic!("not a neural network"),
    }
}

/// Lowers, re-decodes the bytes (what a file would hold) and runs the interpreter.
fn run(dag: &TermDag, inputs: Vec<(&str, ArrayD<f32>)>) -> (Model, BTreeMap<String, ArrayD<f32>>) {
    let model = lower(dag, &LowerOptions::default()).expect("lowering");
    let model = Model::decode(&model.encode_to_vec()[..]).unwrap();
    let out = {
        let opts = RunOptions { custom_kernels: common::kernels(), ..Default::default() };
        let interp = Interpreter::new(&model, opts).expect("interpreter accepts the model");
        interp.run(inputs.into_iter().map(|(n, a)| (n.to_string(), a)).collect()).expect("run")
    };
    (model, out)
}

fn close(got: &ArrayD<f32>, want: &ArrayD<f32>) {
    common::allclose(got, want, 1e-5, 1e-6).unwrap_or_else(|e| panic!("{e}\n got {got:?}\nwant {want:?}"));
}

// ------------------------------------------------------------------------------ families

#[test]
fn convolution_with_bias_runs() {
    let mut d = Dag::default();
    let x = d.input("x", &[1, 1, 3, 3]);
    // Diagonal 2x2 kernel: y[i,j] = x[i,j] + x[i+1,j+1] + 0.5.
    let c = d.nn(
        "convolution",
        vec![
            ("outputChannels", Value::Int(1)),
            ("kernelChannels", Value::Int(1)),
            ("nGroups", Value::Int(1)),
            ("kernelSize", Value::ints([2, 2])),
            ("stride", Value::ints([1, 1])),
            ("dilationFactor", Value::ints([1, 1])),
            ("padding", Value::Str("valid".into())),
            ("hasBias", Value::Bool(true)),
            ("weights", tensor(&[1, 1, 2, 2], &[1.0, 0.0, 0.0, 1.0])),
            ("bias", tensor(&[1], &[0.5])),
        ],
        &[x],
        Some("model/conv/Conv2D"),
    );
    d.output("Identity", c, &[1, 1, 2, 2]);
    let (m, out) = run(&d.dag, vec![("x", arr(&[1, 1, 3, 3], &[1., 2., 3., 4., 5., 6., 7., 8., 9.]))]);
    // By hand: 1+5, 2+6, 4+8, 5+9, each + 0.5.
    close(&out["Identity"], &arr(&[1, 1, 2, 2], &[6.5, 8.5, 12.5, 14.5]));
    assert_eq!(m.specification_version, 4);
    let l = &layers(&m)[0];
    assert_eq!((l.name.as_str(), l.output.as_slice()), ("model/conv/Conv2D", &["Identity".to_string()][..]));
}

#[test]
fn pooling_max_and_average_run() {
    let mut d = Dag::default();
    let x = d.input("x", &[1, 1, 2, 4]);
    let pool = |kind: &str| {
        vec![
            ("type", Value::Str(kind.into())),
            ("kernelSize", Value::ints([2, 2])),
            ("stride", Value::ints([2, 2])),
            ("padding", Value::Str("valid".into())),
        ]
    };
    let mx = d.nn("pooling", pool("MAX"), &[x], Some("max"));
    let av = d.nn("pooling", pool("AVERAGE"), &[x], Some("avg"));
    d.output("max_out", mx, &[1, 1, 1, 2]);
    d.output("avg_out", av, &[1, 1, 1, 2]);
    let (_, out) = run(&d.dag, vec![("x", arr(&[1, 1, 2, 4], &[1., 5., 2., 0., 3., 4., 8., 7.]))]);
    // By hand: windows {1,5,3,4} and {2,0,8,7}.
    close(&out["max_out"], &arr(&[1, 1, 1, 2], &[5., 8.]));
    close(&out["avg_out"], &arr(&[1, 1, 1, 2], &[3.25, 4.25]));
}

#[test]
fn activations_run_and_clamped_relu_needs_ios14() {
    let mut d = Dag::default();
    let x = d.input("x", &[4]);
    let r = d.nn("activationReLU", vec![], &[x], Some("relu"));
    let l = d.nn("activationLeakyReLU", vec![("alpha", Value::float(0.1))], &[x], Some("leaky"));
    let c = d.nn("clampedReLU", vec![("alpha", Value::float(0.1)), ("beta", Value::float(2.0))], &[x], Some("clamped"));
    d.output("relu", r, &[4]);
    d.output("leaky", l, &[4]);
    d.output("clamped", c, &[4]);
    let (m, out) = run(&d.dag, vec![("x", arr(&[4], &[-2., -0.5, 0., 3.]))]);
    // By hand: max(0,x); x<0 ? 0.1x : x; min(2, leaky).
    close(&out["relu"], &arr(&[4], &[0., 0., 0., 3.]));
    close(&out["leaky"], &arr(&[4], &[-0.2, -0.05, 0., 3.]));
    close(&out["clamped"], &arr(&[4], &[-0.2, -0.05, 0., 2.]));
    assert_eq!(m.specification_version, 5, "clampedReLU is an iOS 14 layer");
}

#[test]
fn elementwise_with_a_shared_constant_input_runs() {
    let mut d = Dag::default();
    let x = d.input("x", &[2, 3]);
    let c = d.konst(Tensor::from_f32(vec![3], vec![10., 20., 30.]));
    let a = d.nn("addBroadcastable", vec![], &[x, c], Some("add"));
    let m = d.nn("multiplyBroadcastable", vec![], &[a, c], Some("mul"));
    let s = d.nn("unary", vec![("type", Value::Str("SQRT".into()))], &[m], Some("sqrt"));
    d.output("Identity", s, &[2, 3]);
    let (model, out) = run(&d.dag, vec![("x", arr(&[2, 3], &[1., 2., 3., 4., 5., 6.]))]);
    // By hand: sqrt((x + c) * c) = sqrt([110, 440, 990, 140, 500, 1080]).
    let want: Vec<f32> = [110f32, 440., 990., 140., 500., 1080.].iter().map(|v| v.sqrt()).collect();
    close(&out["Identity"], &arr(&[2, 3], &want));
    let consts: Vec<_> = layers(&model).iter().filter(|l| matches!(l.layer, Some(Layer::LoadConstantNd(_)))).collect();
    assert_eq!(consts.len(), 1, "one loadConstantND shared by both consumers");
    assert_eq!(consts[0].name, "add/const", "named after its first consumer");
}

#[test]
fn reductions_and_topk_projections_run() {
    let mut d = Dag::default();
    let x = d.input("x", &[2, 3]);
    let s = d.nn("reduceSum", vec![("axes", Value::ints([1])), ("keepDims", Value::Bool(false))], &[x], Some("sum"));
    let t = d.nn("topK", vec![("axis", Value::Int(-1)), ("K", Value::Int(2))], &[x], Some("TopKV2"));
    let values = d.proj(0, t);
    let indices = d.proj(1, t);
    d.output("sum", s, &[2]);
    // TF graph order: Identity <- TopKV2:1 (indices), Identity_1 <- TopKV2:0 (values).
    d.output("Identity", indices, &[2, 2]);
    d.output("Identity_1", values, &[2, 2]);
    let (m, out) = run(&d.dag, vec![("x", arr(&[2, 3], &[1., 3., 2., 9., 7., 8.]))]);
    // By hand: row sums 6 and 24; top-2 of [1,3,2] is 3,2 at 1,2; of [9,7,8] is 9,8 at 0,2.
    close(&out["sum"], &arr(&[2], &[6., 24.]));
    close(&out["Identity_1"], &arr(&[2, 2], &[3., 2., 9., 8.]));
    close(&out["Identity"], &arr(&[2, 2], &[1., 2., 0., 2.]));
    let topk = layers(&m).iter().find(|l| l.name == "TopKV2").unwrap();
    assert_eq!(topk.output, vec!["Identity_1", "Identity"]);
}

#[test]
fn shape_layers_and_split_projections_run() {
    let mut d = Dag::default();
    let x = d.input("x", &[2, 3]);
    let t = d.nn("transpose", vec![("axes", Value::ints([1, 0]))], &[x], Some("T"));
    let r = d.nn("reshapeStatic", vec![("targetShape", Value::ints([2, 3]))], &[t], Some("R"));
    let sp = d.nn("splitND", vec![("axis", Value::Int(0)), ("numSplits", Value::Int(2))], &[r], Some("S"));
    let (a, b) = (d.proj(0, sp), d.proj(1, sp));
    let cat = d.nn("concatND", vec![("axis", Value::Int(1))], &[b, a], Some("C"));
    d.output("out", cat, &[1, 6]);
    let (m, out) = run(&d.dag, vec![("x", arr(&[2, 3], &[1., 2., 3., 4., 5., 6.]))]);
    // By hand: transpose -> [[1,4],[2,5],[3,6]]; reshape [2,3] -> [[1,4,2],[5,3,6]];
    // split rows; concat(second, first) on axis 1 -> [[5,3,6,1,4,2]].
    close(&out["out"], &arr(&[1, 6], &[5., 3., 6., 1., 4., 2.]));
    let split = layers(&m).iter().find(|l| l.name == "S").unwrap();
    assert_eq!(split.output, vec!["S_out0", "S_out1"]);
}

#[test]
fn batchnorm_runs() {
    let mut d = Dag::default();
    let x = d.input("x", &[1, 2, 1, 2]);
    let bn = d.nn(
        "batchnorm",
        vec![
            ("channels", Value::Int(2)),
            ("epsilon", Value::float(0.0)),
            ("gamma", floats(&[1., 2.])),
            ("beta", floats(&[0., 1.])),
            ("mean", floats(&[1., 1.])),
            ("variance", floats(&[1., 4.])),
        ],
        &[x],
        Some("bn"),
    );
    d.output("y", bn, &[1, 2, 1, 2]);
    let (_, out) = run(&d.dag, vec![("x", arr(&[1, 2, 1, 2], &[1., 3., 5., 9.]))]);
    // By hand: gamma * (x - mean) / sqrt(var) + beta: ch0 (1,3) -> (0,2); ch1 (5,9) -> (5,9).
    close(&out["y"], &arr(&[1, 2, 1, 2], &[0., 2., 5., 9.]));
}

// ------------------------------------------------------------------------------ outputs

#[test]
fn outputs_that_are_inputs_or_shared_values_get_copy_layers() {
    let mut d = Dag::default();
    let x = d.input("x", &[3]);
    let r = d.nn("activationReLU", vec![], &[x], Some("relu"));
    d.output("a", r, &[3]);
    d.output("b", r, &[3]);
    d.output("passthrough", x, &[3]);
    let (m, out) = run(&d.dag, vec![("x", arr(&[3], &[-1., 0., 2.]))]);
    close(&out["a"], &arr(&[3], &[0., 0., 2.]));
    close(&out["b"], &arr(&[3], &[0., 0., 2.]));
    close(&out["passthrough"], &arr(&[3], &[-1., 0., 2.]));
    let copies: Vec<_> = layers(&m).iter().filter(|l| matches!(l.layer, Some(Layer::Copy(_)))).map(|l| (l.input[0].as_str(), l.output[0].as_str())).collect();
    assert_eq!(copies, vec![("a", "b"), ("x", "passthrough")]);
}

#[test]
fn unnamed_terms_take_their_consumers_name_and_clashes_are_suffixed() {
    let mut d = Dag::default();
    let x = d.input("x", &[1, 2, 2, 1]);
    // transpose(reshape(transpose(x))) where only the root carries the TF name.
    let t1 = d.nn("transpose", vec![("axes", Value::ints([0, 3, 1, 2]))], &[x], None);
    let r = d.nn("activationReLU", vec![], &[t1], None);
    let t2 = d.nn("transpose", vec![("axes", Value::ints([0, 2, 3, 1]))], &[r], Some("blk/Relu"));
    let t3 = d.nn("activationLinear", vec![("alpha", Value::float(2.0))], &[t2], Some("blk/Relu"));
    d.output("Identity", t3, &[1, 2, 2, 1]);
    let m = lower(&d.dag, &LowerOptions::default()).unwrap();
    let names: Vec<_> = layers(&m).iter().map(|l| (l.name.as_str(), l.output[0].as_str())).collect();
    assert_eq!(
        names,
        vec![
            ("blk/Relu/transpose", "blk/Relu/transpose"),
            ("blk/Relu/activationReLU", "blk/Relu/activationReLU"),
            ("blk/Relu", "blk/Relu"),
            ("blk/Relu_1", "Identity"),
        ]
    );
}

#[test]
fn flexible_input_dims_get_a_shape_range() {
    use mlrewrite::ir::Dim;
    use mlrewrite::proto::coreml::array_feature_type::ShapeFlexibility;
    use mlrewrite::proto::coreml::feature_type::Type;
    let mut d = Dag::default();
    let x = d.input("x", &[1, 4]);
    d.dag.inputs[0].shape = Shape::Ranked(vec![Dim::Unknown, Dim::Known(4)]);
    let r = d.nn("activationReLU", vec![], &[x], Some("relu"));
    d.output("y", r, &[]);
    d.dag.outputs[0].shape = Shape::Ranked(vec![Dim::Unknown, Dim::Known(4)]);
    let m = lower(&d.dag, &LowerOptions::default()).unwrap();
    let desc = m.description.as_ref().unwrap();
    let Some(Type::MultiArrayType(a)) = &desc.input[0].r#type.as_ref().unwrap().r#type else { panic!() };
    assert_eq!(a.shape, vec![1, 4]);
    let Some(ShapeFlexibility::ShapeRange(r)) = &a.shape_flexibility else { panic!("no shape range") };
    assert_eq!(r.size_ranges.iter().map(|s| (s.lower_bound, s.upper_bound)).collect::<Vec<_>>(), vec![(1, -1), (4, 4)]);
    let Some(Type::MultiArrayType(o)) = &desc.output[0].r#type.as_ref().unwrap().r#type else { panic!() };
    assert!(o.shape.is_empty(), "partly unknown output shape is not declared");
    // The interpreter accepts another batch size.
    let interp = Interpreter::new(&m, RunOptions::default()).unwrap();
    let out = interp.run([("x".to_string(), arr(&[3, 4], &[-1.; 12]))].into()).unwrap();
    assert_eq!(out["y"].shape(), &[3, 4]);
}

#[test]
fn output_is_deterministic_and_options_apply() {
    let build = || {
        let mut d = Dag::default();
        let x = d.input("x", &[2, 3]);
        let c = d.konst(Tensor::from_f32(vec![3], vec![0.5, 1.5, -2.0]));
        let a = d.nn("addBroadcastable", vec![], &[x, c], Some("add"));
        let b = d.nn("addBroadcastable", vec![], &[a, c], Some("add"));
        d.output("Identity", b, &[2, 3]);
        d.dag
    };
    let opts = LowerOptions { source: Some("tensorflow==2.12.1".into()), ..Default::default() };
    let one = lower(&build(), &opts).unwrap().encode_to_vec();
    let two = lower(&build(), &opts).unwrap().encode_to_vec();
    assert_eq!(one, two);
    let m = Model::decode(&one[..]).unwrap();
    let md = &m.description.as_ref().unwrap().metadata.as_ref().unwrap().user_defined;
    assert_eq!(md.get("com.github.apple.coremltools.source").map(String::as_str), Some("tensorflow==2.12.1"));
    assert_eq!(md.get("mlrewrite.version").map(String::as_str), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(layers(&m).iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), vec!["add/const", "add", "add_1"]);

    // fp16 weights: the constant is stored as half floats, and the model still runs.
    let fp16 = LowerOptions { fp16_weights: true, target: Some(6), ..Default::default() };
    let m = lower(&build(), &fp16).unwrap();
    assert_eq!(m.specification_version, 6);
    let Some(Layer::LoadConstantNd(c)) = &layers(&m)[0].layer else { panic!() };
    let data = c.data.as_ref().unwrap();
    assert!(data.float_value.is_empty());
    assert_eq!(data.float16_value.len(), 6);
    let interp = Interpreter::new(&m, RunOptions::default()).unwrap();
    let out = interp.run([("x".to_string(), arr(&[2, 3], &[0.; 6]))].into()).unwrap();
    // By hand: 0 + 2c, with c exactly representable in f16.
    close(&out["Identity"], &arr(&[2, 3], &[1., 3., -4., 1., 3., -4.]));
}

// ------------------------------------------------------------------------------ custom layers

/// `../shared/corpus/coremltools/NAME` or `None` after saying so.
fn corpus_model(name: &str) -> Option<Model> {
    let dir = common::corpus_dir()?;
    Some(mlmodel::read_model(&dir.join("coremltools").join(name)).unwrap())
}

/// Compiles the standard rules plus `extra` and returns lowering options with their bindings.
fn options_with_rules(extra: &str) -> LowerOptions {
    use mlrewrite::rules::{LoadOptions, RuleSet};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("extra.rules");
    std::fs::write(&path, extra).unwrap();
    let set = RuleSet::load(&LoadOptions { user: vec![path], no_std: false }).unwrap();
    assert_eq!(set.errors(), 0, "{:?}", set.diagnostics);
    LowerOptions::default().with_compiled(&set.compile().unwrap())
}

const CUSTOM_TOPK: &str = r#"
custom CustomTopK override:
    TopKV2(x, k) { sorted = s }
    where is_const(k)
    class_name = "CustomTopK"
    input_order = [x]
    parameters {
        k: int = int_value(k),
        axis: int = -1,
        sorted: bool = s,
    }
    description = "Top K Custom layer"
    outputs = [float32, int32]
"#;

#[test]
fn custom_topk_matches_coremltools_field_for_field() {
    let opts = options_with_rules(CUSTOM_TOPK);
    // The TermDag extraction makes of topk_static: x -> TopKV2 (custom) -> .0, .1.
    let mut d = Dag::default();
    let x = d.input("x", &[2, 10]);
    let params = vec![("k", Value::Int(3)), ("axis", Value::Int(-1)), ("sorted", Value::Bool(true))];
    let node = Node::Custom { reg: "CustomTopK".into(), params: mlrewrite::rewrite::lang::Attrs::new(params.into_iter().map(|(n, v)| (n.into(), v)).collect()), args: vec![egg::Id::from(x)] };
    let t = d.push(node, Some("TopKV2"));
    let (values, indices) = (d.proj(0, t), d.proj(1, t));
    d.output("Identity", indices, &[2, 3]);
    d.output("Identity_1", values, &[2, 3]);
    let m = lower(&d.dag, &opts).unwrap();
    assert_eq!(m.specification_version, 4);
    let ours = &layers(&m)[0];
    assert_eq!(layers(&m).len(), 1);
    let Some(want) = corpus_model("topk_static.custom.mlmodel") else {
        eprintln!("skipping: ../shared not present");
        return;
    };
    assert_eq!(ours, &layers(&want)[0]);
    // Runs with the CustomTopK kernel: top 3 of 0..9 and 9..0.
    let x: Vec<f32> = (0..10).map(|v| v as f32).chain((0..10).rev().map(|v| v as f32)).collect();
    let interp = Interpreter::new(&m, RunOptions { custom_kernels: common::kernels(), ..Default::default() }).unwrap();
    let out = interp.run([("x".to_string(), arr(&[2, 10], &x))].into()).unwrap();
    close(&out["Identity_1"], &arr(&[2, 3], &[9., 8., 7., 9., 8., 7.]));
    close(&out["Identity"], &arr(&[2, 3], &[9., 8., 7., 0., 1., 2.]));
}

#[test]
fn custom_matrix_determinant_matches_coremltools_field_for_field() {
    let opts = options_with_rules("");
    let mut d = Dag::default();
    let x = d.input("x", &[4, 3, 3]);
    let node = Node::Custom { reg: "MatrixDeterminant".into(), params: Default::default(), args: vec![egg::Id::from(x)] };
    let t = d.push(node, Some("MatrixDeterminant"));
    d.output("Identity", t, &[4]);
    let m = lower(&d.dag, &opts).unwrap();
    let Some(want) = corpus_model("matrix_det.custom.mlmodel") else {
        eprintln!("skipping: ../shared not present");
        return;
    };
    assert_eq!(layers(&m), layers(&want));
    assert_eq!(m.specification_version, want.specification_version);
    let (ours, theirs) = (m.description.as_ref().unwrap(), want.description.as_ref().unwrap());
    assert_eq!(ours.input, theirs.input, "inputs declared as coremltools does");
}

// ------------------------------------------------------------------------------ errors

fn lower_err(d: &Dag) -> LowerError {
    lower(&d.dag, &LowerOptions::default()).expect_err("lowering must fail")
}

#[test]
fn tf_op_left_in_the_dag_names_the_tf_node() {
    let mut d = Dag::default();
    let x = d.input("x", &[2]);
    let t = d.push(Node::tf("Relu6", vec![], vec![egg::Id::from(x)]), Some("model/act/Relu6"));
    d.output("Identity", t, &[2]);
    let e = lower_err(&d);
    assert!(matches!(&e, LowerError::TfOpLeft { op, node, .. } if op == "Relu6" && node == "model/act/Relu6"), "{e}");
    insta::assert_snapshot!(e.to_string(), @"TF op `Relu6` (node `model/act/Relu6`, term 1) reached lowering: no rule or custom-layer registration replaced it");
}

#[test]
fn unknown_layer_kind_is_an_error_with_a_suggestion() {
    let mut d = Dag::default();
    let x = d.input("x", &[2]);
    let t = d.nn("activationRelu", vec![], &[x], Some("act"));
    d.output("Identity", t, &[2]);
    let e = lower_err(&d);
    assert!(matches!(&e, LowerError::UnknownLayerKind { kind, .. } if kind == "activationRelu"), "{e}");
    assert!(e.to_string().contains("activationReLU"), "{e}");
}

#[test]
fn missing_parameter_names_layer_and_parameter() {
    let mut d = Dag::default();
    let x = d.input("x", &[1, 1, 3, 3]);
    let c = d.nn("convolution", vec![("outputChannels", Value::Int(1)), ("kernelChannels", Value::Int(1)), ("kernelSize", Value::ints([2, 2]))], &[x], Some("conv"));
    d.output("Identity", c, &[1, 1, 2, 2]);
    let e = lower_err(&d);
    assert_eq!(e, LowerError::MissingParameter { layer: "conv".into(), kind: "convolution".into(), param: "weights".into() });
}

#[test]
fn mistyped_parameter_names_layer_parameter_and_types() {
    let mut d = Dag::default();
    let x = d.input("x", &[2, 3]);
    let s = d.nn("reduceSum", vec![("axes", Value::Str("1".into()))], &[x], Some("sum"));
    d.output("Identity", s, &[2]);
    let e = lower_err(&d);
    insta::assert_snapshot!(e.to_string(), @r#"layer `sum` (reduceSum): parameter `axes` must be list<int>, got "1""#);
    let mut d = Dag::default();
    let x = d.input("x", &[2, 3]);
    let p = d.nn("pooling", vec![("type", Value::Str("MIN".into()))], &[x], Some("pool"));
    d.output("Identity", p, &[2]);
    let e = lower_err(&d);
    assert!(matches!(&e, LowerError::ParameterType { param, .. } if param == "type"), "{e}");
}

#[test]
fn structural_errors_are_typed() {
    // Wrong arity.
    let mut d = Dag::default();
    let x = d.input("x", &[2]);
    let t = d.nn("activationReLU", vec![], &[x, x], Some("relu"));
    d.output("Identity", t, &[2]);
    assert!(matches!(lower_err(&d), LowerError::Arity { got: 2, .. }));
    // Projection past the outputs of topK.
    let mut d = Dag::default();
    let x = d.input("x", &[4]);
    let t = d.nn("topK", vec![("K", Value::Int(2))], &[x], Some("topk"));
    let p = d.proj(2, t);
    d.output("Identity", p, &[2]);
    assert!(matches!(lower_err(&d), LowerError::BadProjection { index: 2, outputs: 2, .. }));
    // A custom layer without its registration.
    let mut d = Dag::default();
    let x = d.input("x", &[4]);
    let t = d.push(Node::Custom { reg: "Nope".into(), params: Default::default(), args: vec![egg::Id::from(x)] }, Some("op"));
    d.output("Identity", t, &[4]);
    assert!(matches!(lower_err(&d), LowerError::UnknownRegistration { ref reg, .. } if reg == "Nope"));
    // No outputs.
    assert_eq!(lower(&TermDag::default(), &LowerOptions::default()).unwrap_err(), LowerError::NoOutputs);
}

// ------------------------------------------------------------------------------ spec version

/// The committed layer fixtures were built with coremltools' NN builder, which raises
/// `specificationVersion` for iOS 14 features: our rule must agree on every one of them.
#[test]
fn spec_version_agrees_with_coremltools_builder_on_layer_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers");
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let mut checked = 0;
    for case in manifest.as_array().unwrap() {
        if case["rank5_mapping"].as_bool() == Some(true) {
            continue; // legacy models: version 1-3 rules, not what lowering emits
        }
        let name = case["name"].as_str().unwrap();
        let m = mlmodel::read_model(&dir.join(format!("{name}.mlmodel"))).unwrap();
        let ours = mlrewrite::lower::version::model_version(layers(&m), None);
        assert_eq!(ours, m.specification_version, "{name}: {}", case["description"]);
        checked += 1;
    }
    assert!(checked > 50, "only {checked} fixtures checked");
}

/// The built-in path of `topk_static` (rule `topk_builtin`): the same layer coremltools emits.
#[test]
fn builtin_topk_matches_coremltools_field_for_field() {
    let mut d = Dag::default();
    let x = d.input("x", &[2, 10]);
    let t = d.nn("topK", vec![("axis", Value::Int(-1)), ("K", Value::Int(3))], &[x], Some("TopKV2"));
    let (values, indices) = (d.proj(0, t), d.proj(1, t));
    d.output("Identity", indices, &[2, 3]);
    d.output("Identity_1", values, &[2, 3]);
    let m = lower(&d.dag, &LowerOptions::default()).unwrap();
    let Some(want) = corpus_model("topk_static.mlmodel") else {
        eprintln!("skipping: ../shared not present");
        return;
    };
    assert_eq!(layers(&m), layers(&want));
    assert_eq!(m.specification_version, want.specification_version);
}
