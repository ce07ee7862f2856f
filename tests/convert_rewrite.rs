//! The rewrite half of `mlrewrite convert` on real graphs: seeding, saturation, extraction and
//! the `TermDag` handed to lowering (outputs, probes, origins), the unsupported-op listing, the
//! saturation budgets, overrides and determinism. End-to-end checks through the interpreter are
//! in `tests/convert.rs`.

use mlrewrite::ir::{self, Graph, ShapeRegistry};
use mlrewrite::rewrite::lang::Node;
use mlrewrite::rewrite::pipeline::{ConvertError, Unsupported};
use mlrewrite::rewrite::term::TermDag;
use mlrewrite::rewrite::{convert, ConvertOptions, Limits, StopReason};
use mlrewrite::rules::load::{Compiled, LoadOptions, RuleSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("{name}.pb"))
}

fn load(path: &Path) -> Graph {
    ir::load(path, &ShapeRegistry::tensorflow()).unwrap().0
}

fn std_rules() -> Compiled {
    RuleSet::load(&LoadOptions::default()).unwrap().compile().unwrap()
}

/// The `probes` of a fixture's metadata: inner tensors the tests also compare.
fn probes(pb: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(pb.with_extension("json")).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&text).unwrap();
    meta["probes"].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Fixtures the standard rules convert completely.
const CONVERTED: &[&str] = &[
    "concat",
    "conv2d_variants",
    "conv_bn_relu6",
    "gap_dense_softmax",
    "gelu",
    "hard_swish_sigmoid",
    "matrix_det",
    "pooling",
    "reductions",
    "residual_add",
    "se_block",
    "separable_conv",
    "layer_norm",
    "matmul",
    "topk",
];

fn assert_lowerable(name: &str, dag: &TermDag) {
    for (i, t) in dag.nodes.iter().enumerate() {
        assert!(!matches!(t.node, Node::Tf { .. }), "{name}: term {i} is a TF op: {}", t.node);
        for c in egg::Language::children(&t.node) {
            assert!(usize::from(*c) < i, "{name}: term {i} uses a later term");
        }
    }
}

