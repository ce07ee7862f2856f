//! `mlrewrite explain` on the project's fixtures and on small graphs built here: a custom layer
//! as the last resort (determinant of unknown size), a custom layer forced by an override
//! (TopKV2 with `tests/fixtures/rules/custom_topk`), near misses (hard swish with 4.0 where the
//! rule wants 3.0; TopKV2 with k larger than the last dimension), and an op nothing converts
//! (`unsupported_lgamma`). Text and JSON are snapshots; the checks below them pin the facts
//! the snapshots must show, and that explain agrees with `convert`.

mod common;

use common::*;
use mlrewrite::explain::report::{FailureStage, OutcomeKind, RegistrationStatus, RuleStatus};
use mlrewrite::explain::{self, ExplainOptions, Report, Selection};
use mlrewrite::ir::{self, Graph, ShapeRegistry};
use mlrewrite::proto::tensorflow::{attr_value, AttrValue, GraphDef, TensorShapeProto};
use mlrewrite::rewrite::lang::Node;
use mlrewrite::rewrite::pipeline::ConvertError;
use mlrewrite::rewrite::{convert, ConvertOptions};
use mlrewrite::rules::load::{LoadOptions, RuleSet};
use prost::Message;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(format!("{name}.pb"))
}

fn load(path: &Path) -> Graph {
    ir::load(path, &ShapeRegistry::tensorflow()).unwrap().0
}

/// Writes a built GraphDef to a temporary file and imports it.
fn import(g: &GraphDef) -> Graph {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.pb");
    std::fs::write(&path, g.encode_to_vec()).unwrap();
    load(&path)
}

fn rules(user: &[&str]) -> RuleSet {
    RuleSet::load(&LoadOptions { user: user.iter().map(|u| root().join(u)).collect(), no_std: false }).unwrap()
}

fn run(graph: &Graph, model: &str, user: &[&str], selection: Selection) -> Report {
    let set = rules(user);
    let compiled = set.compile().unwrap();
    explain::explain(graph, model, &set, &compiled, &ExplainOptions { selection, convert: ConvertOptions::default() }).unwrap()
}

fn t_float() -> (&'static str, AttrValue) {
    ("T", a_type(F32))
}

/// A float placeholder of unknown rank.
fn placeholder_unknown(name: &str) -> mlrewrite::proto::tensorflow::NodeDef {
    let shape = TensorShapeProto { dim: vec![], unknown_rank: true };
    node(name, "Placeholder", &[], &[("dtype", a_type(F32)), ("shape", AttrValue { value: Some(attr_value::Value::Shape(shape)) })])
}

/// `x * Relu6(x + c) / 6` with `c` given: hard swish when c = 3.
fn hard_swish_graph(c: f32) -> GraphDef {
    graph(vec![
        placeholder("x", &[1, 4]),
        const_f32("c", &[], &[c]),
        node("add", "AddV2", &["x", "c"], &[t_float()]),
        node("relu6", "Relu6", &["add"], &[t_float()]),
        node("mul", "Mul", &["x", "relu6"], &[t_float()]),
        const_f32("six", &[], &[6.0]),
        node("div", "RealDiv", &["mul", "six"], &[t_float()]),
    ])
}

fn topk_graph(x_shape: &[i64], k: i32) -> GraphDef {
    graph(vec![
        placeholder("x", x_shape),
        const_i32("k", &[], &[k]),
        node("topk", "TopKV2", &["x", "k"], &[t_float(), ("sorted", a_bool(true))]),
    ])
}

#[test]
fn determinant_of_unknown_size_is_a_custom_layer_as_last_resort() {
    let g = import(&graph(vec![placeholder_unknown("m"), node("det", "MatrixDeterminant", &["m"], &[t_float()])]));
    let r = run(&g, "det_dynamic.pb", &[], Selection::CustomLayers);
    insta::assert_snapshot!("det_dynamic_text", explain::text::render(&r));
    assert_eq!(r.nodes.len(), 1);
    let n = &r.nodes[0];
    assert_eq!((n.name.as_str(), n.outcome.kind), ("det", OutcomeKind::CustomLayer));
    let reg = n.registration.as_ref().unwrap();
    assert_eq!(reg.status, RegistrationStatus::LastResort);
    assert_eq!(reg.location.as_ref().map(|l| l.file.as_str()), Some("rules/custom.rules"));
    // A composite rooted at MatrixDeterminant (static N only) may exist; it cannot fire here.
    assert!(n.rules.iter().filter(|r| r.kind == mlrewrite::explain::report::RuleKind::Rule).all(|r| r.status != RuleStatus::Fired));
}

