//! Work is bounded by the graph, not by what a rule set or a deep graph can provoke: a chain of
//! 30,000 ops (an ordinary unrolled RNN) converts, and a commutativity-plus-associativity rule
//! set on a 3,000-node graph stops at the default budgets and still converts. Times and memory
//! are goals for `benches/convert.rs` and `convert --stats`, never asserted here; before the
//! fixes these cases took minutes and aborted past 8 GB, which a test run would show.

mod common;

use common::*;
use mlrewrite::ir::{import_graph_def, infer, ShapeRegistry};
use mlrewrite::lower::{self, LowerOptions};
use mlrewrite::proto::tensorflow::GraphDef;
use mlrewrite::rewrite::{convert, ConvertOptions, StopReason};
use mlrewrite::rules::load::Compiled;
use mlrewrite::rules::{LoadOptions, RuleSet};
use std::path::Path;

fn rules(user: Option<&str>) -> Compiled {
    let dir = tempfile::tempdir().unwrap();
    let mut options = LoadOptions::default();
    if let Some(text) = user {
        let file = dir.path().join("user.rules");
        std::fs::write(&file, text).unwrap();
        options.user.push(file);
    }
    RuleSet::load(&options).expect("rules load").compile().expect("rules compile")
}

fn graph_of(gd: &GraphDef) -> mlrewrite::ir::Graph {
    let mut g = import_graph_def(gd, Path::new("g.pb")).expect("imports");
    infer(&mut g, &ShapeRegistry::tensorflow()).expect("infers");
    g
}

#[test]
fn a_chain_of_30000_ops_converts() {
    let n = 30_000;
    let mut nodes = vec![placeholder("x", &[1, 8])];
    for i in 0..n {
        let prev = if i == 0 { "x".to_string() } else { format!("r{}", i - 1) };
        nodes.push(node(&format!("r{i}"), "Relu", &[&prev], &[("T", a_type(F32))]));
    }
    nodes.push(node("out", "Identity", &[&format!("r{}", n - 1)], &[("T", a_type(F32))]));
    let rules = rules(None);
    let (dag, stats) = convert(&graph_of(&graph(nodes)), &rules, &ConvertOptions::default()).expect("converts");
    assert_eq!(stats.saturation.stop, StopReason::Saturated);
    let model = lower::lower(&dag, &LowerOptions::default().with_compiled(&rules)).expect("lowers");
    let Some(mlrewrite::proto::coreml::model::Type::NeuralNetwork(nn)) = &model.r#type else { panic!("not a neural network") };
    assert_eq!(nn.layers.len(), n);
}

#[test]
fn an_exploding_rule_set_stops_at_the_default_budgets_and_still_converts() {
    let ac = "rule add_comm:\n    AddV2(a, b) => AddV2(b, a)\n\nrule add_assoc:\n    AddV2(AddV2(a, b), c) => AddV2(a, AddV2(b, c))\n";
    let n = 3_000;
    let mut nodes: Vec<_> = (0..4).map(|k| placeholder(&format!("x{k}"), &[1, 8])).collect();
    for i in 0..n {
        let prev = if i == 0 { "x0".to_string() } else { format!("a{}", i - 1) };
        nodes.push(node(&format!("a{i}"), "AddV2", &[&prev, &format!("x{}", i % 3 + 1)], &[("T", a_type(F32))]));
    }
    nodes.push(node("out", "Identity", &[&format!("a{}", n - 1)], &[("T", a_type(F32))]));
    let rules = rules(Some(ac));
    let options = ConvertOptions::default();
    let (dag, stats) = convert(&graph_of(&graph(nodes)), &rules, &options).expect("converts within the budgets");
    assert!(stats.saturation.stop.is_limit(), "{:?}", stats.saturation.stop);
    assert!(stats.saturation.nodes <= options.limits.nodes, "{} e-nodes", stats.saturation.nodes);
    lower::lower(&dag, &LowerOptions::default().with_compiled(&rules)).expect("lowers");
}
