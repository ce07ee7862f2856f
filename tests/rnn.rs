//! Keras recurrent layers (issue 13): every Keras LSTM, GRU and SimpleRNN freezes into a
//! `While` over `TensorList`s, which `ir::recurrent` recognises and the rules turn into ONE
//! Core ML recurrent layer per Keras layer. The fixtures (`tools/op_fixtures/keras_rnn.py`,
//! TensorFlow's goldens) are also run by `tests/ops.rs`'s differential test; here each one is
//! converted by the CLI, checked with `mlrewrite run --compare` (rtol 1e-3, atol 1e-4), and its
//! layers are counted: the recurrent layers by kind, no `loop`, and a bound on the total
//! (the layout around the one recurrent layer: transposes, expand/squeeze, reverse, slices).
//! Keras' default GRU (`reset_after=True`) has no Core ML layer form and converts as a `loop`
//! over preallocated lists instead (`LOOP_CASES`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ops").join(format!("{name}.pb"))
}

fn mlrewrite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlrewrite")).args(args).output().expect("mlrewrite runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The `layers: kind n, ...` line of a `convert` summary as (kind, count) pairs.
fn layer_kinds(summary: &str) -> Vec<(String, usize)> {
    let line = summary.lines().find_map(|l| l.trim().strip_prefix("layers: ")).unwrap_or_else(|| panic!("no layer line in\n{summary}"));
    line.split(", ")
        .map(|kv| {
            let (k, n) = kv.rsplit_once(' ').unwrap_or_else(|| panic!("bad layer entry `{kv}`"));
            (k.to_string(), n.parse().unwrap_or_else(|_| panic!("bad count in `{kv}`")))
        })
        .collect()
}

/// Converts fixture `name`, compares it with TensorFlow, and returns its layer kinds.
fn convert_and_compare(name: &str, dir: &Path) -> Vec<(String, usize)> {
    let pb = fixture(name);
    let model = dir.join(format!("{name}.mlmodel"));
    let o = mlrewrite(&["convert", pb.to_str().unwrap(), "-o", model.to_str().unwrap()]);
    assert!(o.status.success(), "{name}: convert failed:\n{}", text(&o));
    let kinds = layer_kinds(&text(&o));
    let npz = pb.with_extension("npz");
    let npz = npz.to_str().unwrap();
    let r = mlrewrite(&["run", model.to_str().unwrap(), "--inputs", npz, "--compare", npz]);
    let t = text(&r);
    assert!(r.status.success() && t.contains("PASS"), "{name}: run --compare failed:\n{t}");
    kinds
}

/// (fixture, recurrent layer kind, how many, at most this many layers in all).
const CASES: &[(&str, &str, usize, usize)] = &[
    ("keras_lstm_last", "uniDirectionalLSTM", 1, 7),
    ("keras_lstm_sequences", "uniDirectionalLSTM", 1, 7),
    ("keras_lstm_state", "uniDirectionalLSTM", 1, 9),
    ("keras_lstm_backwards", "uniDirectionalLSTM", 1, 8),
    ("keras_lstm_long", "uniDirectionalLSTM", 1, 7),
    ("keras_lstm_stacked", "uniDirectionalLSTM", 2, 12),
    ("keras_lstm_time_major", "uniDirectionalLSTM", 1, 5),
    ("keras_lstm_bidirectional", "uniDirectionalLSTM", 2, 14),
    ("keras_lstm_bidirectional_last", "uniDirectionalLSTM", 2, 13),
    ("keras_lstm_bidirectional_attention", "uniDirectionalLSTM", 2, 17),
    ("keras_gru_reset_before", "gru", 1, 7),
    ("keras_gru_reset_before_long", "gru", 1, 7),
    ("keras_gru_backwards", "gru", 1, 9),
    ("keras_simple_rnn_last", "simpleRecurrent", 1, 7),
    ("keras_simple_rnn_sequences", "simpleRecurrent", 1, 8),
    ("keras_simple_rnn_backwards", "simpleRecurrent", 1, 8),
    // Frozen with TF's default lower_control_flow=True: TF1 frames rebuilt by ir::frames.
    ("keras_lstm_state_lowered", "uniDirectionalLSTM", 1, 9),
    ("keras_lstm_bidirectional_lowered", "uniDirectionalLSTM", 2, 13),
    ("keras_lstm_stacked_lowered", "uniDirectionalLSTM", 2, 12),
    ("keras_gru_reset_before_lowered", "gru", 1, 9),
    ("keras_simple_rnn_sequences_lowered", "simpleRecurrent", 1, 8),
];