#[test]
fn topk_with_override_rule_is_forced_and_builtin_is_off() {
    let g = load(&fixture("topk"));
    let r = run(&g, "topk.pb", &["tests/fixtures/rules/custom_topk"], Selection::CustomLayers);
    insta::assert_snapshot!("topk_override_text", explain::text::render(&r));
    insta::assert_snapshot!("topk_override_json", explain::to_json(&r));
    let n = &r.nodes[0];
    assert_eq!(n.registration.as_ref().unwrap().status, RegistrationStatus::Override);
    let builtin = n.rules.iter().find(|r| r.name == "topk_builtin").unwrap();
    assert_eq!(builtin.status, RuleStatus::DisabledByOverride);
    assert!(builtin.note.as_deref().unwrap().contains("it matches this node"));
}

#[test]
fn hard_swish_with_four_is_a_near_miss_on_one_guard() {
    let g = import(&hard_swish_graph(4.0));
    let r = run(&g, "hard_swish_4.pb", &[], Selection::Node("div".into()));
    insta::assert_snapshot!("hard_swish_near_miss_text", explain::text::render(&r));
    // docs/explain.md shows this very output; it must not drift.
    let docs = std::fs::read_to_string(root().join("docs/explain.md")).unwrap();
    assert!(docs.contains(&explain::text::render(&r)), "update the example in docs/explain.md");
    let n = &r.nodes[0];
    let first = &n.rules[0];
    assert_eq!((first.name.as_str(), first.status), ("hard_swish", RuleStatus::NearMiss));
    let f = first.failure.as_ref().unwrap();
    assert_eq!(f.stage, FailureStage::Guard);
    assert_eq!(f.guard.as_deref(), Some("is_const(three) and float_value(three) == 3.0"));
    // Computed by hand: the constant is 4.0 where the rule wants 3.0.
    assert!(f.detail.as_deref().unwrap().contains("float_value(three) = 4.0"), "{f:?}");
    assert_eq!((f.at.file.as_str(), f.at.line), ("rules/activations.rules", 59));
    // The plain division still converts it.
    assert_eq!(n.outcome.kind, OutcomeKind::Composite);
    assert!(n.rules.iter().any(|r| r.name == "real_div" && r.status == RuleStatus::Fired));

    // With 3.0 the same rule fires and is what extraction takes.
    let g = import(&hard_swish_graph(3.0));
    let r = run(&g, "hard_swish_3.pb", &[], Selection::Node("div".into()));
    let hs = r.nodes[0].rules.iter().find(|r| r.name == "hard_swish").unwrap();
    assert_eq!(hs.status, RuleStatus::Fired);
    assert!(hs.note.as_deref().unwrap().contains("extracted"), "{hs:?}");
}

#[test]
fn topk_on_an_unknown_last_dimension_fails_on_a_shape_guard() {
    let g = import(&topk_graph(&[2, -1], 3));
    let r = run(&g, "topk_dynamic.pb", &[], Selection::Op("TopKV2".into()));
    insta::assert_snapshot!("topk_dynamic_text", explain::text::render(&r));
    let n = &r.nodes[0];
    assert_eq!(n.outcome.kind, OutcomeKind::Unconverted);
    let rule = n.rules.iter().find(|r| r.name == "topk_builtin").unwrap();
    let f = rule.failure.as_ref().unwrap();
    assert_eq!((f.stage, f.guard.as_deref()), (FailureStage::Guard, Some("known_dim(x, -1)")));
    // The run-time k rule needs a k that is not a constant.
    let dynamic = n.rules.iter().find(|r| r.name == "topk_dynamic_k").unwrap();
    assert_eq!(dynamic.failure.as_ref().unwrap().guard.as_deref(), Some("not is_const(k)"));
    // Without that guard the next one (`int_value(k) <= dim(x, -1)`) cannot be evaluated
    // either: two guards stand in the way, so this is not a near miss.
    assert_eq!(rule.status, RuleStatus::Failed);
    assert_eq!(n.registration.as_ref().unwrap().status, RegistrationStatus::None);
}

