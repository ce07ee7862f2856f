//! Import of the 6.9 MB MobileNetV2 (alpha 0.35) frozen graph: decode, convert every weight to
//! its ndarray, wire the graph, and infer every dtype and shape.
//!
//! Goal: under 20 ms in release, with each weight copied at most once (from the file's
//! `Bytes` buffer into its array: prost decodes `tensor_content` as a slice of the buffer).
//! `import` measures decode + conversion + wiring from bytes already in memory; `import+infer`
//! adds inference. Skips (with a message) when ../shared is absent.
//!
//! Measured (`cargo bench --bench import`, 2-core machine shared with other builds): import
//! 6.0 ms and import+infer 7.2 ms on a quieter run; 14.2 ms and 16.5 ms at load average 15.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use mlrewrite::ir::{import_bytes, infer, ShapeRegistry};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn bench(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/mobilenet_v2_035.pb");
    let Ok(data) = std::fs::read(&path) else {
        eprintln!("skipping: ../shared not present");
        return;
    };
    let data = Bytes::from(data);
    let registry = ShapeRegistry::tensorflow();
    let name = Path::new("mobilenet_v2_035.pb");
    c.bench_function("import mobilenet_v2_035", |b| {
        b.iter(|| black_box(import_bytes(data.clone(), name).expect("the corpus graph imports")))
    });
    c.bench_function("import+infer mobilenet_v2_035", |b| {
        b.iter(|| {
            let mut g = import_bytes(data.clone(), name).expect("the corpus graph imports");
            black_box(infer(&mut g, &registry).expect("the corpus graph infers"));
            g
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
