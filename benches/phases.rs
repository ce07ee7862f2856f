//! Conversion phase by phase (import, seed, saturate, extract, lower, write) and end to end
//! (issue 14), on:
//!
//! - synthetic CNNs of about 1,000 and 10,000 TF nodes built here (`cnn_1k`, `cnn_10k`), so the
//!   benches need no TensorFlow: blocks of Conv2D, FusedBatchNormV3, Relu6,
//!   DepthwiseConv2dNative + BiasAdd and a residual AddV2, 16 channels at 16x16;
//! - the public corpus (`../shared/corpus/*.pb`), skipped when absent;
//! - the generated Keras models (`target/bench-models/*.pb`, from tools/make_bench_models.py),
//!   skipped when absent.
//!
//! A model that does not convert is skipped with its error. Each phase is timed inside one
//! whole conversion (criterion's `iter_custom`), so a phase is measured on the state the
//! previous phases really left, as `convert --stats` reports it. `growth` converts synthetic
//! CNNs of 1,000 to 10,000 nodes end to end with the node count as throughput: a constant
//! nodes/s means linear cost. Peak memory is not measured here (one process runs every
//! bench); `mlrewrite convert --stats` reports it per model (docs/performance.md).
//!
//! `cargo bench --bench phases` measures (release); `cargo bench --bench phases -- resnet50`
//! runs one model; `cargo test --bench '*'` (what .ci/run does) is a smoke run in the dev
//! profile: one end-to-end conversion per model (every phase runs in it) and the growth bench
//! at 1,000 and 10,000 nodes. Figures and what bounds each phase: docs/performance.md.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use mlrewrite::ir::{import_bytes, infer};
use mlrewrite::lower::{self, LowerOptions};
use mlrewrite::proto::tensorflow::{attr_value, tensor_shape_proto, AttrValue, GraphDef, NodeDef, TensorProto, TensorShapeProto};
use mlrewrite::rewrite::{convert, ConvertOptions};
use mlrewrite::rules::load::Compiled;
use mlrewrite::rules::{LoadOptions, RuleSet};
use prost::Message;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Synthetic CNNs

const DT_FLOAT: i32 = 1;

fn attr(v: attr_value::Value) -> AttrValue {
    AttrValue { value: Some(v) }
}

fn shape(dims: &[i64]) -> TensorShapeProto {
    TensorShapeProto { dim: dims.iter().map(|&size| tensor_shape_proto::Dim { size, name: String::new() }).collect(), unknown_rank: false }
}

fn ints(v: &[i64]) -> AttrValue {
    attr(attr_value::Value::List(Box::new(attr_value::ListValue { i: v.to_vec(), ..Default::default() })))
}

fn text(s: &str) -> AttrValue {
    attr(attr_value::Value::S(Bytes::copy_from_slice(s.as_bytes())))
}

fn float_t() -> AttrValue {
    attr(attr_value::Value::Type(DT_FLOAT))
}

