//! Import of GraphDefs: the public corpus imports with the node counts and op histograms its
//! metadata records, and every kind of bad input is an error naming the file and node.

#![allow(clippy::result_large_err)]

mod common;

use common::*;
use mlrewrite::ir::{import_bytes, import_file, import_graph_def, Attr, DType, ImportError, Shape};
use mlrewrite::proto::tensorflow::attr_value::Value;
use mlrewrite::proto::tensorflow::op_def::ArgDef;
use mlrewrite::proto::tensorflow::{AttrValue, FunctionDef, FunctionDefLibrary, GraphDef, NameAttrList, NodeDef, OpDef};
use prost::Message;
use std::collections::BTreeMap;
use std::path::Path;

fn import(gd: &GraphDef) -> Result<mlrewrite::ir::Graph, ImportError> {
    import_graph_def(gd, Path::new("test.pb"))
}

#[test]
fn corpus_graphs_import_with_their_recorded_histogram() {
    let Some(dir) = corpus_dir() else { return };
    for name in corpus_names() {
        let g = import_file(&dir.join(format!("{name}.pb"))).unwrap_or_else(|e| panic!("{e}"));
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap()).unwrap();
        assert_eq!(g.len() as u64, meta["nodes"].as_u64().unwrap(), "{name}: node count");
        let mut hist: BTreeMap<String, u64> = BTreeMap::new();
        for id in g.node_ids() {
            *hist.entry(g.node(id).op.clone()).or_default() += 1;
        }
        let want: BTreeMap<String, u64> =
            meta["ops"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect();
        assert_eq!(hist, want, "{name}: op histogram");
        let inputs: Vec<String> = g.inputs_of_graph().iter().map(|&i| g.node(i).name.clone()).collect();
        let want_inputs: Vec<String> =
            meta["inputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(inputs, want_inputs, "{name}: graph inputs");
        let outputs: Vec<String> = g.outputs_of_graph().iter().map(|&i| g.node(i).name.clone()).collect();
        let want_outputs: Vec<String> =
            meta["outputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(outputs, want_outputs, "{name}: graph outputs");
    }
}

#[test]
fn data_and_control_inputs_are_kept_apart() {
    let gd = graph(vec![
        placeholder("x", &[1, 4]),
        node("dep", "NoOp", &[], &[]),
        node("y", "Identity", &["x:0", "^dep"], &[("T", a_type(F32))]),
    ]);
    let g = import(&gd).unwrap();
    let y = g.find("y").unwrap();
    assert_eq!(g.inputs(y).len(), 1);
    assert_eq!(g.inputs(y)[0].node, g.find("x").unwrap());
    assert_eq!(g.control_inputs(y), vec![g.find("dep").unwrap()]);
    // The OpDef's defaults are filled in: Placeholder has only `dtype` and `shape`, and
    // Conv2D-like defaults are checked in the opdefs tests; here the dtype attr is typed.
    assert_eq!(g.node(g.find("x").unwrap()).attrs.get("dtype"), Some(&Attr::Type(DType::F32)));
    assert_eq!(g.node(y).outputs[0].dtype, Some(DType::F32));
}

#[test]
fn defaults_from_the_opdef_are_filled() {
    let gd = graph(vec![
        placeholder("x", &[1, 8, 8, 3]),
        const_f32("w", &[3, 3, 3, 4], &[0.5]),
        node("c", "Conv2D", &["x", "w"], &[("T", a_type(F32)), ("strides", a_ints(&[1, 1, 1, 1])), ("padding", a_str("SAME"))]),
    ]);
    let g = import(&gd).unwrap();
    let c = g.node(g.find("c").unwrap());
    assert_eq!(c.get_attr_str("data_format").unwrap(), "NHWC");
    assert_eq!(c.get_attr_list_int("dilations").unwrap(), vec![1, 1, 1, 1]);
    assert!(c.get_attr_bool("use_cudnn_on_gpu").unwrap());
    let err = c.get_attr_int("padding").unwrap_err();
    assert_eq!(err.to_string(), "node `c` (Conv2D): attribute `padding` should be int, found string");
}

#[test]
fn unknown_ops_still_import() {
    let gd = graph(vec![placeholder("x", &[2]), node("m", "MyCustomOp", &["x"], &[]), node("o", "Identity", &["m:1"], &[("T", a_type(F32))])]);
    let g = import(&gd).unwrap();
    let m = g.node(g.find("m").unwrap());
    assert_eq!(m.outputs.len(), 2, "output count of an op without OpDef comes from its consumers");
}

fn err_of(gd: &GraphDef) -> String {
    import(gd).unwrap_err().to_string()
}

#[test]
fn an_input_naming_no_node_is_an_error_naming_the_node() {
    let gd = graph(vec![placeholder("x", &[1]), node("y", "Identity", &["nowhere:0"], &[("T", a_type(F32))])]);
    assert_eq!(err_of(&gd), "test.pb: node `y`: input `nowhere:0` points at no node");
}

#[test]
fn an_output_index_beyond_the_opdef_is_an_error() {
    let gd = graph(vec![placeholder("x", &[1]), node("y", "Identity", &["x:1"], &[("T", a_type(F32))])]);
    assert_eq!(err_of(&gd), "test.pb: node `y`: input `x:1` asks for output 1, but x (Placeholder) has 1 outputs");
}

#[test]
fn a_cycle_is_an_error() {
    let gd = graph(vec![
        node("a", "Identity", &["b"], &[("T", a_type(F32))]),
        node("b", "Identity", &["a"], &[("T", a_type(F32))]),
    ]);
    let e = err_of(&gd);
    assert!(e.starts_with("test.pb: the graph has a cycle through node `"), "{e}");
}

#[test]
fn a_tf1_frame_that_cannot_be_rebuilt_is_an_error_naming_the_node() {
    for op in ["Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond", "_SwitchN"] {
        let gd = graph(vec![node("loop", op, &[], &[])]);
        let e = err_of(&gd);
        assert!(e.starts_with(&format!("test.pb: node `loop` ({op}): ")), "{e}");
        assert!(e.ends_with("this TF1 control-flow frame cannot be rebuilt"), "{e}");
    }
    // A Merge of two values of the same side of one cond.
    let gd = graph(vec![
        placeholder("x", &[1]),
        node("p", "Placeholder", &[], &[("dtype", a_type(10))]),
        node("s", "Switch", &["x", "p"], &[("T", a_type(F32))]),
        node("a", "Neg", &["s:1"], &[("T", a_type(F32))]),
        node("b", "Abs", &["s:1"], &[("T", a_type(F32))]),
        node("m", "Merge", &["a", "b"], &[("T", a_type(F32))]),
    ]);
    assert_eq!(
        err_of(&gd),
        "test.pb: node `m` (Merge): its inputs `a` and `b` are not distinct sides of one cond on `p`; this TF1 control-flow frame cannot be rebuilt"
    );
    // An If is inlined, so it needs its branches.
    let gd = graph(vec![node("cond", "StatelessIf", &[], &[])]);
    assert_eq!(err_of(&gd), "test.pb: node `cond` (StatelessIf): attribute `then_branch` is missing or does not name a function");
}

fn a_func(name: &str) -> AttrValue {
    AttrValue { value: Some(Value::Func(NameAttrList { name: name.into(), ..Default::default() })) }
}

fn arg(name: &str) -> ArgDef {
    ArgDef { name: name.into(), r#type: F32, ..Default::default() }
}

/// A function `name(a) -> out` whose body is `nodes`, returning `ret`.
fn function(name: &str, nodes: Vec<NodeDef>, ret: &str) -> FunctionDef {
    FunctionDef {
        signature: Some(OpDef { name: name.into(), input_arg: vec![arg("a")], output_arg: vec![arg("out")], ..Default::default() }),
        node_def: nodes,
        ret: [("out".to_string(), ret.to_string())].into(),
        ..Default::default()
    }
}

fn with_library(nodes: Vec<NodeDef>, functions: Vec<FunctionDef>) -> GraphDef {
    let mut gd = graph(nodes);
    gd.library = Some(FunctionDefLibrary { function: functions, ..Default::default() });
    gd
}

#[test]
fn calls_are_inlined_with_output_arguments_resolved() {
    // outer(a) = inner(a) + a, inner(a) = relu(a); `node:output_arg:index` names resolve
    // through the OpDefs (Relu's `activations`, AddV2's `z`) and calls through signatures.
    let inner = function("inner", vec![node("r", "Relu", &["a"], &[("T", a_type(F32))])], "r:activations:0");
    let outer = function(
        "outer",
        vec![
            node("c", "inner", &["a"], &[]),
            node("s", "AddV2", &["c:out:0", "a"], &[("T", a_type(F32))]),
        ],
        "s:z:0",
    );
    let gd = with_library(
        vec![
            placeholder("x", &[2]),
            node("call", "StatefulPartitionedCall", &["x"], &[("f", a_func("outer"))]),
            node("y", "Identity", &["call"], &[("T", a_type(F32))]),
        ],
        vec![inner, outer],
    );
    let g = import(&gd).unwrap();
    let op = |n: &str| g.node(g.find(n).unwrap_or_else(|| panic!("no node {n}"))).op.clone();
    assert_eq!(op("call/c/r"), "Relu");
    assert_eq!(op("call/c"), "IdentityN");
    assert_eq!(op("call/s"), "AddV2");
    assert_eq!(op("call"), "IdentityN");
    let s = g.find("call/s").unwrap();
    let ins: Vec<String> = g.inputs(s).iter().map(|o| g.node(o.node).name.clone()).collect();
    assert_eq!(ins, ["call/c", "x"]);
}

#[test]
fn recursion_and_missing_functions_name_the_function_and_node() {
    let f = function("f", vec![node("again", "f", &["a"], &[])], "again:out:0");
    let gd = with_library(vec![placeholder("x", &[2]), node("call", "PartitionedCall", &["x"], &[("f", a_func("f"))])], vec![f]);
    assert_eq!(
        err_of(&gd),
        "test.pb: node `call/again` calls function `f` recursively (call chain: f -> f); recursion cannot be inlined"
    );
    let gd = with_library(vec![placeholder("x", &[2]), node("call", "PartitionedCall", &["x"], &[("f", a_func("nowhere"))])], vec![]);
    assert_eq!(
        err_of(&gd),
        "test.pb: node `call` (PartitionedCall) calls function `nowhere`, which is not in the FunctionDefLibrary"
    );
    let f = function("g", vec![node("r", "Relu", &["b"], &[("T", a_type(F32))])], "r:activations:0");
    let gd = with_library(vec![placeholder("x", &[2]), node("call", "PartitionedCall", &["x"], &[("f", a_func("g"))])], vec![f]);
    assert_eq!(err_of(&gd), "test.pb: function `g`, node `r`: input `b` names no argument or node of the function");
    let f = function("h", vec![node("r", "Relu", &["a"], &[("T", a_type(F32))])], "r:output:0");
    let gd = with_library(vec![placeholder("x", &[2]), node("call", "PartitionedCall", &["x"], &[("f", a_func("h"))])], vec![f]);
    assert_eq!(err_of(&gd), "test.pb: function `h`, node `ret`: input `r:output:0`: Relu has no output argument `output`");
}

fn types(t: &[i32]) -> AttrValue {
    AttrValue { value: Some(Value::List(Box::new(mlrewrite::proto::tensorflow::attr_value::ListValue { r#type: t.to_vec(), ..Default::default() }))) }
}

#[test]
fn an_if_with_a_side_effect_in_a_branch_is_kept_for_a_branch_layer() {
    // Selects would run both branches, so the `If` stays one node, marked with the reason
    // (`ir::cond_choice`), for `rewrite::branches` to convert into a `branch` layer.
    let pure = function("pure", vec![node("r", "Relu", &["a"], &[("T", a_type(F32))])], "r:activations:0");
    let noisy = function("noisy", vec![node("p", "Print", &["a"], &[("T", a_type(F32))])], "p:output:0");
    let gd = with_library(
        vec![
            placeholder("x", &[2]),
            node("p", "Placeholder", &[], &[("dtype", a_type(10))]),
            node(
                "cond",
                "If",
                &["p", "x"],
                &[
                    ("then_branch", a_func("pure")),
                    ("else_branch", a_func("noisy")),
                    ("Tcond", a_type(10)),
                    ("Tin", types(&[F32])),
                    ("Tout", types(&[F32])),
                ],
            ),
        ],
        vec![pure, noisy],
    );
    let g = import(&gd).unwrap_or_else(|e| panic!("{e}"));
    let cond = g.node(g.find("cond").unwrap());
    assert_eq!(cond.op, "If");
    match cond.attr(mlrewrite::ir::cond_choice::BRANCH_ATTR) {
        Some(mlrewrite::ir::Attr::S(why)) => {
            assert_eq!(String::from_utf8_lossy(why), "a branch has a side effect (node `p`, Print)")
        }
        other => panic!("no branch marker: {other:?}"),
    }
    assert!(g.find("cond/then/r").is_none() && g.find("cond/select_0").is_none(), "the branches were inlined");
}

#[test]
fn wrong_attr_kind_and_unknown_dtype_are_errors() {
    let gd = graph(vec![node("x", "Placeholder", &[], &[("dtype", a_int(1))])]);
    assert_eq!(err_of(&gd), "test.pb: node `x` (Placeholder): attribute `dtype` should be type, found int");
    let gd = graph(vec![node("x", "Placeholder", &[], &[("dtype", a_type(11))])]);
    assert_eq!(err_of(&gd), "test.pb: node `x` (Placeholder): attribute `dtype`: unknown dtype 11 (DataType number)");
    let gd = graph(vec![node("x", "Placeholder", &[], &[])]);
    assert_eq!(err_of(&gd), "test.pb: node `x` (Placeholder): required attribute `dtype` is missing");
}

#[test]
fn duplicate_names_and_input_counts_are_checked() {
    let gd = graph(vec![placeholder("x", &[1]), placeholder("x", &[1])]);
    assert_eq!(err_of(&gd), "test.pb: two nodes are named `x`");
    let gd = graph(vec![placeholder("x", &[1]), node("y", "AddV2", &["x"], &[("T", a_type(F32))])]);
    assert_eq!(err_of(&gd), "test.pb: node `y` (AddV2) has 1 data inputs, its OpDef wants 2");
    let gd = graph(vec![placeholder("x", &[1]), node("n", "NoOp", &[], &[]), node("y", "Identity", &["^n", "x"], &[("T", a_type(F32))])]);
    assert_eq!(err_of(&gd), "test.pb: node `y`: data input `x` comes after a control input");
}

#[test]
fn truncated_and_foreign_files_are_errors_naming_the_file() {
    let gd = graph(vec![placeholder("input", &[1, 3]), const_f32("w", &[3], &[1.0, 2.0, 3.0])]);
    let bytes = gd.encode_to_vec();
    let e = import_bytes(bytes[..bytes.len() - 3].to_vec().into(), Path::new("cut.pb")).unwrap_err();
    assert!(matches!(e, ImportError::Decode { .. }), "{e}");
    assert!(e.to_string().starts_with("cut.pb is not a TensorFlow GraphDef"), "{e}");
    let e = import_bytes(b"not a graph at all".to_vec().into(), Path::new("notes.txt")).unwrap_err();
    assert!(e.to_string().starts_with("notes.txt"), "{e}");
    let e = import_file(Path::new("/nonexistent/model.pb")).unwrap_err();
    assert!(e.to_string().starts_with("cannot read /nonexistent/model.pb"), "{e}");
}

#[test]
fn placeholder_shape_attr_is_typed() {
    let gd = graph(vec![placeholder("x", &[-1, 3])]);
    let g = import(&gd).unwrap();
    let s = g.node(g.find("x").unwrap()).get_attr_shape("shape").unwrap().clone();
    assert_eq!(s.to_string(), "[?, 3]");
    assert_eq!(s, Shape::from_proto(&shape_proto(&[-1, 3])));
}

/// A cond whose branch holds the same cond: directly, the flattener sees the function on its
/// call chain; through another function (f's cond runs g, g's runs f), each `If` is kept for a
/// `branch` layer (the other branch has a side effect), so the recursion only shows as ever
/// deeper region conversions, which stop with an error naming the conds instead of
/// overflowing the stack.
#[test]
fn a_cond_holding_itself_is_an_error_not_a_stack_overflow() {
    let cond = |name: &str, input: &str, then: &str| {
        node(
            name,
            "If",
            &[&format!("{name}_p"), input],
            &[
                ("then_branch", a_func(then)),
                ("else_branch", a_func("noisy")),
                ("Tcond", a_type(10)),
                ("Tin", types(&[F32])),
                ("Tout", types(&[F32])),
            ],
        )
    };
    let calling = |f: &str, then: &str| {
        function(f, vec![node("inner_p", "IsNan", &["a"], &[("T", a_type(F32))]), cond("inner", "a", then)], "inner:output:0")
    };
    let noisy = function("noisy", vec![node("p", "Print", &["a"], &[("T", a_type(F32)), ("U", types(&[]))])], "p:output:0");
    let rules = mlrewrite::rules::load::RuleSet::load(&mlrewrite::rules::load::LoadOptions::default()).unwrap().compile().unwrap();
    let convert_err = |functions: Vec<FunctionDef>| {
        let gd = with_library(
            vec![placeholder("x", &[]), node("top_p", "IsNan", &["x"], &[("T", a_type(F32))]), cond("top", "x", "f")],
            functions,
        );
        let mut g = import(&gd).unwrap_or_else(|e| panic!("{e}"));
        mlrewrite::ir::infer(&mut g, &rules.shapes).unwrap();
        mlrewrite::rewrite::convert(&g, &rules, &Default::default()).err().expect("converted a recursive cond").to_string()
    };
    let e = convert_err(vec![calling("f", "f"), noisy.clone()]);
    assert_eq!(e, "cond `top` (If): node `top/then/inner` calls function `f` recursively (call chain: f -> f); recursion cannot be inlined");
    let e = convert_err(vec![calling("f", "g"), calling("g", "f"), noisy]);
    assert!(e.starts_with("cond `top` (If): then branch: cond `top/then/inner` (If): then branch: "), "{e}");
    assert!(e.contains("control flow nested more than 32 deep"), "{e}");
}
