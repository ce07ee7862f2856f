//! `mlrewrite._native`: the converter as Python functions. The pure-Python layer
//! (`mlrewrite/__init__.py`) turns its arguments (paths, bytes, TensorFlow objects) into the
//! two sources these accept. Errors raise `mlrewrite.ConversionError` with the message the
//! CLI prints after `error: `.

use mlrewrite::api::{self, Options, Source};
use mlrewrite::lower::metadata::ModelInfo;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

create_exception!(_native, ConversionError, PyException, "A model that mlrewrite cannot read or convert; the message is the CLI's.");

fn options(rules: Vec<PathBuf>, no_std_rules: bool, outputs: Vec<String>, fp16_weights: bool, signature: Option<String>, target: Option<i32>) -> Options {
    Options { rules, no_std_rules, outputs, fp16_weights, signature, target, info: ModelInfo::default() }
}

/// Author, license, version, description and feature descriptions, as `convert --author` ...
fn info(metadata: Option<BTreeMap<String, String>>, inputs: Option<BTreeMap<String, String>>, outputs: Option<BTreeMap<String, String>>) -> PyResult<ModelInfo> {
    let mut info = ModelInfo { inputs: inputs.unwrap_or_default(), outputs: outputs.unwrap_or_default(), ..ModelInfo::default() };
    for (k, v) in metadata.unwrap_or_default() {
        let field = match k.as_str() {
            "author" => &mut info.author,
            "license" => &mut info.license,
            "version" => &mut info.version,
            "description" => &mut info.description,
            other => return Err(pyo3::exceptions::PyValueError::new_err(format!("unknown metadata field `{other}`: author, license, version or description"))),
        };
        *field = Some(v);
    }
    Ok(info)
}

/// (mlmodel bytes, layer count by kind, input names, output names).
type Converted<'py> = (Bound<'py, PyBytes>, BTreeMap<String, usize>, Vec<String>, Vec<String>);

fn error(e: anyhow::Error) -> PyErr {
    ConversionError::new_err(format!("{e:#}"))
}

/// Converts a frozen `.pb` or SavedModel directory; returns [`Converted`].
#[pyfunction]
#[pyo3(signature = (path, rules=vec![], no_std_rules=false, outputs=vec![], fp16_weights=false, signature=None, target=None, metadata=None, input_descriptions=None, output_descriptions=None))]
#[allow(clippy::too_many_arguments)]
fn convert_path<'py>(
    py: Python<'py>,
    path: PathBuf,
    rules: Vec<PathBuf>,
    no_std_rules: bool,
    outputs: Vec<String>,
    fp16_weights: bool,
    signature: Option<String>,
    target: Option<i32>,
    metadata: Option<BTreeMap<String, String>>,
    input_descriptions: Option<BTreeMap<String, String>>,
    output_descriptions: Option<BTreeMap<String, String>>,
) -> PyResult<Converted<'py>> {
    let mut o = options(rules, no_std_rules, outputs, fp16_weights, signature, target);
    o.info = info(metadata, input_descriptions, output_descriptions)?;
    let c = api::convert(&Source::Path(&path), &o).map_err(error)?;
    Ok((PyBytes::new(py, &c.mlmodel), c.layers, c.inputs, c.outputs))
}

/// Converts serialized `GraphDef` bytes; `name` stands for them in messages.
#[pyfunction]
#[pyo3(signature = (data, name="<GraphDef bytes>", rules=vec![], no_std_rules=false, outputs=vec![], fp16_weights=false, target=None, metadata=None, input_descriptions=None, output_descriptions=None))]
#[allow(clippy::too_many_arguments)]
fn convert_graphdef<'py>(
    py: Python<'py>,
    data: &[u8],
    name: &str,
    rules: Vec<PathBuf>,
    no_std_rules: bool,
    outputs: Vec<String>,
    fp16_weights: bool,
    target: Option<i32>,
    metadata: Option<BTreeMap<String, String>>,
    input_descriptions: Option<BTreeMap<String, String>>,
    output_descriptions: Option<BTreeMap<String, String>>,
) -> PyResult<Converted<'py>> {
    let mut o = options(rules, no_std_rules, outputs, fp16_weights, None, target);
    o.info = info(metadata, input_descriptions, output_descriptions)?;
    let c = api::convert(&Source::GraphDef { bytes: data, name }, &o).map_err(error)?;
    Ok((PyBytes::new(py, &c.mlmodel), c.layers, c.inputs, c.outputs))
}

/// The `explain --format json` report of a path, as a JSON string.
#[pyfunction]
#[pyo3(signature = (path, rules=vec![], no_std_rules=false, outputs=vec![], signature=None))]
fn explain_path(path: PathBuf, rules: Vec<PathBuf>, no_std_rules: bool, outputs: Vec<String>, signature: Option<String>) -> PyResult<String> {
    let o = options(rules, no_std_rules, outputs, false, signature, None);
    api::explain_json(&Source::Path(Path::new(&path)), &o).map_err(error)
}

/// The `explain --format json` report of `GraphDef` bytes, as a JSON string.
#[pyfunction]
#[pyo3(signature = (data, name="<GraphDef bytes>", rules=vec![], no_std_rules=false, outputs=vec![]))]
fn explain_graphdef(data: &[u8], name: &str, rules: Vec<PathBuf>, no_std_rules: bool, outputs: Vec<String>) -> PyResult<String> {
    let o = options(rules, no_std_rules, outputs, false, None, None);
    api::explain_json(&Source::GraphDef { bytes: data, name }, &o).map_err(error)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ConversionError", m.py().get_type::<ConversionError>())?;
    m.add_function(wrap_pyfunction!(convert_path, m)?)?;
    m.add_function(wrap_pyfunction!(convert_graphdef, m)?)?;
    m.add_function(wrap_pyfunction!(explain_path, m)?)?;
    m.add_function(wrap_pyfunction!(explain_graphdef, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
