//! `.mlmodel` bytes through decoding and the interpreter's model validation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mlrewrite::lower::mlmodel::decode_model;
use mlrewrite::run::{Interpreter, RunOptions};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = decode_model(data, Path::new("fuzz.mlmodel")) {
        let _ = Interpreter::new(&model, RunOptions::default());
    }
});
