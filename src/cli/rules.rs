//! `mlrewrite rules check|list|ops`: parse and check rule files, list rules, op coverage.

use anyhow::Result;
use clap::{Args as ClapArgs, Subcommand};
use mlrewrite::rules::ast::Item;
use mlrewrite::rules::diag::{render_all, Origin};
use mlrewrite::rules::{LoadOptions, RuleSet};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// Options shared by the rules subcommands.
#[derive(Debug, ClapArgs)]
pub struct Source {
    /// Add the rule files of this directory (or file) on top of the standard library.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Use only the user's rules, not the embedded standard library.
    #[arg(long)]
    pub no_std_rules: bool,
    /// Say which standard rules user rules replace.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Parse and check rule files; print every diagnostic and a summary. Exits 1 on errors.
    Check {
        /// Check only the files of this directory (or file) instead of the standard library.
        dir: Option<PathBuf>,
        #[command(flatten)]
        source: Source,
    },
    /// List the rules in effect.
    List {
        /// Only rules and registrations whose pattern is rooted at this TF op.
        #[arg(long)]
        op: Option<String>,
        #[command(flatten)]
        source: Source,
    },
    /// Every layer kind of Core ML's NeuralNetworkLayer oneof, in the spec's order, with the
    /// parameters a rule gives it (rules::layers).
    Layers,
    /// How each TF op of the op catalog converts: composite (rules), custom, or unsupported.
    Ops {
        /// Print docs/ops.md (the generated Markdown document) instead of a plain listing.
        #[arg(long)]
        markdown: bool,
        #[command(flatten)]
        source: Source,
    },
}

fn load(dir: Option<PathBuf>, source: &Source) -> Result<RuleSet> {
    let mut opts = LoadOptions { user: source.rules.clone(), no_std: source.no_std_rules };
    if let Some(d) = dir {
        opts.user.insert(0, d);
        opts.no_std = true;
    }
    Ok(RuleSet::load(&opts)?)
}

fn root_op(item: &Item) -> Option<String> {
    use mlrewrite::rules::ast::Pattern;
    fn go(p: &Pattern) -> Option<String> {
        match p {
            Pattern::Op(o) => Some(o.op.name.clone()),
            Pattern::Bind(_, p) | Pattern::Proj(p, _, _) => go(p),
            _ => None,
        }
    }
    match item {
        Item::Rule(r) => go(&r.lhs),
        Item::Custom(c) => go(&c.lhs),
        Item::Infer(i) => Some(i.op.name.clone()),
    }
}

