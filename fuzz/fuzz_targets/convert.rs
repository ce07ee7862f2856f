//! GraphDef bytes converted end to end with the standard rules (small budgets) and lowered.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mlrewrite::ir::{import_bytes, infer};
use mlrewrite::lower::{self, LowerOptions};
use mlrewrite::rewrite::{convert, ConvertOptions, Limits};
use mlrewrite::rules::load::Compiled;
use mlrewrite::rules::{LoadOptions, RuleSet};
use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

static RULES: LazyLock<Compiled> =
    LazyLock::new(|| RuleSet::load(&LoadOptions::default()).expect("standard rules load").compile().expect("standard rules compile"));

fuzz_target!(|data: &[u8]| {
    let Ok(mut g) = import_bytes(bytes::Bytes::copy_from_slice(data), Path::new("fuzz.pb")) else { return };
    if infer(&mut g, &RULES.shapes).is_err() {
        return;
    }
    let options = ConvertOptions { limits: Limits { nodes: 20_000, iterations: 10, time: Duration::from_secs(2) }, ..ConvertOptions::default() };
    if let Ok((dag, _)) = convert(&g, &RULES, &options) {
        let _ = lower::lower(&dag, &LowerOptions::default().with_compiled(&RULES));
    }
});
