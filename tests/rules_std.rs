//! The standard library checks clean, compiles, and its rules fire on hand-built e-graphs:
//! a conv -> relu6 -> conv chain keeps no inner transposes, an `override` registration forces
//! the custom layer, and a user rule replaces the standard one of the same name.

use egg::{Analysis, DidMerge, EGraph, Id, Runner};
use mlrewrite::rewrite::lang::{Facts, Node};
use mlrewrite::rules::compile::Action;
use mlrewrite::rules::value::{DType, Tensor, Value};
use mlrewrite::rules::{LoadOptions, RuleSet};
use std::path::PathBuf;
use std::sync::Arc;

/// Test analysis: leaf facts plus shapes through the few TF ops these tests use
/// (Relu6 keeps its input's shape; a 1x1 VALID stride-1 NHWC Conv2D changes the channels).
#[derive(Default)]
struct TestFacts;

impl Analysis<Node> for TestFacts {
    type Data = Facts;
    fn make(egraph: &mut EGraph<Node, Self>, n: &Node, _id: Id) -> Facts {
        match n {
            Node::Input(i) => Facts { dtype: Some(i.dtype), shape: i.shape.clone(), constant: None },
            Node::Const(t) => Facts { dtype: Some(t.dtype), shape: Some(t.shape.iter().map(|d| Some(*d)).collect()), constant: Some(t.clone()) },
            Node::Tf { op, args, .. } if &**op == "Relu6" => {
                let a = &egraph[args[0]].data;
                Facts { dtype: a.dtype, shape: a.shape.clone(), constant: None }
            }
            Node::Tf { op, args, .. } if &**op == "Conv2D" => {
                let x = egraph[args[0]].data.shape.clone();
                let w = egraph[args[1]].data.shape.clone();
                let shape = match (x, w) {
                    (Some(x), Some(w)) if x.len() == 4 && w.len() == 4 => Some(vec![x[0], x[1], x[2], w[3]]),
                    _ => None,
                };
                Facts { dtype: egraph[args[0]].data.dtype, shape, constant: None }
            }
            _ => Facts::default(),
        }
    }
    fn merge(&mut self, a: &mut Facts, b: Facts) -> DidMerge {
        let before = a.clone();
        if a.dtype.is_none() {
            a.dtype = b.dtype;
        }
        if a.shape.is_none() {
            a.shape = b.shape.clone();
        }
        if a.constant.is_none() {
            a.constant = b.constant.clone();
        }
        DidMerge(*a != before, *a != b)
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules").join(name)
}

fn run(set: &RuleSet, eg: EGraph<Node, TestFacts>) -> EGraph<Node, TestFacts> {
    let rws = set.compile().unwrap().rewrites::<TestFacts>().unwrap();
    Runner::default().with_egraph(eg).with_iter_limit(8).with_node_limit(20_000).run(&rws).egraph
}

fn conv2d(eg: &mut EGraph<Node, TestFacts>, x: Id, cin: usize, cout: usize) -> Id {
    let w: Vec<f32> = (0..cin * cout).map(|i| i as f32).collect();
    let w = eg.add(Node::Const(Arc::new(Tensor::from_f32(vec![1, 1, cin, cout], w))));
    let attrs = vec![
        ("T", Value::DType(DType::Float32)),
        ("data_format", Value::Str("NHWC".into())),
        ("padding", Value::Str("VALID".into())),
        ("strides", Value::ints([1, 1, 1, 1])),
        ("dilations", Value::ints([1, 1, 1, 1])),
        ("explicit_paddings", Value::ints([])),
        ("use_cudnn_on_gpu", Value::Bool(true)),
    ];
    eg.add(Node::tf("Conv2D", attrs, vec![x, w]))
}

fn nn_children(eg: &EGraph<Node, TestFacts>, class: Id, kind: &str) -> Vec<Vec<Id>> {
    eg[class]
        .iter()
        .filter_map(|n| match n {
            Node::Nn { kind: k, args, .. } if &**k == kind => Some(args.iter().map(|a| eg.find(*a)).collect()),
            _ => None,
        })
        .collect()
}

#[test]
fn standard_library_is_clean() {
    let set = RuleSet::load(&LoadOptions::default()).unwrap();
    // Real TF ops that the op catalog (../shared/reference/tensorflow/ops.md, a subset of
    // TensorFlow's) lacks: their rules are checked by the differential test instead.
    const OUTSIDE_CATALOG: &[&str] = &["CheckNumerics", "Expm1", "MatrixDiagPart", "MatrixSetDiag", "OnesLike", "TensorScatterMin", "TensorScatterSub", "TensorScatterUpdate"];
    let unexpected: Vec<_> = set
        .diagnostics
        .iter()
        .filter(|d| !(d.code == "rules::unknown-tf-op" && OUTSIDE_CATALOG.iter().any(|op| d.message.contains(&format!("`{op}`")))))
        .cloned()
        .collect();
    assert!(unexpected.is_empty(), "{}", mlrewrite::rules::diag::render_all(&unexpected, &set.sources, 100));
    let c = set.compile().unwrap();
    assert!(c.rules.len() >= 50);
    assert_eq!(c.registrations.len(), 1);
}

#[test]
fn conv_relu6_conv_chain_keeps_no_inner_transpose() {
    let set = RuleSet::load(&LoadOptions::default()).unwrap();
    let mut eg = EGraph::<Node, TestFacts>::default();
    let x = eg.add(Node::input("x", DType::Float32, Some(vec![Some(1), Some(4), Some(4), Some(3)])));
    let c1 = conv2d(&mut eg, x, 3, 8);
    let r = eg.add(Node::tf("Relu6", vec![("T", Value::DType(DType::Float32))], vec![c1]));
    let c2 = conv2d(&mut eg, r, 8, 2);
    let eg = run(&set, eg);

    // conv2 = transpose(convolution(t)) where t is the class of the NCHW input of conv2.
    let outer = nn_children(&eg, c2, "transpose");
    assert!(!outer.is_empty(), "Conv2D was not rewritten");
    let conv2_nn = outer[0][0];
    let t = nn_children(&eg, conv2_nn, "convolution")[0][0];
    // That NCHW input is equal to clip(convolution1(...)) directly: no transpose in between.
    let clips = nn_children(&eg, t, "clip");
    assert!(!clips.is_empty(), "no clip in the NCHW input class of conv2");
    let inner = clips[0][0];
    let conv1_in = nn_children(&eg, inner, "convolution");
    assert!(!conv1_in.is_empty(), "clip's input is not conv1's NCHW convolution");
    let tx = eg.lookup(Node::nn("transpose", vec![("axes", Value::ints([0, 3, 1, 2]))], vec![x])).unwrap();
    assert_eq!(conv1_in[0][0], eg.find(tx));
}

#[test]
fn override_registration_forces_the_custom_layer() {
    let set = RuleSet::load(&LoadOptions { user: vec![fixture("custom_topk")], no_std: false }).unwrap();
    assert_eq!(set.errors(), 0);
    let compiled = set.compile().unwrap();
    assert!(compiled.disabled_by_override.contains(&"topk_builtin".to_string()));
    let reg = compiled.registrations.iter().find(|r| r.name == "CustomTopK").unwrap();
    match &reg.action {
        Action::Custom(c) => {
            assert_eq!(c.class_name, "CustomTopK");
            assert_eq!(c.description, "Top K Custom layer");
            assert!(c.override_);
            assert_eq!(c.outputs, Some(vec![DType::Float32, DType::Int32]));
        }
        a => panic!("{a:?}"),
    }

    let mut eg = EGraph::<Node, TestFacts>::default();
    let x = eg.add(Node::input("x", DType::Float32, Some(vec![Some(2), Some(10)])));
    let k = eg.add(Node::Const(Arc::new(Tensor::scalar_i32(3))));
    let topk = eg.add(Node::tf("TopKV2", vec![("sorted", Value::Bool(true)), ("T", Value::DType(DType::Float32))], vec![x, k]));
    let eg = run(&set, eg);
    let customs: Vec<_> = eg[topk].iter().filter_map(|n| match n {
        Node::Custom { reg, params, args } => Some((reg.clone(), params.clone(), args.clone())),
        _ => None,
    }).collect();
    assert_eq!(customs.len(), 1, "{:?}", eg[topk].nodes);
    let (reg, params, args) = &customs[0];
    assert_eq!(&**reg, "CustomTopK");
    // The binding of coremltools' example: k = 3 from the constant input, axis = -1, sorted = true.
    assert_eq!(params.get("k"), Some(&Value::Int(3)));
    assert_eq!(params.get("axis"), Some(&Value::Int(-1)));
    assert_eq!(params.get("sorted"), Some(&Value::Bool(true)));
    assert_eq!(args, &vec![x]);
    assert!(nn_children(&eg, topk, "topK").is_empty(), "the built-in topK must be disabled by the override");
}

#[test]
fn without_override_the_builtin_topk_fires() {
    let set = RuleSet::load(&LoadOptions::default()).unwrap();
    let mut eg = EGraph::<Node, TestFacts>::default();
    let x = eg.add(Node::input("x", DType::Float32, Some(vec![Some(2), Some(10)])));
    let k = eg.add(Node::Const(Arc::new(Tensor::scalar_i32(3))));
    let topk = eg.add(Node::tf("TopKV2", vec![("sorted", Value::Bool(true))], vec![x, k]));
    let eg = run(&set, eg);
    assert_eq!(nn_children(&eg, topk, "topK"), vec![vec![x]]);
}

#[test]
fn user_rule_replaces_the_standard_one() {
    let set = RuleSet::load(&LoadOptions { user: vec![fixture("replace_relu6")], no_std: false }).unwrap();
    assert_eq!(set.errors(), 0);
    assert_eq!(set.replaced.len(), 1);
    assert_eq!(set.replaced[0].0, "relu6");
    let n = set.items().filter(|(_, i)| i.name().name == "relu6").count();
    assert_eq!(n, 1);
}