#[test]
fn fixtures_convert_to_layers_with_and_without_probes() {
    let rules = std_rules();
    for name in CONVERTED {
        let path = fixture(name);
        let g = load(&path);
        let n_outputs = g.outputs_of_graph().iter().map(|&id| g.node(id).outputs.len()).sum::<usize>();
        let (dag, stats) = convert(&g, &rules, &ConvertOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_lowerable(name, &dag);
        assert_eq!(dag.outputs.len(), n_outputs, "{name}");
        assert_eq!(dag.inputs.len(), g.inputs_of_graph().len(), "{name}");
        assert_eq!(stats.saturation.stop, StopReason::Saturated, "{name}");

        let probes = probes(&path);
        let options = ConvertOptions { outputs: probes.clone(), ..Default::default() };
        let (dag, _) = convert(&g, &rules, &options).unwrap_or_else(|e| panic!("{name} with probes: {e}"));
        assert_lowerable(name, &dag);
        for p in &probes {
            let want = p.strip_suffix(":0").unwrap_or(p);
            let out = dag.outputs.iter().find(|o| o.name == want).unwrap_or_else(|| panic!("{name}: probe {p} is not an output"));
            // The probe is the TF tensor itself: TF's shape (NHWC for convolutions).
            let id = g.find(want).unwrap();
            assert_eq!(out.shape, g.node(id).outputs[0].shape, "{name}: {p}");
        }
    }
}

#[test]
fn terms_carry_their_tf_origin() {
    let g = load(&fixture("conv_bn_relu6"));
    let (dag, _) = convert(&g, &std_rules(), &ConvertOptions::default()).unwrap();
    // Every TF-side value keeps the name of the TF node it stands for; layers a rule inserts
    // in between (the convolution inside its transposes) have none.
    for out in &dag.outputs {
        assert!(dag.nodes[out.term].origin.is_some(), "output {} has no origin", out.name);
    }
    let relu6 = dag.nodes.iter().find(|t| matches!(&t.node, Node::Nn { kind, .. } if &**kind == "clip")).expect("relu6 as a clip");
    assert!(relu6.origin.as_deref().is_some_and(|o| o.contains("Relu6") || o.starts_with("Identity")), "{:?}", relu6.origin);
    let input = &dag.inputs[0];
    assert_eq!(dag.nodes[input.term].origin.as_deref(), Some(input.name.as_str()));
}

#[test]
fn an_unsupported_op_is_listed_with_its_nodes_and_what_to_do() {
    let g = load(&fixture("unsupported_lgamma"));
    let err = convert(&g, &std_rules(), &ConvertOptions::default()).unwrap_err();
    let ConvertError::Unsupported(Unsupported { ops, stopped_early }) = &err else { panic!("{err}") };
    assert_eq!(ops.keys().collect::<Vec<_>>(), ["Lgamma"]);
    assert_eq!(ops["Lgamma"], ["Lgamma"]);
    assert_eq!(*stopped_early, None);
    let msg = err.to_string();
    assert!(msg.contains("--rules") && msg.contains("custom") && msg.contains("mlrewrite explain"), "{msg}");
}

#[test]
fn every_unsupported_op_is_listed_at_once() {
    // Only the Identity rule: the standard library converts every op of this fixture.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("identity.rules"), "rule identity:\n    Identity(x) => x\n").unwrap();
    let only_identity = RuleSet::load(&LoadOptions { user: vec![dir.path().to_path_buf()], no_std: true }).unwrap().compile().unwrap();
    let g = load(&fixture("gather_slice_split"));
    let err = convert(&g, &only_identity, &ConvertOptions::default()).unwrap_err();
    let ConvertError::Unsupported(u) = &err else { panic!("{err}") };
    assert!(u.ops.len() >= 2, "{err}");
    assert!(!u.ops.contains_key("Identity"), "Identity nodes merged with their input are not to blame: {err}");
}

#[test]
fn saturation_budgets_give_a_report_not_a_crash() {
    let g = load(&fixture("conv_bn_relu6"));
    let rules = std_rules();
    let one = ConvertOptions { limits: Limits { iterations: 1, ..Limits::default() }, ..Default::default() };
    match convert(&g, &rules, &one) {
        Ok((_, stats)) => assert_eq!(stats.saturation.stop, StopReason::IterationLimit(1)),
        Err(ConvertError::Unsupported(u)) => assert_eq!(u.stopped_early, Some(StopReason::IterationLimit(1))),
        Err(e) => panic!("{e}"),
    }
    let tiny = ConvertOptions { limits: Limits { nodes: 5, ..Limits::default() }, ..Default::default() };
    match convert(&g, &rules, &tiny) {
        Ok((_, stats)) => assert_eq!(stats.saturation.stop, StopReason::NodeLimit(5)),
        Err(ConvertError::Unsupported(u)) => assert_eq!(u.stopped_early, Some(StopReason::NodeLimit(5))),
        Err(e) => panic!("{e}"),
    }
    let no_time = ConvertOptions { limits: Limits { time: Duration::ZERO, ..Limits::default() }, ..Default::default() };
    match convert(&g, &rules, &no_time) {
        Ok((_, stats)) => assert!(matches!(stats.saturation.stop, StopReason::TimeLimit(_))),
        Err(ConvertError::Unsupported(u)) => assert!(matches!(u.stopped_early, Some(StopReason::TimeLimit(_)))),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn unknown_output_tensors_are_named() {
    let g = load(&fixture("conv_bn_relu6"));
    let options = ConvertOptions { outputs: vec!["Conv2E".into()], ..Default::default() };
    let err = convert(&g, &std_rules(), &options).unwrap_err();
    assert_eq!(err.to_string(), "--outputs: no tensor `Conv2E` in the graph (did you mean `Conv2D`?)");
    let options = ConvertOptions { outputs: vec!["Conv2D:3".into()], ..Default::default() };
    let err = convert(&g, &std_rules(), &options).unwrap_err();
    assert!(err.to_string().contains("has 1 output(s)"), "{err}");
}

#[test]
fn an_override_registration_forces_its_custom_layer() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("topk.rules"),
        r#"
custom CustomTopK override:
    TopKV2(x, k) { sorted = s }
    where is_const(k)
    class_name = "CustomTopK"
    input_order = [x]
    parameters { k: int = int_value(k), axis: int = -1, sorted: bool = s }
    description = "Top K Custom layer"
    outputs = [float32, int32]
"#,
    )
    .unwrap();
    let rules = RuleSet::load(&LoadOptions { user: vec![dir.path().to_path_buf()], no_std: false }).unwrap().compile().unwrap();
    let g = load(&fixture("topk"));
    let (dag, _) = convert(&g, &rules, &ConvertOptions::default()).unwrap();
    let kinds: Vec<String> = dag.nodes.iter().map(|t| t.node.to_string()).collect();
    assert!(kinds.iter().any(|k| k == "custom CustomTopK"), "{kinds:?}");
    assert!(!kinds.iter().any(|k| k == "topK"), "{kinds:?}");
    // Without the override the built-in layer wins.
    let (dag, _) = convert(&g, &std_rules(), &ConvertOptions::default()).unwrap();
    assert!(dag.nodes.iter().any(|t| t.node.to_string() == "topK"));
}

#[test]
fn converting_twice_gives_the_same_program() {
    let rules = std_rules();
    for name in ["se_block", "hard_swish_sigmoid", "gelu"] {
        let g = load(&fixture(name));
        let a = convert(&g, &rules, &ConvertOptions::default()).unwrap().0;
        let b = convert(&g, &rules, &ConvertOptions::default()).unwrap().0;
        assert_eq!(format!("{:?}", a.nodes), format!("{:?}", b.nodes), "{name}");
    }
}