#[test]
fn a_rule_saturation_had_no_time_for_is_reported_as_not_run() {
    let g = import(&hard_swish_graph(3.0));
    let set = rules(&[]);
    let compiled = set.compile().unwrap();
    let limits = mlrewrite::rewrite::Limits { iterations: 0, ..Default::default() };
    let convert = ConvertOptions { limits, ..Default::default() };
    let r = explain::explain(&g, "hard_swish_3.pb", &set, &compiled, &ExplainOptions { selection: Selection::Node("div".into()), convert }).unwrap();
    assert!(r.saturation.limit_hit, "{:?}", r.saturation);
    let hs = r.nodes[0].rules.iter().find(|r| r.name == "hard_swish").unwrap();
    assert_eq!(hs.status, RuleStatus::NotRun);
    assert!(explain::text::render(&r).contains("saturation stopped early"));
}

/// Every field of the JSON reports appears in the schema of docs/explain.md.
#[test]
fn docs_list_every_json_field() {
    fn keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.insert(k.clone());
                keys(v, out)
            }),
            serde_json::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let docs = std::fs::read_to_string(root().join("docs/explain.md")).unwrap();
    let mut all = BTreeSet::new();
    let g = import(&hard_swish_graph(4.0));
    for r in [
        run(&g, "m.pb", &[], Selection::Node("div".into())),
        run(&load(&fixture("topk")), "topk.pb", &["tests/fixtures/rules/custom_topk"], Selection::CustomLayers),
        run(&load(&fixture("unsupported_lgamma")), "l.pb", &[], Selection::CustomLayers),
    ] {
        keys(&serde_json::to_value(&r).unwrap(), &mut all);
    }
    for k in all {
        // As a table entry: `version`, `nodes[].inputs[]`, `.op`, `{tensor, dtype}`.
        let documented = ["`", ".", "{", ", "].iter().any(|pre| ["`", "[", ",", "}", "."].iter().any(|post| docs.contains(&format!("{pre}{k}{post}"))));
        assert!(documented, "docs/explain.md does not document `{k}`");
    }
}

#[test]
fn lgamma_has_no_rule_and_no_registration() {
    let g = load(&fixture("unsupported_lgamma"));
    let r = run(&g, "unsupported_lgamma.pb", &[], Selection::CustomLayers);
    insta::assert_snapshot!("lgamma_text", explain::text::render(&r));
    insta::assert_snapshot!("lgamma_json", explain::to_json(&r));
    assert_eq!(r.nodes.len(), 1);
    let n = &r.nodes[0];
    assert!(n.rules.is_empty());
    let help = n.registration.as_ref().unwrap().help.as_deref().unwrap();
    assert!(help.contains("custom Lgamma:") && help.contains("Lgamma(x)"), "{help}");
}

/// An override wins inside another rule's pattern: hard_swish would absorb the Relu6 of
/// `x * relu6(x + 3) / 6`, so the override switches it off, `convert` keeps the custom layer,
/// and explain lists hard_swish as switched off by it.
#[test]
fn an_override_wins_inside_a_multi_op_pattern() {
    let user = ["tests/fixtures/rules/custom_relu6"];
    let g = import(&hard_swish_graph(3.0));
    let set = rules(&user);
    let compiled = set.compile().unwrap();
    assert!(compiled.disabled_by_override.iter().any(|r| r == "hard_swish"), "{:?}", compiled.disabled_by_override);
    let (dag, _) = convert(&g, &compiled, &ConvertOptions::default()).unwrap();
    let customs: Vec<_> = dag.nodes.iter().filter(|t| matches!(t.node, Node::Custom { .. })).filter_map(|t| t.origin.clone()).collect();
    assert_eq!(customs, vec!["relu6".to_string()]);
    let r = run(&g, "hard_swish.pb", &user, Selection::CustomLayers);
    let n = &r.nodes[0];
    assert_eq!((n.name.as_str(), n.registration.as_ref().unwrap().status), ("relu6", RegistrationStatus::Override));
    let hs = n.rules.iter().find(|r| r.name == "hard_swish").expect("hard_swish listed on the Relu6 node");
    assert_eq!(hs.status, RuleStatus::DisabledByOverride);
    let note = hs.note.as_deref().unwrap();
    assert!(note.contains("override registration `CustomRelu6`") && note.contains("rooted at RealDiv"), "{note}");
}

