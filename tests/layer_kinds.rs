//! Every layer kind of Core ML's `NeuralNetworkLayer.layer` oneof is known to the rule
//! language: `mlrewrite rules layers` lists them with their parameters (snapshot), each case is
//! a kind of `rules::layers` (lowering is checked by `lower::layers`'
//! `every_oneof_case_is_lowered_from_a_registry_kind`), the interpreter runs it, and a fixture
//! checks it: a model of `tests/fixtures/layers` (run against numpy/TensorFlow references by
//! `tests/run_layers.rs`) or an op fixture whose conversion emits it (checked against
//! TensorFlow by `tests/ops.rs`).

use mlrewrite::proto::coreml::{model, neural_network_layer::Layer, Model, NeuralNetworkLayer};
use mlrewrite::rules::layers::{case_kinds, spec_cases, CONTROL_FLOW};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Oneof cases no model of `tests/fixtures/layers` holds, with the op fixture
/// (`tests/fixtures/ops/NAME`) whose conversion emits them.
const OP_FIXTURE_CASES: &[(&str, &str)] = &[
    ("scatterND", "tensor_scatter_update_rows"),
    ("randomNormalStatic", "random_normal_static"),
    ("randomNormalDynamic", "random_normal_dynamic"),
    ("randomUniformStatic", "random_uniform_static"),
    ("randomUniformDynamic", "random_uniform_dynamic"),
    ("categoricalDistribution", "multinomial"),
    ("whereNonZero", "where_float_rank3"),
];

/// Oneof cases that no fixture checks (none: a case added to the spec, or a fixture removed,
/// shows up here).
const WITHOUT_FIXTURE: &[&str] = &[];

fn kinds(layers: &[NeuralNetworkLayer], out: &mut BTreeSet<&'static str>) {
    for l in layers {
        let Some(kind) = &l.layer else { continue };
        out.insert(mlrewrite::run::layer_kind(kind));
        match kind {
            Layer::Branch(b) => b.if_branch.iter().chain(&b.else_branch).for_each(|n| kinds(&n.layers, out)),
            Layer::Loop(p) => p.condition_network.iter().chain(&p.body_network).for_each(|n| kinds(&n.layers, out)),
            _ => {}
        }
    }
}

fn model_kinds(m: &Model) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    match &m.r#type {
        Some(model::Type::NeuralNetwork(n)) => kinds(&n.layers, &mut out),
        Some(model::Type::NeuralNetworkClassifier(n)) => kinds(&n.layers, &mut out),
        Some(model::Type::NeuralNetworkRegressor(n)) => kinds(&n.layers, &mut out),
        _ => {}
    }
    out
}

#[test]
fn rules_layers_lists_every_case_with_its_parameters() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_mlrewrite")).args(["rules", "layers"]).output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    for case in spec_cases() {
        assert!(text.contains(&format!("\n{case}: ")), "`{case}` is not listed");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn every_oneof_case_is_registered_and_checked_on_a_fixture() {
    let mut covered = BTreeSet::new();
    let dir = root().join("tests/fixtures/layers");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "mlmodel") {
            let m = mlrewrite::lower::mlmodel::read_model(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            covered.extend(model_kinds(&m));
        }
    }
    let mut by_op_fixture = vec![];
    let mut without = vec![];
    for case in spec_cases() {
        let registered = !case_kinds(case).is_empty() || CONTROL_FLOW.contains(&case) || case == "custom";
        assert!(registered, "`{case}` is not a layer kind of rules::layers");
        if covered.contains(case) {
            continue;
        }
        match OP_FIXTURE_CASES.iter().find(|(c, _)| *c == case) {
            Some((_, fixture)) => by_op_fixture.push((case, *fixture)),
            None => without.push(case),
        }
    }
    assert_eq!(without, WITHOUT_FIXTURE, "cases without a fixture (add one to tests/fixtures/layers, or name the op fixture emitting it)");
    let set = mlrewrite::rules::RuleSet::load(&Default::default()).unwrap();
    let rules = set.compile().unwrap();
    for (case, fixture) in by_op_fixture {
        let pb = root().join("tests/fixtures/ops").join(format!("{fixture}.pb"));
        let (graph, _) = mlrewrite::ir::load(&pb, &rules.shapes).unwrap_or_else(|e| panic!("{fixture}: {e}"));
        let (dag, _) = mlrewrite::rewrite::convert(&graph, &rules, &Default::default()).unwrap_or_else(|e| panic!("{fixture}: {e}"));
        let m = mlrewrite::lower::lower(&dag, &mlrewrite::lower::LowerOptions::default().with_compiled(&rules)).unwrap();
        assert!(model_kinds(&m).contains(case), "op fixture {fixture} does not emit `{case}`: {:?}", model_kinds(&m));
    }
}
