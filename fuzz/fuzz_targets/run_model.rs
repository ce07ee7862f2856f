//! A decoded model run on inputs of its declared shapes (at most 4096 elements each), filled
//! from the fuzz bytes after the model: kernels must refuse what they cannot compute.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mlrewrite::lower::mlmodel::decode_model;
use mlrewrite::proto::coreml::feature_type;
use mlrewrite::run::{Interpreter, RunOptions};
use std::collections::BTreeMap;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let split = (u16::from_le_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (model_bytes, values) = data[2..].split_at(split);
    let Ok(model) = decode_model(model_bytes, Path::new("fuzz.mlmodel")) else { return };
    // A loop at the interpreter's default limit (1,000,000 iterations, about 2 s natively)
    // takes minutes under the sanitizer: libFuzzer would report it as a timeout. The bound
    // itself is tested in tests/no_panic.rs; here it is lowered so each input stays fast.
    let options = RunOptions { max_loop_iterations: Some(10_000), ..RunOptions::default() };
    let Ok(interp) = Interpreter::new(&model, options) else { return };
    let mut inputs = BTreeMap::new();
    let mut vals = values.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).cycle();
    for f in model.description.iter().flat_map(|d| &d.input) {
        let Some(feature_type::Type::MultiArrayType(a)) = f.r#type.as_ref().and_then(|t| t.r#type.as_ref()) else { return };
        let shape: Vec<usize> = a.shape.iter().map(|&d| d.clamp(0, 4096) as usize).collect();
        let n: usize = shape.iter().product();
        if n > 4096 {
            return;
        }
        let v: Vec<f32> = (0..n).map(|_| vals.next().unwrap_or(0.0)).collect();
        let Ok(arr) = ndarray::ArrayD::from_shape_vec(shape, v) else { return };
        inputs.insert(f.name.clone(), arr);
    }
    let _ = interp.run(inputs);
});
