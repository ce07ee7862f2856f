//! Every layer-kind fixture of `tests/fixtures/layers/manifest.json` through the reference
//! interpreter. The fixtures (made by `tools/make_layer_fixtures.py` with coremltools'
//! builder) hold inputs and expected outputs computed by numpy / TensorFlow, never by this
//! interpreter, so these tests check our reading of `NeuralNetwork.proto` against an
//! independent reference. All failing cases are reported together.

mod common;

use mlrewrite::run::{npz, Interpreter, Precision, RunOptions};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct Feature {
    name: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    layers: Vec<String>,
    rtol: f64,
    atol: f64,
    inputs: Vec<Feature>,
    outputs: Vec<Feature>,
    /// `"distribution"`: random layers, whose expected outputs are numpy samples of the
    /// distribution, compared as distributions (`run::compare::same_distribution`).
    #[serde(default)]
    compare: Option<String>,
}

fn run_case(dir: &Path, case: &Case, precision: Precision) -> Result<(), String> {
    let model = mlrewrite::lower::mlmodel::read_model(&dir.join(format!("{}.mlmodel", case.name))).map_err(|e| e.to_string())?;
    let data = npz::read_npz(&dir.join(format!("{}.npz", case.name))).map_err(|e| e.to_string())?;
    let options = RunOptions { precision, custom_kernels: common::kernels(), ..Default::default() };
    let interp = Interpreter::new(&model, options).map_err(|e| e.to_string())?;
    let mut inputs = BTreeMap::new();
    for f in &case.inputs {
        let a = data.get(&f.name).ok_or_else(|| format!("npz has no input `{}`", f.name))?;
        inputs.insert(f.name.clone(), a.clone());
    }
    let outputs = interp.run(inputs).map_err(|e| e.to_string())?;
    let mut errors = Vec::new();
    for f in &case.outputs {
        let want = data.get(&f.name).ok_or_else(|| format!("npz has no expected output `{}`", f.name))?;
        let got = outputs.get(&f.name).ok_or_else(|| format!("no output `{}`", f.name))?;
        let verdict = match case.compare.as_deref() {
            Some("distribution") => mlrewrite::run::compare::same_distribution(got, want).map(|_| ()),
            Some(other) => Err(format!("unknown comparison `{other}`")),
            None => common::allclose(got, want, case.rtol, case.atol),
        };
        if let Err(e) = verdict {
            errors.push(format!("output `{}`: {e}", f.name));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn run_all(precision: Precision) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).expect("tests/fixtures/layers/manifest.json");
    let cases: Vec<Case> = serde_json::from_str(&manifest).expect("manifest.json parses");
    assert!(cases.len() > 100, "the manifest lists {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = run_case(&dir, case, precision) {
            failures.push(format!("{} ({}): {e}", case.name, case.layers.join(", ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} layer fixtures fail ({precision:?}):\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_layer_fixture_matches_its_reference_in_f32() {
    run_all(Precision::F32);
}

#[test]
fn every_layer_fixture_matches_its_reference_in_f64() {
    run_all(Precision::F64);
}
