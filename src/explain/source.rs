//! Places in rule files as `explain` shows them: `file:line:column` with the source line, the
//! way the DSL diagnostics show them, and the way back from a matcher failure (an input path, an
//! attribute name) to the sub-pattern of the rule that failed.

use super::report::Location;
use crate::rules::ast::{Pattern, Span};
use crate::rules::diag::{FileId, Origin, Sources};
use std::path::Path;

/// The name a rule file is shown under: `rules/NAME.rules` for the embedded standard library,
/// a user file relative to the working directory when it lies below it (no absolute paths in
/// reports that tests snapshot or users diff).
pub fn display_name(sources: &Sources, file: FileId) -> String {
    let Some(f) = sources.get(file) else { return "?".into() };
    match f.origin {
        Origin::Std => format!("rules/{}", f.name.strip_prefix("std:").unwrap_or(&f.name)),
        Origin::User => {
            let p = Path::new(&f.name);
            match std::env::current_dir() {
                Ok(cwd) => p.strip_prefix(&cwd).map(|r| r.display().to_string()).unwrap_or_else(|_| f.name.clone()),
                Err(_) => f.name.clone(),
            }
        }
    }
}

/// The location of `span` in `file`.
pub fn locate(sources: &Sources, file: FileId, span: Span) -> Location {
    let (line, column) = sources.line_col(file, span.start);
    let text = sources.get(file).map_or("", |f| f.text.as_str());
    let source_line = text.lines().nth(line.saturating_sub(1)).unwrap_or("").to_string();
    let rest = source_line.chars().count().saturating_sub(column - 1);
    let covered = text.get(span.start..span.end.max(span.start)).map_or(1, |s| s.split('\n').next().unwrap_or("").chars().count());
    Location { file: display_name(sources, file), line, column, source_line, width: covered.clamp(1, rest.max(1)) }
}

/// The sub-pattern at `path` (input indices, as the matcher records them): binders and
/// projections are looked through, each index descends into an op's inputs.
pub fn sub_pattern<'a>(p: &'a Pattern, path: &[usize]) -> &'a Pattern {
    let mut p = p;
    for &i in path {
        let mut q = p;
        loop {
            match q {
                Pattern::Bind(_, inner) | Pattern::Proj(inner, _, _) => q = inner,
                _ => break,
            }
        }
        match q {
            Pattern::Op(o) => match o.args.get(i) {
                Some(a) => p = a,
                None => return p,
            },
            _ => return p,
        }
    }
    p
}

/// The span of attribute `attr` of the op pattern at `p` (name to value), or of `p` itself.
pub fn attr_span(p: &Pattern, attr: &str) -> Span {
    let mut q = p;
    loop {
        match q {
            Pattern::Bind(_, inner) | Pattern::Proj(inner, _, _) => q = inner,
            Pattern::Op(o) => {
                return o.attrs.iter().find(|a| a.name.name == attr).map_or(o.op.span, |a| a.name.span.to(a.value.span()));
            }
            _ => return p.span(),
        }
    }
}

/// The TF op at the root of a pattern and the output it projects (`Op(...).N`), if any.
pub fn root(p: &Pattern) -> Option<(&str, Option<u32>)> {
    match p {
        Pattern::Op(o) => Some((o.op.name.as_str(), None)),
        Pattern::Bind(_, inner) => root(inner),
        Pattern::Proj(inner, n, _) => root(inner).map(|(op, _)| (op, Some(*n))),
        _ => None,
    }
}

/// The span of the pattern at the root (what a "no match at all" points at).
pub fn op_span(p: &Pattern) -> Span {
    match p {
        Pattern::Op(o) => o.op.span,
        Pattern::Bind(_, inner) | Pattern::Proj(inner, _, _) => op_span(inner),
        _ => p.span(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ast::Item;
    use crate::rules::parser::parse_file;

    #[test]
    fn paths_lead_to_nested_inputs_and_attributes() {
        let src = "rule r:\n    BiasAdd(c @ Conv2D(x, w) { padding = \"SAME\" }, b) => x\n";
        let (f, errs) = parse_file(src);
        assert!(errs.is_empty());
        let Item::Rule(r) = &f.items[0] else { panic!("not a rule") };
        let mut sources = Sources::default();
        let id = sources.add("std:t.rules", src, Origin::Std);
        let w = sub_pattern(&r.lhs, &[0, 1]);
        let loc = locate(&sources, id, w.span());
        assert_eq!((loc.file.as_str(), loc.line, loc.column, loc.width), ("rules/t.rules", 2, 27, 1));
        let pad = locate(&sources, id, attr_span(sub_pattern(&r.lhs, &[0]), "padding"));
        assert_eq!((pad.column, pad.width), (32, 16));
        assert_eq!(root(&r.lhs), Some(("BiasAdd", None)));
    }
}
