//! `mlrewrite explain`: why a TF node became a custom layer, and why a rule did not fire.
//!
//! It owns the explanation, not the decisions: [`compute`] saturates the graph exactly as
//! `convert` does and asks the compiled matcher (`CompiledRule::try_class`, the code the
//! rewrites run) and the extractor's choice (`extract::best_nodes`) about each selected node,
//! so an explanation cannot disagree with the conversion. [`report`] is the data (and the
//! stable JSON schema of `docs/explain.md`), [`text`] the human rendering, [`source`] the way
//! from matcher failures back to places in rule files.

pub mod compute;
pub mod report;
pub mod source;
pub mod text;

pub use compute::{explain, ExplainError, ExplainOptions};
pub use report::{Report, Selection, SCHEMA_VERSION};

/// The report as pretty JSON (the schema of `docs/explain.md`), ending with a newline.
pub fn to_json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
