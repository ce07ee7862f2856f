//! End-to-end conversion (import, seed, saturate, extract, lower, encode) of synthetic chains of
//! 1,000, 10,000 and 30,000 `Relu`s: how conversion time grows with node count. A chain of
//! 30,000 ops is an ordinary unrolled RNN, and extraction and saturation used to be quadratic
//! on it (a 10,000-op chain took 6.9 s and 1.4 GB; 30,000 aborted at 8 GB).
//!
//! Goal (issue 15): the 30,000-op chain in under 1 s and 300 MB in release. Measured
//! (`cargo bench --bench convert`, release, 2-core machine under load average ~10 from other
//! builds): see docs/architecture.md's budget notes; `mlrewrite convert --stats` gives the
//! per-phase split of the same graph.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mlrewrite::ir::{import_bytes, infer, ShapeRegistry};
use mlrewrite::lower::{self, LowerOptions};
use mlrewrite::proto::tensorflow::{attr_value, tensor_shape_proto, AttrValue, GraphDef, NodeDef, TensorShapeProto};
use mlrewrite::rewrite::{convert, ConvertOptions};
use mlrewrite::rules::{LoadOptions, RuleSet};
use prost::Message;
use std::hint::black_box;
use std::path::Path;

fn attr(v: attr_value::Value) -> AttrValue {
    AttrValue { value: Some(v) }
}

/// `x: float32 [1, 8]` through `n` Relus into `out`.
fn chain(n: usize) -> Bytes {
    let shape = TensorShapeProto {
        dim: [1, 8].iter().map(|&size| tensor_shape_proto::Dim { size, name: String::new() }).collect(),
        unknown_rank: false,
    };
    let mut nodes = vec![NodeDef {
        name: "x".into(),
        op: "Placeholder".into(),
        attr: [("dtype".to_string(), attr(attr_value::Value::Type(1))), ("shape".to_string(), attr(attr_value::Value::Shape(shape)))].into(),
        ..Default::default()
    }];
    let mut prev = "x".to_string();
    for i in 0..=n {
        let (name, op) = if i == n { ("out".to_string(), "Identity") } else { (format!("r{i}"), "Relu") };
        nodes.push(NodeDef {
            name: name.clone(),
            op: op.into(),
            input: vec![prev],
            attr: [("T".to_string(), attr(attr_value::Value::Type(1)))].into(),
            ..Default::default()
        });
        prev = name;
    }
    Bytes::from(GraphDef { node: nodes, ..Default::default() }.encode_to_vec())
}

fn bench(c: &mut Criterion) {
    let rules = RuleSet::load(&LoadOptions::default()).expect("standard rules load").compile().expect("standard rules compile");
    let registry = ShapeRegistry::tensorflow();
    let mut group = c.benchmark_group("convert relu chain");
    group.sample_size(10);
    for n in [1_000, 10_000, 30_000] {
        let data = chain(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &data, |b, data| {
            b.iter(|| {
                let mut g = import_bytes(data.clone(), Path::new("chain.pb")).expect("the chain imports");
                infer(&mut g, &registry).expect("the chain infers");
                let (dag, _) = convert(&g, &rules, &ConvertOptions::default()).expect("the chain converts");
                let model = lower::lower(&dag, &LowerOptions::default().with_compiled(&rules)).expect("the chain lowers");
                black_box(model.encode_to_vec())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
