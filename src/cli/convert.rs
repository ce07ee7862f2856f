//! `mlrewrite convert`: TF frozen graph -> `.mlmodel`, through import, rules, seeding,
//! saturation, extraction, lowering and an atomic write; prints a short summary (layers by
//! kind, custom layers and the TF nodes they replace, time) and, with `--stats`, the phases.

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use mlrewrite::ir;
use mlrewrite::lower::{self, mlmodel::write_model, LowerOptions};
use mlrewrite::progress::Phase;
use mlrewrite::rewrite::lang::Node;
use mlrewrite::rewrite::pipeline::ConvertError;
use mlrewrite::rewrite::term::TermDag;
use mlrewrite::rewrite::{convert, ConvertOptions, Limits, Stats};
use mlrewrite::rules::compile::Action;
use mlrewrite::rules::load::Compiled;
use mlrewrite::rules::{LoadOptions, RuleSet};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The frozen TensorFlow graph (GraphDef .pb), or a SavedModel directory.
    pub model: PathBuf,
    /// The SavedModel signature to convert (its inputs and outputs).
    #[arg(long, value_name = "NAME", default_value = mlrewrite::ir::savedmodel::DEFAULT_SIGNATURE)]
    pub signature: String,
    /// Where to write the Core ML model (default: the model path with `.mlmodel`).
    #[arg(short, long, value_name = "OUT.mlmodel")]
    pub output: Option<PathBuf>,
    /// Add the rule files of this directory (or file) on top of the standard library.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules of --rules, not the embedded standard library.
    #[arg(long)]
    pub no_std_rules: bool,
    /// Extra model outputs: TF tensors (`name` or `name:i`), in TF's layout.
    #[arg(long, value_delimiter = ',', value_name = "TENSOR,...")]
    pub outputs: Vec<String>,
    /// Flexible shape of a graph input, as coremltools' RangeDim: `NAME=1,1..512,64` (per dim a
    /// size `N`, a range `A..B` or an open range `A..`). Fixed dims become known to the rules.
    /// Repeat for several inputs. Default: known dims fixed, unknown dims `1..`.
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    pub input_shape: Vec<String>,
    /// The enumerated shapes an input accepts, as coremltools' EnumeratedShapes:
    /// `NAME=1,8,64;1,16,64` (quote the `;` in a shell); the first is the default shape.
    #[arg(long = "enumerated-shapes", value_name = "NAME=SHAPE;SHAPE...")]
    pub enumerated_shapes: Vec<String>,
    /// Store float weights as float16.
    #[arg(long)]
    pub fp16_weights: bool,
    /// Core ML specification version to target: 4 (iOS 13) to 9 (iOS 18). The model never
    /// declares less than its layers need, so this only raises the version.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(4..=9))]
    pub target: Option<i32>,
    /// Print per-phase timings and e-graph statistics.
    #[arg(long)]
    pub stats: bool,
    /// Stop saturation when the e-graph has this many e-nodes.
    #[arg(long, value_name = "N", default_value_t = Limits::default().nodes)]
    pub node_limit: usize,
    /// Stop saturation after this many iterations.
    #[arg(long, value_name = "N", default_value_t = Limits::default().iterations)]
    pub iter_limit: usize,
    /// Stop saturation after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().time.as_secs_f64())]
    pub time_limit: f64,
    /// Also write `OUT.explain.json`: why each custom layer (and each unconverted node), as
    /// `mlrewrite explain --format json` prints it (docs/explain.md).
    #[arg(long)]
    pub explain: bool,
    /// Say which rule files were read, which standard rules a user rule replaced or an override
    /// switched off, and how often each rule applied (on stderr).
    #[arg(short, long)]
    pub verbose: bool,
    /// The model's author (Core ML metadata, shown by Xcode).
    #[arg(long)]
    pub author: Option<String>,
    /// The model's license (Core ML metadata).
    #[arg(long)]
    pub license: Option<String>,
    /// The model's version string (Core ML metadata).
    #[arg(long = "version", value_name = "VERSION")]
    pub model_version: Option<String>,
    /// The model's short description (Core ML metadata).
    #[arg(long)]
    pub description: Option<String>,
    /// Description of an input, `NAME=TEXT` (repeat for several inputs).
    #[arg(long = "input-description", value_name = "NAME=TEXT", value_parser = mlrewrite::lower::metadata::parse_description)]
    pub input_description: Vec<(String, String)>,
    /// Description of an output, `NAME=TEXT` (repeat for several outputs).
    #[arg(long = "output-description", value_name = "NAME=TEXT", value_parser = mlrewrite::lower::metadata::parse_description)]
    pub output_description: Vec<(String, String)>,
    /// Make this input (a fixed `[1, H, W, C]` NHWC float input) a Core ML image input, as
    /// coremltools' `ImageType`: RGB (or BGR with --bgr) for 3 channels, grayscale for 1;
    /// Core ML computes `scale * pixel + bias` per channel before the network.
    #[arg(long, value_name = "NAME")]
    pub image_input: Option<String>,
    /// With --image-input: the factor applied to every pixel value.
    #[arg(long, value_name = "S", default_value_t = 1.0, requires = "image_input")]
    pub scale: f32,
    /// With --image-input: the bias added per channel after scaling, in the layout's channel
    /// order (`R,G,B`; with --bgr `B,G,R`; one value for grayscale), as `ImageType(bias=)`.
    #[arg(long, value_name = "B,..", value_delimiter = ',', requires = "image_input", allow_hyphen_values = true)]
    pub bias: Vec<f32>,
    /// With --image-input: the network reads its channels in BGR order.
    #[arg(long, requires = "image_input")]
    pub bgr: bool,
    /// Make the model a classifier over these class labels (one per line; integer labels when
    /// every line is an integer), as coremltools' `ClassifierConfig`: Core ML then returns
    /// `classLabel` (the label of the highest probability) and the probabilities by label.
    #[arg(long, value_name = "FILE")]
    pub class_labels: Option<PathBuf>,
    /// With --class-labels: the output holding the class probabilities (default: the model's
    /// single output).
    #[arg(long, value_name = "NAME", requires = "class_labels")]
    pub probabilities_output: Option<String>,
    /// Also write Swift `MLCustomLayer` stubs for the model's custom layers into DIR (as
    /// `mlrewrite swift` does).
    #[arg(long, value_name = "DIR")]
    pub swift: Option<PathBuf>,
}

