//! The text form of a [`Report`]: one block per node, each rule with the place in its file the
//! way the DSL diagnostics show it (`file:line:col`, the source line, a caret under the part
//! that failed). No colours, no timings, no absolute paths: the output is snapshot-stable.

use super::report::*;
use std::fmt::Write;

/// Renders the whole report.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let what = match &r.selection {
        Selection::CustomLayers => {
            if r.nodes.len() == 1 {
                "node became a custom layer or is not converted".to_string()
            } else {
                "nodes became custom layers or are not converted".to_string()
            }
        }
        Selection::Node(n) => format!("node `{n}`"),
        Selection::Op(op) => format!("node{} of op `{op}`", plural(r.nodes.len())),
    };
    let _ = writeln!(s, "{}: {} {what}", r.model, r.nodes.len());
    if r.saturation.limit_hit {
        let _ = writeln!(
            s,
            "note: saturation stopped early ({}) after {} iteration(s); rules that did not run may still apply \
             (raise --node-limit, --iter-limit or --time-limit)",
            r.saturation.stop, r.saturation.iterations
        );
    }
    if r.nodes.is_empty() {
        let _ = writeln!(s, "every node converts to built-in Core ML layers: no custom layer, nothing unconverted");
    }
    for n in &r.nodes {
        s.push('\n');
        node(&mut s, n);
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn node(s: &mut String, n: &NodeExplanation) {
    let _ = writeln!(s, "node `{}` ({})", n.name, n.op);
    for (i, t) in n.inputs.iter().enumerate() {
        let dtype = t.dtype.as_deref().unwrap_or("?");
        let value = t.constant.as_ref().map(|c| format!(" = {c} (constant)")).unwrap_or_default();
        let _ = writeln!(s, "  input {i}: {}: {dtype} {}{value}", t.tensor, t.shape);
    }
    for (i, t) in n.outputs.iter().enumerate() {
        let dtype = t.dtype.as_deref().unwrap_or("?");
        let value = t.constant.as_ref().map(|c| format!(" = {c} (constant)")).unwrap_or_default();
        let _ = writeln!(s, "  output {i}: {}: {dtype} {}{value}", t.tensor, t.shape);
    }
    let became = match (n.outcome.kind, &n.registration) {
        (OutcomeKind::CustomLayer, Some(reg)) => {
            let how = match reg.status {
                RegistrationStatus::Override => "forced by an override registration",
                _ => "the last resort: no composite rule converts this node",
            };
            format!(
                "custom layer {} (registration `{}`), {how}",
                reg.class_name.as_deref().unwrap_or("?"),
                reg.name.as_deref().unwrap_or("?")
            )
        }
        (OutcomeKind::CustomLayer, None) => format!("custom layer ({})", n.outcome.extracted.as_deref().unwrap_or("?")),
        (OutcomeKind::Composite, _) => format!("Core ML layers (extracted `{}`)", n.outcome.extracted.as_deref().unwrap_or("?")),
        (OutcomeKind::Forwarded, _) => format!("no layer of its own: it equals `{}`", n.outcome.extracted.as_deref().unwrap_or("?")),
        (OutcomeKind::Unconverted, _) => "NOT CONVERTED: nothing in the e-graph can be extracted for it".to_string(),
    };
    let _ = writeln!(s, "  became: {became}");
    if n.rules.is_empty() {
        let _ = writeln!(s, "  rules rooted at {}: none", n.op);
    } else {
        let _ = writeln!(s, "  rules rooted at {}:", n.op);
    }
    for r in &n.rules {
        rule(s, r);
    }
    if let Some(reg) = &n.registration {
        match reg.status {
            RegistrationStatus::None => {
                let _ = writeln!(s, "  registration: none");
                if let Some(h) = &reg.help {
                    for (i, line) in h.lines().enumerate() {
                        let _ = writeln!(s, "  {}{line}", if i == 0 { "help: " } else { "" });
                    }
                }
            }
            status => {
                let how = if status == RegistrationStatus::Override { "override" } else { "last resort" };
                let at = reg.location.as_ref().map(|l| format!(" at {}:{}:{}", l.file, l.line, l.column)).unwrap_or_default();
                let _ = writeln!(s, "  registration: `{}` ({how}){at}", reg.name.as_deref().unwrap_or("?"));
            }
        }
    }
}

fn rule(s: &mut String, r: &RuleExplanation) {
    let status = match r.status {
        RuleStatus::NearMiss => "near miss",
        RuleStatus::Fired => "fired",
        RuleStatus::NotRun => "not run",
        RuleStatus::Failed => "failed",
        RuleStatus::DisabledByOverride => "off",
        RuleStatus::Dropped => "dropped",
    };
    let kind = match r.kind {
        RuleKind::Rule => "rule",
        RuleKind::Registration => "registration",
    };
    let _ = writeln!(s, "  - [{status}] {kind} `{}`", r.name);
    if let Some(note) = &r.note {
        let _ = writeln!(s, "    {note}");
    }
    match &r.failure {
        Some(f) => {
            let _ = writeln!(s, "    {}", f.message);
            // Guards and right-hand sides: the message above already has the values.
            let label = match f.stage {
                FailureStage::Guard | FailureStage::Build => None,
                FailureStage::Pattern => f.found.as_ref().map(|x| format!("found {x}")),
                FailureStage::Attribute | FailureStage::Conflict => f.found.as_ref().map(|x| format!("is {x}")),
            };
            caret(s, &f.at, label.as_deref());
        }
        None => caret(s, &r.location, None),
    }
}

/// `--> file:line:col`, the line, carets under the span and an optional label.
fn caret(s: &mut String, l: &Location, label: Option<&str>) {
    let num = l.line.to_string();
    let pad = " ".repeat(num.len());
    let _ = writeln!(s, "    {pad}--> {}:{}:{}", l.file, l.line, l.column);
    let _ = writeln!(s, "    {pad} |");
    let _ = writeln!(s, "    {num} | {}", l.source_line);
    let lead: String = l.source_line.chars().take(l.column.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    let label = label.map(|x| format!(" {x}")).unwrap_or_default();
    let _ = writeln!(s, "    {pad} | {lead}{}{label}", "^".repeat(l.width.max(1)));
}
