//! Rule text through the parser, the checker, diagnostics rendering and compilation (with the
//! standard library loaded, as a user's `--rules` file is).
#![no_main]
use libfuzzer_sys::fuzz_target;
use mlrewrite::rules::diag::{render_all, Origin, Sources};
use mlrewrite::rules::ops::TfOpDefs;
use mlrewrite::rules::RuleSet;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut sources = Sources::default();
    sources.add("fuzz.rules", text, Origin::User);
    let set = RuleSet::from_sources(sources, &TfOpDefs);
    let _ = render_all(&set.diagnostics, &set.sources, 20);
    if set.errors() == 0 {
        let _ = set.compile();
    }
});