/// The `-v` report on the rule set: files, replacements, overrides.
fn verbose_rules(set: &RuleSet, rules: &Compiled) -> String {
    use mlrewrite::rules::diag::Origin;
    let mut s = String::new();
    let std = set.sources.files.iter().filter(|f| f.origin == Origin::Std).count();
    let user: Vec<&str> = set.sources.files.iter().filter(|f| f.origin == Origin::User).map(|f| f.name.as_str()).collect();
    s += &format!("rules: {std} standard file(s), {} user file(s){}\n", user.len(), if user.is_empty() { String::new() } else { format!(": {}", user.join(", ")) });
    s += &format!("rules: {} rules and {} registrations in effect\n", rules.rules.len(), rules.registrations.len());
    for (name, file) in &set.replaced {
        s += &format!("rules: standard `{name}` is replaced by the one in {}\n", set.sources.files[*file].name);
    }
    for name in &rules.disabled_by_override {
        s += &format!("rules: `{name}` is switched off by an override registration (its pattern contains the overridden op)\n");
    }
    s
}

/// The `-v` report on saturation: how often each rule applied.
fn verbose_applied(stats: &mlrewrite::rewrite::pipeline::Stats) -> String {
    let mut s = format!("saturation: {} rule(s) applied\n", stats.saturation.applied.len());
    for (rule, n) in &stats.saturation.applied {
        s += &format!("  {rule} {n}\n");
    }
    s
}