/// The nodes explain lists are exactly those `convert` turns into custom layers, or blames
/// as unconverted: the two read the same e-graph.
#[test]
fn explain_agrees_with_convert() {
    for (name, user) in [
        ("matrix_det", vec![]),
        ("topk", vec!["tests/fixtures/rules/custom_topk"]),
        ("topk", vec![]),
        ("unsupported_lgamma", vec![]),
        ("hard_swish_sigmoid", vec!["tests/fixtures/rules/custom_relu6"]),
        ("custom_dilation_reshape", vec!["tests/fixtures/rules/custom_dilation"]),
    ] {
        let g = load(&fixture(name));
        let set = rules(&user);
        let compiled = set.compile().unwrap();
        let report = run(&g, name, &user, Selection::CustomLayers);
        let explained: BTreeSet<String> = report.nodes.iter().map(|n| n.name.clone()).collect();
        let converted: BTreeSet<String> = match convert(&g, &compiled, &ConvertOptions::default()) {
            Ok((dag, _)) => dag.nodes.iter().filter(|t| matches!(t.node, Node::Custom { .. })).flat_map(|t| t.replaces.clone()).collect(),
            Err(ConvertError::Unsupported(u)) => u.ops.values().flatten().cloned().collect(),
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(explained, converted, "{name} with {user:?}");
    }
}

/// A node of several outputs is extracted output by output (projections of its class), so
/// explain judges it by those: a Keras LSTM with its states and a BlockLSTM convert, and
/// explain must say so rather than "not converted".
#[test]
fn multi_output_nodes_are_judged_by_their_outputs() {
    for (file, node) in [("keras_lstm_state", "model/lstm/PartitionedCall/while"), ("block_lstm_clipping", "")] {
        let g = load(&root().join(format!("tests/fixtures/ops/{file}.pb")));
        let report = run(&g, file, &[], Selection::CustomLayers);
        assert!(report.nodes.is_empty(), "{file}: {:?}", report.nodes.iter().map(|n| &n.name).collect::<Vec<_>>());
        if !node.is_empty() {
            let r = run(&g, file, &[], Selection::Node(node.into()));
            assert!(matches!(r.nodes[0].outcome.kind, OutcomeKind::Composite), "{file}: {:?}", r.nodes[0].outcome);
        }
    }
}

#[test]
fn selection_errors_name_the_node_or_op() {
    let g = load(&fixture("topk"));
    let set = rules(&[]);
    let compiled = set.compile().unwrap();
    let opts = |selection| ExplainOptions { selection, convert: ConvertOptions::default() };
    let e = explain::explain(&g, "topk.pb", &set, &compiled, &opts(Selection::Node("TopKV".into()))).unwrap_err();
    assert_eq!(e.to_string(), "--node: no node `TopKV` in the graph (did you mean `TopKV2`?)");
    let e = explain::explain(&g, "topk.pb", &set, &compiled, &opts(Selection::Op("TopK".into()))).unwrap_err();
    assert!(e.to_string().starts_with("--op: no node of op `TopK`"), "{e}");
}

#[test]
fn cli_explain_json_and_convert_explain_write_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("topk.mlmodel");
    let exe = env!("CARGO_BIN_EXE_mlrewrite");
    let rules_dir = root().join("tests/fixtures/rules/custom_topk");
    let model = fixture("topk");
    let st = Command::new(exe)
        .current_dir(root())
        .args(["convert", "--explain", "--rules"])
        .arg(&rules_dir)
        .arg(&model)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let written = std::fs::read_to_string(dir.path().join("topk.explain.json")).unwrap();
    let printed = Command::new(exe).current_dir(root()).args(["explain", "--format", "json", "--rules"]).arg(&rules_dir).arg(&model).output().unwrap();
    assert!(printed.status.success());
    assert_eq!(written, String::from_utf8_lossy(&printed.stdout));
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["nodes"][0]["registration"]["status"], "override");
}

