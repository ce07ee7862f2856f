//! GraphDef bytes through import and shape inference: any input is an error or a graph.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mlrewrite::ir::{import_bytes, infer, ShapeRegistry};
use std::path::Path;
use std::sync::LazyLock;

static REGISTRY: LazyLock<ShapeRegistry> = LazyLock::new(ShapeRegistry::tensorflow);

fuzz_target!(|data: &[u8]| {
    if let Ok(mut g) = import_bytes(bytes::Bytes::copy_from_slice(data), Path::new("fuzz.pb")) {
        let _ = infer(&mut g, &REGISTRY);
    }
});