/// Writes `OUT.explain.json` next to the model (also when the conversion failed on
/// unconverted ops: that is when the explanation is most useful).
fn write_explanation(args: &Args, graph: &ir::Graph, set: &RuleSet, rules: &Compiled, options: &ConvertOptions, out: &std::path::Path) -> Result<()> {
    let explain_options = mlrewrite::explain::ExplainOptions { selection: mlrewrite::explain::Selection::CustomLayers, convert: options.clone() };
    let report = mlrewrite::explain::explain(graph, &super::explain::model_name(&args.model), set, rules, &explain_options)
        .with_context(|| format!("explaining {}", args.model.display()))?;
    let path = out.with_extension("explain.json");
    mlrewrite::lower::mlmodel::write_atomic(&path, mlrewrite::explain::to_json(&report).as_bytes())?;
    eprintln!("explanation written to {}", path.display());
    Ok(())
}

/// Timings of the phases the library does not time itself.
struct Phases {
    import: Duration,
    rules: Duration,
    lower: Duration,
    write: Duration,
    /// Bytes, read after writing (the high-water mark of the whole run).
    peak_rss: Option<u64>,
    /// User and system CPU seconds of the whole run, read after writing.
    cpu: Option<(f64, f64)>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let start = Instant::now();
    let out = args.output.clone().unwrap_or_else(|| args.model.with_extension("mlmodel"));
    super::refuse_input_as_output(&out, &[&args.model])?;
    if args.explain {
        super::refuse_input_as_output(&out.with_extension("explain.json"), &[&args.model])?;
    }
    // Rules first: their `infer` items are shape functions the import uses.
    let t = Instant::now();
    let set = RuleSet::load(&LoadOptions { user: args.rules.clone(), no_std: args.no_std_rules })?;
    if set.errors() > 0 {
        eprint!("{}", mlrewrite::rules::diag::render_all(&set.diagnostics, &set.sources, 100));
    }
    let rules = set.compile()?;
    let rules_time = t.elapsed();
    if args.verbose {
        eprint!("{}", verbose_rules(&set, &rules));
    }