/// Deterministic weights in [lo, hi) (a linear congruential sequence seeded by `seed`).
fn values(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

struct Builder {
    nodes: Vec<NodeDef>,
}

impl Builder {
    fn node(&mut self, name: String, op: &str, inputs: Vec<String>, attrs: Vec<(&str, AttrValue)>) -> String {
        let attr = attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        self.nodes.push(NodeDef { name: name.clone(), op: op.into(), input: inputs, attr, ..Default::default() });
        name
    }

    fn constant(&mut self, name: String, dims: &[i64], data: Vec<f32>) -> String {
        let content: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let t = TensorProto { dtype: DT_FLOAT, tensor_shape: Some(shape(dims)), tensor_content: Bytes::from(content), ..Default::default() };
        self.node(name, "Const", vec![], vec![("dtype", float_t()), ("value", attr(attr_value::Value::Tensor(Box::new(t))))])
    }
}

/// TF nodes per block of [`cnn`].
const BLOCK_NODES: usize = 13;

/// A frozen CNN of about `nodes` TF nodes: `x: float32 [1, 16, 16, 16]`, then blocks of
/// Conv2D 3x3 (no bias) + FusedBatchNormV3 + Relu6 + depthwise 3x3 + BiasAdd, added to the
/// block's input, then `out`. The layout of a Keras MobileNet-style graph, at any size.
fn cnn(nodes: usize) -> Bytes {
    const C: i64 = 16;
    let mut b = Builder { nodes: vec![] };
    let mut x = b.node("x".into(), "Placeholder", vec![], vec![("dtype", float_t()), ("shape", attr(attr_value::Value::Shape(shape(&[1, 16, 16, C]))))]);
    let conv_attrs = || {
        vec![
            ("T", float_t()),
            ("strides", ints(&[1, 1, 1, 1])),
            ("dilations", ints(&[1, 1, 1, 1])),
            ("padding", text("SAME")),
            ("data_format", text("NHWC")),
        ]
    };
    for i in 0..nodes.saturating_sub(2) / BLOCK_NODES {
        let seed = i as u64 * 16;
        let w = b.constant(format!("b{i}/conv/w"), &[3, 3, C, C], values(9 * (C * C) as usize, seed, -0.12, 0.12));
        let conv = b.node(format!("b{i}/conv"), "Conv2D", vec![x.clone(), w], conv_attrs());
        let c = C as usize;
        let bn_inputs = vec![
            conv,
            b.constant(format!("b{i}/bn/gamma"), &[C], values(c, seed + 1, 0.5, 1.5)),
            b.constant(format!("b{i}/bn/beta"), &[C], values(c, seed + 2, -0.1, 0.1)),
            b.constant(format!("b{i}/bn/mean"), &[C], values(c, seed + 3, -0.1, 0.1)),
            b.constant(format!("b{i}/bn/var"), &[C], values(c, seed + 4, 0.5, 1.5)),
        ];
        let bn = b.node(
            format!("b{i}/bn"),
            "FusedBatchNormV3",
            bn_inputs,
            vec![
                ("T", float_t()),
                ("U", float_t()),
                ("epsilon", attr(attr_value::Value::F(1e-3))),
                ("exponential_avg_factor", attr(attr_value::Value::F(1.0))),
                ("data_format", text("NHWC")),
                ("is_training", attr(attr_value::Value::B(false))),
            ],
        );
        let relu = b.node(format!("b{i}/relu"), "Relu6", vec![bn], vec![("T", float_t())]);
        let dw_w = b.constant(format!("b{i}/dw/w"), &[3, 3, C, 1], values(9 * c, seed + 5, -0.3, 0.3));
        let dw = b.node(format!("b{i}/dw"), "DepthwiseConv2dNative", vec![relu, dw_w], conv_attrs());
        let bias = b.constant(format!("b{i}/dw/b"), &[C], values(c, seed + 6, -0.1, 0.1));
        let biased = b.node(format!("b{i}/dw/bias"), "BiasAdd", vec![dw, bias], vec![("T", float_t()), ("data_format", text("NHWC"))]);
        x = b.node(format!("b{i}/add"), "AddV2", vec![x, biased], vec![("T", float_t())]);
    }
    b.node("out".into(), "Identity", vec![x], vec![("T", float_t())]);
    Bytes::from(GraphDef { node: b.nodes, ..Default::default() }.encode_to_vec())
}

// ---------------------------------------------------------------------------------------------
// The models and one timed conversion

struct Model {
    name: String,
    data: Bytes,
}

/// The frozen graphs of `dir` (`*.pb`, sorted), or none with a message when it is absent.
fn folder(dir: &Path) -> Vec<Model> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("skipping {}: not present", dir.display());
        return vec![];
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "pb")).collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let name = p.file_stem()?.to_string_lossy().into_owned();
            Some(Model { name, data: Bytes::from(std::fs::read(&p).ok()?) })
        })
        .collect()
}

/// Time of each phase of one conversion.
#[derive(Default, Clone, Copy)]
struct Phases {
    import: Duration,
    seed: Duration,
    saturate: Duration,
    extract: Duration,
    lower: Duration,
    write: Duration,
    total: Duration,
}

