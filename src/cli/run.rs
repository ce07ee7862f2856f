//! `mlrewrite run`: runs a Core ML Neural Network model on `.npz` inputs with the reference
//! interpreter, optionally writes the outputs and compares them with golden arrays.
//!
//! The comparison rule is `mlrewrite::run::compare` (numpy.allclose, exact shapes, inner
//! tensors with atol scaled by their RMS). Exit status: 0 when every output matches, 2 when
//! one does not or has no golden, 1 on errors.

use mlrewrite::run::compare::{compare, same_distribution, Tolerance};
use mlrewrite::run::{lookup, npz, Interpreter, Precision, RunOptions};
use ndarray::ArrayD;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Core ML model (.mlmodel, Neural Network type).
    pub model: PathBuf,
    /// Inputs: an .npz with one array per model input, named `NAME` or `NAME:0` (an image input
    /// takes raw pixels, `[C,H,W]` or `[H,W,C]`).
    #[arg(long, required_unless_present = "image")]
    pub inputs: Option<PathBuf>,
    /// An image input from a PNG file, `NAME=FILE.png` (repeat for several): 8-bit RGB, RGBA
    /// (alpha ignored) or grayscale, of exactly the input's declared size (no resizing),
    /// reordered for a BGR input; the model's preprocessing (scale, bias) then applies.
    #[arg(long = "image", value_name = "NAME=FILE.png", value_parser = parse_image_arg)]
    pub image: Vec<(String, PathBuf)>,
    /// Write the model outputs to this .npz (arrays named after the outputs, f32).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compare every output with the golden array `NAME` or `NAME:0` of this .npz.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// Relative tolerance of the comparison.
    #[arg(long, default_value_t = 1e-3)]
    pub rtol: f64,
    /// Absolute tolerance of the comparison.
    #[arg(long, default_value_t = 1e-4)]
    pub atol: f64,
    /// Print each layer's output shapes and checksums (sum, sum of magnitudes).
    #[arg(long)]
    pub trace: bool,
    /// Compute in f64 instead of f32.
    #[arg(long)]
    pub f64: bool,
    /// Also compare goldens that name inner blobs of the model (same shape only).
    #[arg(long)]
    pub probes: bool,
    /// Compare inner tensors (probes, and outputs that `convert --outputs` added) with the
    /// plain --atol instead of atol scaled by the golden's RMS.
    #[arg(long)]
    pub plain_inner_atol: bool,
    /// Compare outputs as samples of the golden's distribution (means, variances and a
    /// Kolmogorov-Smirnov distance; random ops), not value by value.
    #[arg(long)]
    pub distribution: bool,
    /// The largest tensor one layer may allocate (bytes; suffixes K, M, G, T as powers of
    /// 1024). A model asking for more is refused with the layer named instead of exhausting
    /// memory. Default 4G at f32 (2^30 elements).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
    /// The most loop iterations one run may execute, all `loop` layers together (nested loops
    /// multiply). A loop still running at the limit is stopped with an error naming it.
    #[arg(long, value_name = "N", default_value_t = mlrewrite::run::MAX_LOOP_ITERATIONS)]
    pub max_loop_iterations: u64,
    /// Rule files (directory or file) on top of the standard library: a custom layer runs the
    /// `reference` of the registration with its class name.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules of --rules, not the embedded standard library.
    #[arg(long)]
    pub no_std_rules: bool,
}

/// `NAME=FILE.png`.
fn parse_image_arg(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => Ok((name.to_string(), PathBuf::from(path))),
        _ => Err(format!("`{s}`: expected NAME=FILE.png")),
    }
}

/// `4096`, `512K`, `64M`, `4G`, `1T` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("`{s}`: unknown size suffix `{c}` (use K, M, G or T)")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let n: u64 = digits.trim().parse().map_err(|_| format!("`{s}` is not a size (a number of bytes, optionally with K, M, G or T)"))?;
    n.checked_mul(1u64 << shift).filter(|&b| b > 0).ok_or_else(|| format!("`{s}` is not a size between 1 byte and 16 EiB"))
}