    let input_shapes = super::input_shape_specs(&args.input_shape, &args.enumerated_shapes)?;
    let progress = mlrewrite::progress::Progress::on_stderr_terminal(mlrewrite::progress::delay_from_env());
    // Cleared on every way out, so an error message is never drawn over.
    struct Clear<'a>(&'a mlrewrite::progress::Progress);
    impl Drop for Clear<'_> {
        fn drop(&mut self) {
            self.0.finish();
        }
    }
    let _clear = Clear(&progress);
    progress.phase(Phase::Import);
    let t = Instant::now();
    let (graph, _) = ir::load_model(&args.model, Some(&args.signature), &rules.shapes, &super::fixed_dims(&input_shapes))?;
    let import = t.elapsed();

    if !(args.time_limit >= 0.0 && args.time_limit.is_finite()) {
        anyhow::bail!("--time-limit must be a number of seconds >= 0, got {}", args.time_limit);
    }
    let limits = Limits { nodes: args.node_limit, iterations: args.iter_limit, time: Duration::from_secs_f64(args.time_limit) };
    let options = ConvertOptions { limits, outputs: args.outputs.clone(), progress: progress.clone() };
    let (dag, stats) = match convert(&graph, &rules, &options) {
        Ok(r) => r,
        Err(e @ ConvertError::Unsupported(_)) => {
            progress.finish();
            eprintln!("error: {}: {e}", args.model.display());
            if args.explain {
                write_explanation(&args, &graph, &set, &rules, &options, &out)?;
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e).with_context(|| format!("converting {}", args.model.display())),
    };

    // The extracted program holds every weight the model needs: the imported graph's copies
    // go before lowering makes the model's own, unless `--explain` still reads the graph.
    let graph = args.explain.then_some(graph);
    if args.verbose {
        progress.suspend(|| eprint!("{}", verbose_applied(&stats)));
    }
    progress.phase(Phase::Lower);
    progress.suspend(|| eprint!("{}", failure_warnings(&stats)));
    let t = Instant::now();
    let regs = rules.registrations.iter().filter_map(|r| match &r.action {
        Action::Custom(reg) => Some(&**reg),
        _ => None,
    });
    let lower_options = LowerOptions { fp16_weights: args.fp16_weights, target: args.target, input_shapes, ..LowerOptions::default() }.with_registrations(regs);
    let mut model = lower::lower(&dag, &lower_options).with_context(|| format!("lowering {}", args.model.display()))?;
    let app = mlrewrite::api::Options {
        info: mlrewrite::lower::metadata::ModelInfo {
            author: args.author.clone(),
            license: args.license.clone(),
            version: args.model_version.clone(),
            description: args.description.clone(),
            inputs: args.input_description.iter().cloned().collect(),
            outputs: args.output_description.iter().cloned().collect(),
        },
        image_input: args.image_input.as_ref().map(|name| mlrewrite::lower::image::ImageInput { name: name.clone(), scale: args.scale, bias: args.bias.clone(), bgr: args.bgr }),
        class_labels: args.class_labels.as_deref().map(mlrewrite::lower::classifier::ClassLabels::read).transpose()?,
        probabilities_output: args.probabilities_output.clone(),
        ..Default::default()
    };
    mlrewrite::api::make_app_ready(&mut model, &app, &args.model)?;
    let lower_time = t.elapsed();

    let t = Instant::now();
    progress.phase(Phase::Write);
    write_model(&out, &model)?;
    let write = t.elapsed();
    progress.finish();

    if let Some(graph) = &graph {
        write_explanation(&args, graph, &set, &rules, &options, &out)?;
    }
    if let Some(dir) = &args.swift {
        if super::swift::write(&out, &model, &rules, dir)?.is_empty() {
            eprintln!("no custom layers: no Swift stubs written to {}", dir.display());
        }
    }
    print!("{}", summary(&args, &out, &model, &dag, &rules, start.elapsed()));
    if args.stats {
        print!("{}", stats_text(&stats, &Phases { import, rules: rules_time, lower: lower_time, write, peak_rss: super::memory::peak_rss(), cpu: super::cputime::cpu_seconds() }));
    }
    Ok(ExitCode::SUCCESS)
}

/// One warning per rule and reason whose right-hand side failed to build where it matched
/// (the rule did not apply there), naming the first few TF nodes: a failing function is
/// never silent.
fn failure_warnings(stats: &Stats) -> String {
    let mut by_rule: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for f in &stats.saturation.failures {
        let nodes = by_rule.entry((&f.rule, &f.reason)).or_default();
        if f.nodes.is_empty() {
            nodes.push("(a value built by another rule)".to_string());
        }
        nodes.extend(f.nodes.iter().map(|n| format!("`{n}`")));
    }
    let mut s = String::new();
    for ((rule, reason), mut nodes) in by_rule {
        nodes.dedup();
        let more = nodes.len().saturating_sub(5);
        nodes.truncate(5);
        let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
        s += &format!("warning: rule `{rule}` matched {}{tail} but did not apply: its right-hand side failed: {reason}\n", nodes.join(", "));
    }
    s
}

