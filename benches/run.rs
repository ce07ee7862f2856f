//! Reference interpreter speed on MobileNetV2 (alpha 0.35, 96x96) from the shared corpus,
//! with the corpus input. Goal: under 100 ms per run in release. Skipped when `../shared`
//! is absent.

use criterion::{criterion_group, criterion_main, Criterion};
use mlrewrite::run::{lookup, npz, Interpreter, RunOptions};
use std::collections::BTreeMap;
use std::path::Path;

fn mobilenet(c: &mut Criterion) {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !shared.is_dir() {
        eprintln!("skipping: ../shared not present");
        return;
    }
    let model = mlrewrite::lower::mlmodel::read_model(&shared.join("coremltools/mobilenet_v2_035.mlmodel")).expect("model");
    let golden = npz::read_npz(&shared.join("mobilenet_v2_035.npz")).expect("npz");
    let interp = Interpreter::new(&model, RunOptions::default()).expect("valid model");
    let mut inputs = BTreeMap::new();
    for name in interp.input_names() {
        inputs.insert(name.to_string(), lookup(&golden, name).expect("input").1.clone());
    }
    c.bench_function("run mobilenet_v2_035 (f32)", |b| {
        b.iter(|| interp.run(std::hint::black_box(inputs.clone())).expect("runs"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = mobilenet
}
criterion_main!(benches);