/// Converts `m` as `mlrewrite convert` does (the model written to `out`), timing each phase.
fn convert_once(m: &Model, rules: &Compiled, out: &Path) -> Result<Phases, String> {
    let start = Instant::now();
    let mut g = import_bytes(m.data.clone(), Path::new(&m.name)).map_err(|e| e.to_string())?;
    infer(&mut g, &rules.shapes).map_err(|e| e.to_string())?;
    let import = start.elapsed();
    let (dag, stats) = convert(&g, rules, &ConvertOptions::default()).map_err(|e| e.to_string())?;
    drop(g);
    let t = Instant::now();
    let model = lower::lower(&dag, &LowerOptions::default().with_compiled(rules)).map_err(|e| e.to_string())?;
    drop(dag);
    let lower = t.elapsed();
    let t = Instant::now();
    lower::mlmodel::write_model(out, &model).map_err(|e| e.to_string())?;
    let write = t.elapsed();
    Ok(Phases { import, seed: stats.seed, saturate: stats.saturate, extract: stats.extract, lower, write, total: start.elapsed() })
}

fn rules() -> Compiled {
    RuleSet::load(&LoadOptions::default()).expect("standard rules load").compile().expect("standard rules compile")
}

// ---------------------------------------------------------------------------------------------
// Benches

type Phase = fn(&Phases) -> Duration;

const PHASES: [(&str, Phase); 7] = [
    ("import", |p| p.import),
    ("seed", |p| p.seed),
    ("saturate", |p| p.saturate),
    ("extract", |p| p.extract),
    ("lower", |p| p.lower),
    ("write", |p| p.write),
    ("end_to_end", |p| p.total),
];

/// Whether criterion only smoke-tests the benches (`cargo test --bench`, `-- --test`): each
/// bench then runs once, and one end-to-end conversion per model covers every phase.
fn smoke() -> bool {
    let args: Vec<String> = std::env::args().collect();
    !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test")
}

fn phases(c: &mut Criterion) {
    let rules = rules();
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("model.mlmodel");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut models = vec![Model { name: "cnn_1k".into(), data: cnn(1_000) }, Model { name: "cnn_10k".into(), data: cnn(10_000) }];
    models.extend(folder(&root.join("../shared/corpus")));
    models.extend(folder(&root.join("target/bench-models")).into_iter().map(|m| Model { name: format!("generated/{}", m.name), ..m }));
    for m in &models {
        // A model that does not convert (an op no rule covers) is reported, not benched.
        if let Err(e) = convert_once(m, &rules, &out) {
            eprintln!("skipping {}: {}", m.name, e.lines().next().unwrap_or(""));
            continue;
        }
        let mut group = c.benchmark_group(format!("phases/{}", m.name));
        group.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(3));
        let phases = if smoke() { &PHASES[PHASES.len() - 1..] } else { &PHASES[..] };
        for &(phase, pick) in phases {
            group.bench_function(phase, |b| {
                b.iter_custom(|iters| (0..iters).map(|_| pick(&convert_once(m, &rules, &out).expect("converted before"))).sum())
            });
        }
        group.finish();
    }
}

fn growth(c: &mut Criterion) {
    let rules = rules();
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("model.mlmodel");
    let mut group = c.benchmark_group("growth/cnn end_to_end");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(3));
    let sizes: &[usize] = if smoke() { &[1_000, 10_000] } else { &[1_000, 2_500, 5_000, 10_000] };
    for &nodes in sizes {
        let m = Model { name: format!("cnn_{nodes}"), data: cnn(nodes) };
        group.throughput(Throughput::Elements(nodes as u64));
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &m, |b, m| {
            b.iter_custom(|iters| (0..iters).map(|_| convert_once(m, &rules, &out).expect("the synthetic CNN converts").total).sum())
        });
    }
    group.finish();
}

criterion_group!(benches, phases, growth);
criterion_main!(benches);