/// Layers by kind, custom layers with their classes and the TF nodes they replace.
fn summary(args: &Args, out: &std::path::Path, model: &mlrewrite::proto::coreml::Model, dag: &TermDag, rules: &Compiled, elapsed: Duration) -> String {
    use mlrewrite::proto::coreml::model::Type;
    let layers = match &model.r#type {
        Some(Type::NeuralNetwork(nn)) => nn.layers.as_slice(),
        Some(Type::NeuralNetworkClassifier(nn)) => nn.layers.as_slice(),
        _ => &[],
    };
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for l in layers {
        if let Some(layer) = &l.layer {
            *kinds.entry(mlrewrite::run::layer_kind(layer)).or_default() += 1;
        }
    }
    let mut s = format!("{} -> {}: {} layers in {} ms\n", args.model.display(), out.display(), layers.len(), elapsed.as_millis());
    let by_kind: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    s += &format!("  layers: {}\n", by_kind.join(", "));
    let class_of: BTreeMap<&str, &str> = rules
        .registrations
        .iter()
        .filter_map(|r| match &r.action {
            Action::Custom(reg) => Some((reg.name.as_str(), reg.class_name.as_str())),
            _ => None,
        })
        .collect();
    let mut customs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in &dag.nodes {
        if let Node::Custom { reg, .. } = &t.node {
            let class = class_of.get(&**reg).copied().unwrap_or(&**reg);
            let names = customs.entry(class).or_default();
            if t.replaces.is_empty() {
                names.push("?");
            }
            names.extend(t.replaces.iter().map(String::as_str));
        }
    }
    for (class, nodes) in customs {
        s += &format!("  custom layer {class} (the app must provide it) replaces: {}\n", nodes.join(", "));
    }
    s
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn stats_text(stats: &Stats, p: &Phases) -> String {
    let sat = &stats.saturation;
    let mut s = String::from("stats:\n");
    for (phase, d) in [
        ("import", p.import),
        ("rules", p.rules),
        ("seed", stats.seed),
        ("saturate", stats.saturate),
        ("extract", stats.extract),
        ("lower", p.lower),
        ("write", p.write),
    ] {
        s += &format!("  {phase:<9} {}\n", ms(d));
    }
    s += &format!("  seeded TF nodes: {}\n", stats.seeded_nodes);
    s += &format!("  e-graph: {} e-nodes, {} e-classes after {} iteration(s); {}\n", sat.nodes, sat.classes, sat.iterations, sat.stop);
    s += &format!("  extracted cost: {:.2}\n", stats.cost);
    s += &format!("  weight-sized rule function calls: {} computed, {} answered from the memo\n", sat.memo_misses, sat.memo_hits);
    if sat.stop.is_limit() {
        s += &format!(
            "  saturation stopped early ({}): its last iteration still applied {} rewrite(s), so the extracted cost is an upper bound; a higher --node-limit/--iter-limit/--time-limit may lower it\n",
            sat.stop,
            sat.last_applied()
        );
    }
    s += &match p.cpu {
        Some((user, system)) => format!("  CPU time: {user:.2} s user, {system:.2} s system (the phases above are wall time, which includes waiting for a core)\n"),
        None => "  CPU time: unavailable (no /proc/self/stat on this system)\n".to_string(),
    };
    s += &match p.peak_rss {
        Some(b) => format!("  peak RSS: {:.1} MB\n", b as f64 / 1e6),
        None => "  peak RSS: unavailable (no /proc/self/status on this system)\n".to_string(),
    };
    s += "  iterations (e-graph at the start; applications; search / apply / rebuild):\n";
    for (i, it) in sat.per_iteration.iter().enumerate() {
        s += &format!(
            "    {:>3}: {} e-nodes, {} e-classes; {} applied; {} / {} / {}\n",
            i + 1,
            it.nodes,
            it.classes,
            it.applied,
            ms(it.search),
            ms(it.apply),
            ms(it.rebuild)
        );
    }
    let shown = sat.rule_times.len().min(TOP_RULES);
    s += &format!("  slowest rules ({shown} of {} searched; search + apply, matches, classes applied):\n", sat.rule_times.len());
    for (rule, t) in sat.rule_times.iter().take(TOP_RULES) {
        s += &format!("    {rule:<40} {:>10} = {} + {}, {} match(es), {} applied\n", ms(t.total()), ms(t.search), ms(t.apply), t.matches, t.applied_classes);
    }
    if !sat.applied.is_empty() {
        let applied: Vec<String> = sat.applied.iter().map(|(r, n)| format!("{r} {n}")).collect();
        s += &format!("  rules applied: {}\n", applied.join(", "));
    }
    s
}

/// How many rules the `--stats` table lists: the slow one is near the top, and the full list
/// (hundreds of rules) would bury it.
const TOP_RULES: usize = 10;
