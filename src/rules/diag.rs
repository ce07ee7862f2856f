//! Diagnostics of rule files: errors and warnings with a file, a span, a label, a help text
//! and related spans, rendered with miette (file:line:column, the source line, a caret).
//!
//! The checker and parser produce [`Diagnostic`]s against a [`Sources`] table; nothing here
//! knows about rules beyond spans, so the CLI, the tests and `explain` render them the same way.

use super::ast::Span;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;

/// Index of a file in [`Sources`].
pub type FileId = usize;

/// Where a rule file came from: the embedded standard library or a user's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    Std,
    User,
}

/// One rule file's text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Display name (`rules/nn.rules`, `std:activations.rules`).
    pub name: String,
    pub text: String,
    pub origin: Origin,
}

/// All loaded rule files.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>, origin: Origin) -> FileId {
        self.files.push(SourceFile { name: name.into(), text: text.into(), origin });
        self.files.len() - 1
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id)
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        let text = self.get(file).map_or("", |f| f.text.as_str());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One finding about a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier (`rules::unbound-variable`), also the fixture name in the test corpus.
    pub code: &'static str,
    pub message: String,
    pub file: FileId,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    /// Other places that explain this one (the earlier duplicate, the binding).
    pub related: Vec<(FileId, Span, String)>,
}

impl Diagnostic {
    pub fn error(code: &'static str, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            file,
            span,
            label: String::new(),
            help: None,
            related: vec![],
        }
    }

    pub fn warning(code: &'static str, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, file, span, message) }
    }

    pub fn label(mut self, l: impl Into<String>) -> Diagnostic {
        self.label = l.into();
        self
    }

    pub fn help(mut self, h: impl Into<String>) -> Diagnostic {
        self.help = Some(h.into());
        self
    }

    pub fn related(mut self, file: FileId, span: Span, what: impl Into<String>) -> Diagnostic {
        self.related.push((file, span, what.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// One line: `file:line:col: error: message`.
    pub fn short(&self, sources: &Sources) -> String {
        let (l, c) = sources.line_col(self.file, self.span.start);
        let name = sources.get(self.file).map_or("?", |f| f.name.as_str());
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("{name}:{l}:{c}: {sev}: {}", self.message)
    }
}

/// Sorts diagnostics by file, then position, errors before warnings at the same place.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.file, a.span.start, std::cmp::Reverse(a.severity), &a.message).cmp(&(
            b.file,
            b.span.start,
            std::cmp::Reverse(b.severity),
            &b.message,
        ))
    });
}

/// A diagnostic bound to its source text, as miette wants it.
#[derive(Debug)]
struct Report {
    diag: Diagnostic,
    src: NamedSource<String>,
    labels: Vec<LabeledSpan>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

fn source_span(text: &str, span: Span) -> SourceSpan {
    let start = floor_char_boundary(text, span.start);
    let end = floor_char_boundary(text, span.end.max(start));
    (start, end - start).into()
}

/// Renders diagnostics like a compiler: header, `╭─[file:line:col]`, the line, a caret with
/// the label, related spans from the same file, and the help text. No colours, fixed width,
/// so output is stable for snapshots and logs.
pub fn render(diag: &Diagnostic, sources: &Sources, width: usize) -> String {
    let file = sources.get(diag.file);
    // Quoting a very long line whole helps no one, and miette's renderer has failed on columns
    // past 65,535: such diagnostics get the one-line form and an excerpt cut around the span.
    let text_of = file.map_or("", |f| f.text.as_str());
    let spans = std::iter::once(diag.span).chain(diag.related.iter().filter(|(f, _, _)| *f == diag.file).map(|(_, s, _)| *s));
    if longest_quoted_line(text_of, spans) > LONG_LINE {
        return long_line_snippet(diag, sources, text_of);
    }
    let (name, text) = file.map_or(("?".to_string(), String::new()), |f| (f.name.clone(), f.text.clone()));
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        (!diag.label.is_empty()).then(|| diag.label.clone()),
        source_span(&text, diag.span),
    )];
    let mut diag = diag.clone();
    for (f, span, what) in &diag.related {
        if *f == diag.file {
            labels.push(LabeledSpan::new_with_span(Some(what.clone()), source_span(&text, *span)));
        } else {
            let (l, c) = sources.line_col(*f, span.start);
            let other = sources.get(*f).map_or("?", |s| s.name.as_str());
            let note = format!("{what} at {other}:{l}:{c}");
            diag.help = Some(match diag.help.take() {
                Some(h) => format!("{h}\n{note}"),
                None => note,
            });
        }
    }
    let report = Report { diag, src: NamedSource::new(name, text), labels };
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(width).with_links(false);
    let mut out = String::new();
    // The renderer is a dependency: a panic in it must not take the process down with the
    // diagnostic it was asked to show.
    let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.render_report(&mut out, &report).is_ok()));
    if !matches!(rendered, Ok(true)) {
        return report.diag.short(sources);
    }
    out
}