/// Kernels for the model's custom layers, from the `reference`s of the registrations with
/// their class names (none are compiled into the binary). Rules are read only when the model
/// has a custom layer.
fn reference_kernels(args: &Args, model: &mlrewrite::proto::coreml::Model) -> anyhow::Result<BTreeMap<String, Box<dyn mlrewrite::run::CustomKernel>>> {
    use mlrewrite::rules::{LoadOptions, RuleSet};
    if mlrewrite::reference::custom_classes(model).is_empty() {
        return Ok(BTreeMap::new());
    }
    let set = RuleSet::load(&LoadOptions { user: args.rules.clone(), no_std: args.no_std_rules })?;
    if set.errors() > 0 {
        eprint!("{}", mlrewrite::rules::diag::render_all(&set.diagnostics, &set.sources, 100));
    }
    let compiled = set.compile()?;
    let rules_only = std::sync::Arc::new(set.compile_rules_only()?);
    Ok(mlrewrite::reference::kernels(&compiled.registrations, rules_only))
}

fn fmt_shape(s: &[usize]) -> String {
    format!("[{}]", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.out {
        let mut inputs = vec![args.model.as_path()];
        inputs.extend(args.inputs.as_deref());
        inputs.extend(args.compare.as_deref());
        inputs.extend(args.image.iter().map(|(_, p)| p.as_path()));
        super::refuse_input_as_output(out, &inputs)?;
    }
    let model = mlrewrite::lower::mlmodel::read_model(&args.model)?;
    let given = match &args.inputs {
        Some(p) => npz::read_npz(p)?,
        None => BTreeMap::new(),
    };
    let mut images = BTreeMap::new();
    for (name, path) in &args.image {
        // CHW, so that no image size can make the interpreter read it as HWC.
        let hwc = mlrewrite::run::image_file::image_input(&model, name, path)?;
        let chw = hwc.permuted_axes(ndarray::IxDyn(&[2, 0, 1])).as_standard_layout().into_owned();
        if images.insert(name.clone(), chw).is_some() {
            anyhow::bail!("--image gives input `{name}` twice");
        }
        if let (Some(p), Some((k, _))) = (&args.inputs, lookup(&given, name)) {
            anyhow::bail!("input `{name}` is given twice: by --image {} and as `{k}` in {}", path.display(), p.display());
        }
    }
    let goldens = match &args.compare {
        Some(p) => Some(npz::read_npz(p)?),
        None => None,
    };
    let mut options = RunOptions {
        precision: if args.f64 { Precision::F64 } else { Precision::F32 },
        max_tensor_bytes: args.max_memory,
        max_loop_iterations: Some(args.max_loop_iterations),
        custom_kernels: reference_kernels(&args, &model)?,
        missing_kernel_hint: format!(
            "; to run it, give its registration a `reference = ...` composite (docs/rules.md, Custom layers) \
             and pass the rule directory with `mlrewrite run --rules DIR`{}",
            if args.rules.is_empty() { " (no --rules was given)" } else { "" }
        ),
        ..Default::default()
    };
    // Probe candidates: golden names that are neither outputs nor inputs.
    let io: BTreeSet<String> = {
        let probe = Interpreter::new(&model, RunOptions::default())?;
        probe.input_names().iter().chain(probe.output_names().iter()).map(|s| s.to_string()).collect()
    };
    if args.probes {
        if let Some(g) = &goldens {
            for k in g.keys() {
                let name = k.strip_suffix(":0").unwrap_or(k);
                if !io.contains(name) {
                    options.keep_blobs.insert(name.to_string());
                }
            }
        }
    }
    let interp = Interpreter::new(&model, options)?;
    let mut inputs = BTreeMap::new();
    for name in interp.input_names() {
        if let Some(a) = images.remove(name) {
            inputs.insert(name.to_string(), a);
            continue;
        }
        match (lookup(&given, name), &args.inputs) {
            (Some((_, a)), _) => {
                inputs.insert(name.to_string(), a.clone());
            }
            (None, Some(p)) => anyhow::bail!(
                "{} has no array for model input `{name}` (looked for `{name}` and `{name}:0`; it has {})",
                p.display(),
                given.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
            (None, None) => anyhow::bail!("model input `{name}` is not given: pass --inputs FILE.npz or --image {name}=FILE.png"),
        }
    }
    let trace = args.trace;
    let outputs = interp.run_traced(inputs, &mut |e| {
        if trace {
            for (name, shape, sum, abs) in &e.outputs {
                println!("[{:4}] {} `{}` -> `{}` {} sum={:.6e} abs={:.6e}", e.index, e.kind, e.layer, name, fmt_shape(shape), sum, abs);
            }
        }
    })?;
    let output_names: Vec<String> = interp.output_names().iter().map(|s| s.to_string()).collect();
    if let Some((feature, label)) = interp.predicted_label(&model, &outputs) {
        println!("predicted `{feature}`: {label}");
    }
    if let Some(path) = &args.out {
        let only: BTreeMap<String, ArrayD<f32>> =
            outputs.iter().filter(|(k, _)| output_names.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        npz::write_npz(path, &only)?;
    }
    let Some(goldens) = goldens else {
        if args.out.is_none() && !trace {
            for name in &output_names {
                if let Some(a) = outputs.get(name) {
                    println!("output `{name}`: shape {}", fmt_shape(a.shape()));
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let mut failed = 0;
    let mut used = BTreeSet::new();
    let tol = Tolerance { rtol: args.rtol, atol: args.atol, rms_scaled: false };
    let inner: BTreeSet<String> = if args.plain_inner_atol { BTreeSet::new() } else { mlrewrite::lower::inner_outputs(&model) };
    let check = |kind: &str, name: &str, got: &ArrayD<f32>, gname: &str, want: &ArrayD<f32>, failed: &mut usize| {
        if args.distribution {
            match same_distribution(got, want) {
                Ok(d) => println!(
                    "{kind} `{name}`: ok shape {} mean {:.5} (golden {:.5}) variance {:.5} (golden {:.5}) KS distance {:.4} (below {:.4})",
                    fmt_shape(got.shape()), d.mean.0, d.mean.1, d.var.0, d.var.1, d.ks, d.ks_tol
                ),
                Err(e) => {
                    *failed += 1;
                    println!("{kind} `{name}`: FAIL {e}");
                }
            }
            return;
        }
        let tol = if kind == "probe" || inner.contains(name) { if args.plain_inner_atol { tol } else { tol.inner() } } else { tol };
        let d = match compare(got, want, tol) {
            Ok(d) => d,
            Err(e) => {
                *failed += 1;
                println!("{kind} `{name}`: FAIL shape mismatch: got {}, golden `{gname}` has {}", fmt_shape(&e.got), fmt_shape(&e.want));
                return;
            }
        };
        let verdict = if d.passed() { "ok" } else { "FAIL" };
        if !d.passed() {
            *failed += 1;
        }
        let scaled = if tol.rms_scaled && d.atol != args.atol { format!(" (inner tensor: atol {:.3e} = atol x RMS {:.3})", d.atol, d.rms) } else { String::new() };
        println!(
            "{kind} `{name}`: {verdict} shape {} max_abs_err {:.3e} max_rel_err {:.3e}{}{scaled}",
            fmt_shape(got.shape()),
            d.max_abs,
            d.max_rel,
            if d.bad > 0 { format!(" ({} of {} values beyond atol {:.3e} + rtol {})", d.bad, d.total, d.atol, args.rtol) } else { String::new() }
        );
    };
    for name in &output_names {
        let Some(got) = outputs.get(name) else { continue };
        match lookup(&goldens, name) {
            Some((gname, want)) => {
                used.insert(gname.clone());
                check("output", name, got, gname, want, &mut failed);
            }
            None => {
                failed += 1;
                println!("output `{name}`: FAIL no golden array (looked for `{name}` and `{name}:0`)");
            }
        }
    }
    let mut probes_compared = 0;
    for (gname, want) in &goldens {
        if used.contains(gname) {
            continue;
        }
        let name = gname.strip_suffix(":0").unwrap_or(gname);
        if io.contains(name) {
            println!("golden `{gname}`: not compared (a model input)");
        } else if let Some(got) = outputs.get(name).filter(|_| args.probes) {
            if got.shape() == want.shape() {
                probes_compared += 1;
                check("probe", name, got, gname, want, &mut failed);
            } else {
                println!(
                    "golden `{gname}`: not compared (inner blob `{name}` has shape {}, golden {})",
                    fmt_shape(got.shape()),
                    fmt_shape(want.shape())
                );
            }
        } else {
            println!("golden `{gname}`: not compared (matches no model output)");
        }
    }
    let total = output_names.len() + probes_compared;
    let rule = if args.distribution { "as distributions".to_string() } else { format!("rtol {} atol {}", args.rtol, args.atol) };
    if failed == 0 {
        let how = if args.distribution { rule } else { format!("within {rule}") };
        println!("PASS: {total} compared {how}");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("FAIL: {failed} of {total} compared arrays differ ({rule})");
        Ok(ExitCode::from(2))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("4X").unwrap_err().contains("unknown size suffix"));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999T").is_err());
    }
}