/// coremltools 8.3's layer counts on the same graphs, nested loop networks included
/// (`tools/coremltools_layers.py --ops`); an entry with `error` is a graph coremltools fails on.
fn coremltools_layers() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ops/coremltools_layers.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn keras_recurrent_layers_become_one_core_ml_layer_each_and_match_tensorflow() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = coremltools_layers();
    let mut wrong = vec![];
    for &(name, kind, count, most) in CASES {
        let kinds = convert_and_compare(name, dir.path());
        let of = |k: &str| kinds.iter().find(|(n, _)| n == k).map_or(0, |(_, c)| *c);
        let total: usize = kinds.iter().map(|(_, c)| c).sum();
        if of(kind) != count || of("loop") != 0 || total > most {
            wrong.push(format!("{name}: {kinds:?} (want {count} {kind}, no loop, at most {most} layers)"));
        }
        let entry = &theirs[name];
        assert!(entry.is_object(), "{name}: no coremltools entry (run tools/coremltools_layers.py --ops {name})");
        if let Some(ct) = entry["layers"].as_u64() {
            if total as u64 > ct {
                wrong.push(format!("{name}: {total} layers, coremltools {ct}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Keras' default GRU (`reset_after=True`) has no Core ML `gru` form (the layer applies the
/// reset gate before the recurrent matmul, Keras after), so `ir::recurrent` leaves its loop to
/// the generic route: one `loop` layer whose body computes the cell and scatters h_t into the
/// preallocated output list (`rules/lists.rules`). No custom layer, TensorFlow's numbers, and
/// no more layers than coremltools, nested networks counted on both sides.
const LOOP_CASES: &[&str] = &[
    "keras_gru_last",
    "keras_gru_sequences",
    "keras_gru_reset_after_backwards",
    "keras_gru_reset_after_lowered",
    "keras_gru_reset_after_sequences_lowered",
    "keras_gru_reset_after_backwards_lowered",
];

/// Layers of a model, those of nested `loop`/`branch` networks included.
fn nested_layer_count(model: &Path) -> usize {
    use mlrewrite::proto::coreml::{model::Type, neural_network_layer::Layer, Model, NeuralNetworkLayer};
    use prost::Message;
    fn count(layers: &[NeuralNetworkLayer]) -> usize {
        layers
            .iter()
            .map(|l| {
                1 + match &l.layer {
                    Some(Layer::Loop(p)) => p.condition_network.iter().chain(&p.body_network).map(|n| count(&n.layers)).sum(),
                    Some(Layer::Branch(p)) => p.if_branch.iter().chain(&p.else_branch).map(|n| count(&n.layers)).sum(),
                    _ => 0,
                }
            })
            .sum()
    }
    let m = Model::decode(std::fs::read(model).unwrap().as_slice()).unwrap();
    match m.r#type {
        Some(Type::NeuralNetwork(nn)) => count(&nn.layers),
        other => panic!("not a neural network: {other:?}"),
    }
}

#[test]
fn a_reset_after_gru_converts_as_a_loop_over_preallocated_lists() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = coremltools_layers();
    let mut wrong = vec![];
    for &name in LOOP_CASES {
        let kinds = convert_and_compare(name, dir.path());
        let of = |k: &str| kinds.iter().find(|(n, _)| n == k).map_or(0, |(_, c)| *c);
        if of("loop") != 1 || of("custom") != 0 || of("gru") != 0 {
            wrong.push(format!("{name}: {kinds:?} (want one loop, no gru, no custom layer)"));
        }
        let ours = nested_layer_count(&dir.path().join(format!("{name}.mlmodel")));
        let entry = &theirs[name];
        assert!(entry.is_object(), "{name}: no coremltools entry (run tools/coremltools_layers.py --ops {name})");
        if let Some(ct) = entry["layers"].as_u64() {
            if ours as u64 > ct {
                wrong.push(format!("{name}: {ours} layers (nested included), coremltools {ct}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every `.pb` named `keras_{lstm,gru,simple_rnn}*` is covered above, so a new fixture gets
/// its layer count asserted.
#[test]
fn every_keras_rnn_fixture_is_listed() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ops");
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        let rnn = ["keras_lstm", "keras_gru", "keras_simple_rnn"].iter().any(|k| stem.starts_with(k));
        if rnn && p.extension().is_some_and(|x| x == "pb") {
            assert!(CASES.iter().any(|c| c.0 == stem) || LOOP_CASES.contains(&stem.as_str()), "{stem} is not listed in tests/rnn.rs");
        }
    }
}

/// The recogniser checks the cell, not just the loop's shape: the same LSTM loop with one
/// activation changed (the cell state's tanh made a sigmoid, or the output gate's sigmoid made
/// a tanh) computes something no LSTM layer does, so it must not become one. It is left to the
/// generic route and converts as a `loop` computing the changed cell step by step.
#[test]
fn a_loop_whose_cell_differs_from_keras_is_not_an_lstm_layer() {
    use mlrewrite::proto::tensorflow::GraphDef;
    use prost::Message;
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("keras_lstm_last")).unwrap();
    for (node, from, to) in [("while/Tanh_1", "Tanh", "Sigmoid"), ("while/Sigmoid_2", "Sigmoid", "Tanh")] {
        let mut gd = GraphDef::decode(bytes.as_slice()).unwrap();
        let body = gd.library.as_mut().unwrap().function.iter_mut().find(|f| f.signature.as_ref().unwrap().name.starts_with("while_body")).unwrap();
        let nd = body.node_def.iter_mut().find(|n| n.name == node).unwrap_or_else(|| panic!("no {node}"));
        assert_eq!(nd.op, from);
        nd.op = to.into();
        let pb = dir.path().join("changed.pb");
        std::fs::write(&pb, gd.encode_to_vec()).unwrap();
        let model = dir.path().join("changed.mlmodel");
        let o = mlrewrite(&["convert", pb.to_str().unwrap(), "-o", model.to_str().unwrap()]);
        let t = text(&o);
        assert!(o.status.success(), "{node} as {to}: not converted:\n{t}");
        let kinds = layer_kinds(&t);
        let of = |k: &str| kinds.iter().find(|(n, _)| n == k).map_or(0, |(_, c)| *c);
        assert!(of("loop") == 1 && of("uniDirectionalLSTM") == 0, "{node} as {to}: {kinds:?}");
    }
}