/// Lines longer than this are quoted only around the span, not by the renderer.
const LONG_LINE: usize = 2000;

/// The one-line form of `diag` with an excerpt of its line cut around the primary span: the
/// renderer would quote the whole line, which for a generated or minified rule file can be
/// megabytes.
fn long_line_snippet(diag: &Diagnostic, sources: &Sources, text: &str) -> String {
    const CONTEXT: usize = 60;
    let at = diag.span.start.min(text.len());
    let (line_start, line_end) = line_bounds(text.as_bytes(), at);
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let from = floor(at.saturating_sub(CONTEXT).max(line_start));
    let to = floor((at + CONTEXT).min(line_end));
    let excerpt: String = text[from..to].chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
    let (pre, post) = (if from > line_start { "…" } else { "" }, if to < line_end { "…" } else { "" });
    let caret_col = pre.chars().count() + text[from..floor(at)].chars().count();
    let width = text[floor(at)..floor(diag.span.end.clamp(at, to))].chars().count().max(1);
    let mut out = format!("{}\n  | {pre}{excerpt}{post}\n  | {}{}", diag.short(sources), " ".repeat(caret_col), "^".repeat(width));
    if !diag.label.is_empty() {
        out.push(' ');
        out.push_str(&diag.label);
    }
    out.push_str(&format!("\n  (the line is {} characters long; only the part around the error is shown)\n", line_end - line_start));
    out
}

/// The longest line, in bytes, that the renderer would quote for labels at `spans`: every line
/// from the first span's to the last one's, plus one line of context on each side (miette's
/// default), since a short label next to a megabyte line still quotes that line.
fn longest_quoted_line(text: &str, spans: impl Iterator<Item = Span>) -> usize {
    let b = text.as_bytes();
    let (mut lo, mut hi) = (usize::MAX, 0);
    for s in spans {
        lo = lo.min(s.start.min(b.len()));
        hi = hi.max(s.end.min(b.len()));
    }
    if lo == usize::MAX {
        return 0;
    }
    // From the start of the line before `lo` to the end of the line after `hi`.
    let (mut start, _) = line_bounds(b, lo);
    if start > 0 {
        start = line_bounds(b, start - 1).0;
    }
    let (_, mut end) = line_bounds(b, hi);
    if end < b.len() {
        end = line_bounds(b, end + 1).1;
    }
    b[start..end].split(|&c| c == b'\n').map(<[u8]>::len).max().unwrap_or(0)
}

/// Byte range `[start, end)` of the line holding byte `at` of `b`, without its newline.
fn line_bounds(b: &[u8], at: usize) -> (usize, usize) {
    let start = b[..at].iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
    let end = b[at..].iter().position(|&c| c == b'\n').map_or(b.len(), |i| at + i);
    (start, end)
}

/// Renders every diagnostic, separated by blank lines.
pub fn render_all(diags: &[Diagnostic], sources: &Sources, width: usize) -> String {
    diags.iter().map(|d| render(d, sources, width)).collect::<Vec<_>>().join("\n")
}