fn replaced_notes(set: &RuleSet, verbose: bool) {
    if verbose {
        for (name, file) in &set.replaced {
            let f = set.sources.get(*file).map_or("?", |f| f.name.as_str());
            eprintln!("note: standard rule `{name}` is replaced by the one in {f}");
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    match args.command {
        RulesCommand::Check { dir, source } => {
            let set = load(dir, &source)?;
            replaced_notes(&set, source.verbose);
            if !set.diagnostics.is_empty() {
                eprintln!("{}", render_all(&set.diagnostics, &set.sources, 100));
            }
            let mut per_op: BTreeMap<String, usize> = BTreeMap::new();
            let (mut rules, mut regs, mut overrides, mut infers) = (0, 0, 0, 0);
            for (_, item) in set.items() {
                match item {
                    Item::Rule(_) => {
                        rules += 1;
                        if let Some(op) = root_op(item) {
                            *per_op.entry(op).or_default() += 1;
                        }
                    }
                    Item::Custom(c) => {
                        regs += 1;
                        if c.override_.is_some() {
                            overrides += 1;
                        }
                    }
                    Item::Infer(_) => infers += 1,
                }
            }
            let files = set.sources.files.len();
            let std = set.sources.files.iter().filter(|f| f.origin == Origin::Std).count();
            println!("{files} file(s) ({std} standard), {rules} rule(s), {regs} registration(s) ({overrides} override), {infers} output declaration(s)");
            println!("rules per op:");
            for (op, n) in &per_op {
                println!("  {op:<28} {n}");
            }
            println!("{} error(s), {} warning(s)", set.errors(), set.warnings());
            Ok(if set.errors() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        RulesCommand::Layers => {
            print!("{}", layers_listing());
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Ops { markdown, source } => {
            let set = load(None, &source)?;
            replaced_notes(&set, source.verbose);
            if set.errors() > 0 {
                eprintln!("{}", render_all(&set.diagnostics, &set.sources, 100));
                return Ok(ExitCode::from(1));
            }
            let rows = mlrewrite::rules::coverage::coverage(&set);
            if markdown {
                print!("{}", mlrewrite::rules::coverage::markdown(&rows));
            } else {
                for r in &rows {
                    let names: Vec<&str> = r.rules.iter().chain(&r.custom).map(String::as_str).collect();
                    println!("{:<28} {:<22} {}", r.op, r.status.label(), names.join(" "));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::List { op, source } => {
            let set = load(None, &source)?;
            replaced_notes(&set, source.verbose);
            let overridden: Vec<(String, String)> = set
                .items()
                .filter_map(|(_, i)| match i {
                    Item::Custom(c) if c.override_.is_some() => root_op(i).map(|op| (op, c.name.name.clone())),
                    _ => None,
                })
                .collect();
            for (file, item) in set.items() {
                let root = root_op(item);
                if op.as_ref().is_some_and(|o| root.as_ref() != Some(o)) {
                    continue;
                }
                let by = overridden.iter().find(|(o, _)| Some(o) == root.as_ref()).map(|(_, n)| n.clone());
                let kind = match item {
                    Item::Rule(_) if by.is_some() => "rule (off)",
                    Item::Rule(_) => "rule",
                    Item::Custom(c) if c.override_.is_some() => "custom override",
                    Item::Custom(_) => "custom",
                    Item::Infer(_) => "infer",
                };
                let (l, _) = set.sources.line_col(file, item.span().start);
                let f = set.sources.get(file).map_or("?", |f| f.name.as_str());
                let note = match (&by, item) {
                    (Some(reg), Item::Rule(_)) => format!("  (overridden by custom {reg})"),
                    _ => String::new(),
                };
                println!("{:<16} {:<32} {:<24} {f}:{l}{note}", kind, item.name().name, root.unwrap_or_default());
            }
            if set.errors() > 0 {
                eprintln!("{}", render_all(&set.diagnostics, &set.sources, 100));
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `mlrewrite rules layers`: each case of the spec's `NeuralNetworkLayer.layer` oneof with the
/// kinds and parameters rules use for it.
pub fn layers_listing() -> String {
    use mlrewrite::rules::layers::{case_kinds, spec_cases, CONTROL_FLOW};
    let cases = spec_cases();
    let mut s = format!("{} cases of NeuralNetworkLayer.layer (Core ML Neural Network spec); parameters as rules write them\n", cases.len());
    for case in cases {
        let kinds = case_kinds(case);
        if CONTROL_FLOW.contains(&case) {
            s += &format!("\n{case}: control flow with nested networks, not built by rules (While becomes `loop`; If becomes selects or `branch`)\n");
            continue;
        }
        if case == "custom" {
            s += "\ncustom: CustomLayerParams, built by `custom` registrations (docs/rules.md, Custom layers)\n";
            continue;
        }
        if case == "activation" {
            s += &format!("\nactivation: ActivationParams, one kind per nonlinearity ({} kinds)\n", kinds.len());
        }
        for k in kinds {
            let outputs = k.outputs.map_or("set by a parameter".to_string(), |n| n.to_string());
            s += &format!("\n{}: {}, inputs {}, outputs {outputs}\n", k.name, k.message, k.arity_text());
            for (name, ty) in k.params {
                s += &format!("    {name}: {}\n", ty.describe());
            }
        }
    }
    s
}