/// A failed guard over `let`s shows each let's value, and the node's own output shape is
/// printed under its inputs.
#[test]
fn a_failed_guard_shows_its_lets_and_the_node_its_output_shape() {
    let g = import(&graph(vec![placeholder("x", &[2, 10]), node("relu", "Relu", &["x"], &[t_float()])]));
    let r = run(&g, "relu.pb", &["tests/fixtures/rules/let_guard"], Selection::Node("relu".into()));
    let text = explain::text::render(&r);
    insta::assert_snapshot!("let_guard_text", text);
    let n = &r.nodes[0];
    assert_eq!((n.outputs.len(), n.outputs[0].shape.as_str()), (1, "[2,10]"));
    let rule = n.rules.iter().find(|r| r.name == "relu_small_input").unwrap();
    let f = rule.failure.as_ref().unwrap();
    assert_eq!(f.stage, FailureStage::Guard);
    // n = 2 and c = 10 from the [2, 10] input: 20 > 4.
    assert!(f.detail.as_deref().unwrap().contains("(let n = 2, let c = 10)"), "{f:?}");
}

/// A node inside a loop body (here the inner loop of a TF1 nested `while_loop`, rebuilt into
/// `StatelessWhile`s) is explained in its region's graph, under its `while/body/...` name.
#[test]
fn a_node_inside_a_loop_body_is_explained_in_its_region() {
    let g = load(&root().join("tests/fixtures/ops/tf1_while_nested.pb"));
    for name in ["while/body/add_1", "while/cond/Less", "while/body/while/body/mul"] {
        let r = run(&g, "tf1_while_nested.pb", &[], Selection::Node(name.into()));
        assert_eq!(r.nodes.len(), 1, "{name}");
        assert_eq!(r.nodes[0].name, name);
        assert!(matches!(r.nodes[0].outcome.kind, OutcomeKind::Composite), "{name}: {:?}", r.nodes[0].outcome);
    }
    let set = rules(&[]);
    let compiled = set.compile().unwrap();
    let options = ExplainOptions { selection: Selection::Node("while/body/nope".into()), convert: ConvertOptions::default() };
    let e = explain::explain(&g, "m", &set, &compiled, &options).unwrap_err().to_string();
    assert!(e.contains("no node `while/body/nope`"), "{e}");
}

/// `--op` and the default custom-layer selection look inside loop regions (recursively: the
/// inner loop of a nested `tf.while_loop`) and branch regions, where `convert` converts them.
#[test]
fn op_and_custom_layer_selections_look_inside_loops_and_branches() {
    let g = load(&root().join("tests/fixtures/ops/while_nested.pb"));
    let r = run(&g, "while_nested.pb", &[], Selection::Op("Less".into()));
    let names: Vec<&str> = r.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["while/cond/while/Less", "while/body/while/while/cond/while/while/Less"]);
    let r = run(&g, "while_nested.pb", &["tests/fixtures/rules/custom_mul"], Selection::CustomLayers);
    insta::assert_snapshot!("custom_layer_in_loop_text", explain::text::render(&r));
    assert_eq!(r.nodes.len(), 1);
    assert_eq!(r.nodes[0].name, "while/body/while/while/body/while/while/mul");
    assert!(matches!(r.nodes[0].outcome.kind, OutcomeKind::CustomLayer), "{:?}", r.nodes[0].outcome);

    // Kept conds (`branch` layers): the nodes of both branches, and a node named inside one.
    let g = load(&root().join("tests/fixtures/ops/cond_branch_large.pb"));
    let r = run(&g, "cond_branch_large.pb", &[], Selection::Op("Tanh".into()));
    let names: Vec<&str> = r.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("cond/then/") || n.starts_with("cond/else/")), "{names:?}");
    let r = run(&g, "cond_branch_large.pb", &[], Selection::Node(names[0].into()));
    assert!(matches!(r.nodes[0].outcome.kind, OutcomeKind::Composite), "{:?}", r.nodes[0].outcome);
    let set = rules(&[]);
    let compiled = set.compile().unwrap();
    let options = ExplainOptions { selection: Selection::Op("Lgamma".into()), convert: ConvertOptions::default() };
    let e = explain::explain(&g, "m", &set, &compiled, &options).unwrap_err().to_string();
    assert!(e.contains("no node of op `Lgamma`"), "{e}");
}
