//! `mlrewrite._native`: the converter as Python functions. The pure-Python layer
//! (`mlrewrite/__init__.py`) turns its arguments (paths, bytes, TensorFlow objects) into the
//! two sources these accept. Errors raise `mlrewrite.ConversionError` with the message the
//! CLI prints after `error: `.

use mlrewrite::api::{self, Options, Source};
use mlrewrite::lower::image::ImageInput;
use mlrewrite::lower::metadata::ModelInfo;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

create_exception!(_native, ConversionError, PyException, "A model that mlrewrite cannot read or convert; the message is the CLI's.");

fn options(rules: Vec<PathBuf>, no_std_rules: bool, outputs: Vec<String>, fp16_weights: bool, signature: Option<String>, target: Option<i32>) -> Options {
    Options { rules, no_std_rules, outputs, fp16_weights, signature, target, ..Options::default() }
}

/// The app-ready options of `convert` (image input, class labels), as the CLI's flags.
#[derive(Default)]
struct App {
    image_input: Option<String>,
    scale: Option<f32>,
    bias: Option<Vec<f32>>,
    bgr: bool,
    /// A labels file, as `--class-labels FILE`.
    class_labels_path: Option<PathBuf>,
    /// The labels as the lines of such a file (the Python layer joins a list).
    class_labels_text: Option<String>,
    probabilities_output: Option<String>,
}

impl App {
    fn apply(self, o: &mut Options) -> PyResult<()> {
        use mlrewrite::lower::classifier::ClassLabels;
        let value_error = pyo3::exceptions::PyValueError::new_err;
        match self.image_input {
            Some(name) => o.image_input = Some(ImageInput { name, scale: self.scale.unwrap_or(1.0), bias: self.bias.unwrap_or_default(), bgr: self.bgr }),
            None if self.scale.is_some() || self.bias.is_some() || self.bgr => return Err(value_error("scale, bias and bgr need image_input (the input to make an image)")),
            None => {}
        }
        o.class_labels = match (self.class_labels_path, self.class_labels_text) {
            (Some(p), _) => Some(ClassLabels::read(&p).map_err(|e| error(e.into()))?),
            (None, Some(t)) => Some(ClassLabels::parse(&t, "<class_labels>").map_err(|e| error(e.into()))?),
            (None, None) if self.probabilities_output.is_some() => return Err(value_error("probabilities_output needs class_labels")),
            (None, None) => None,
        };
        o.probabilities_output = self.probabilities_output;
        Ok(())
    }
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
#[pyo3(signature = (path, rules=vec![], no_std_rules=false, outputs=vec![], fp16_weights=false, signature=None, target=None, metadata=None, input_descriptions=None, output_descriptions=None, image_input=None, scale=None, bias=None, bgr=false, class_labels_path=None, class_labels_text=None, probabilities_output=None))]
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
    image_input: Option<String>,
    scale: Option<f32>,
    bias: Option<Vec<f32>>,
    bgr: bool,
    class_labels_path: Option<PathBuf>,
    class_labels_text: Option<String>,
    probabilities_output: Option<String>,
) -> PyResult<Converted<'py>> {
    let app = App { image_input, scale, bias, bgr, class_labels_path, class_labels_text, probabilities_output };
    let mut o = options(rules, no_std_rules, outputs, fp16_weights, signature, target);
    o.info = info(metadata, input_descriptions, output_descriptions)?;
    app.apply(&mut o)?;
    // The conversion holds no Python object: other Python threads run meanwhile.
    let c = py.detach(|| api::convert(&Source::Path(&path), &o)).map_err(error)?;
    Ok((PyBytes::new(py, &c.mlmodel), c.layers, c.inputs, c.outputs))
}

/// Converts serialized `GraphDef` bytes; `name` stands for them in messages.
#[pyfunction]
#[pyo3(signature = (data, name="<GraphDef bytes>", rules=vec![], no_std_rules=false, outputs=vec![], fp16_weights=false, target=None, metadata=None, input_descriptions=None, output_descriptions=None, image_input=None, scale=None, bias=None, bgr=false, class_labels_path=None, class_labels_text=None, probabilities_output=None))]
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
    image_input: Option<String>,
    scale: Option<f32>,
    bias: Option<Vec<f32>>,
    bgr: bool,
    class_labels_path: Option<PathBuf>,
    class_labels_text: Option<String>,
    probabilities_output: Option<String>,
) -> PyResult<Converted<'py>> {
    let app = App { image_input, scale, bias, bgr, class_labels_path, class_labels_text, probabilities_output };
    let mut o = options(rules, no_std_rules, outputs, fp16_weights, None, target);
    o.info = info(metadata, input_descriptions, output_descriptions)?;
    app.apply(&mut o)?;
    let c = py.detach(|| api::convert(&Source::GraphDef { bytes: data, name }, &o)).map_err(error)?;
    Ok((PyBytes::new(py, &c.mlmodel), c.layers, c.inputs, c.outputs))
}

/// The `explain --format json` report of a path, as a JSON string.
#[pyfunction]
#[pyo3(signature = (path, rules=vec![], no_std_rules=false, outputs=vec![], signature=None))]
fn explain_path(py: Python<'_>, path: PathBuf, rules: Vec<PathBuf>, no_std_rules: bool, outputs: Vec<String>, signature: Option<String>) -> PyResult<String> {
    let o = options(rules, no_std_rules, outputs, false, signature, None);
    py.detach(|| api::explain_json(&Source::Path(Path::new(&path)), &o)).map_err(error)
}

/// The `explain --format json` report of `GraphDef` bytes, as a JSON string.
#[pyfunction]
#[pyo3(signature = (data, name="<GraphDef bytes>", rules=vec![], no_std_rules=false, outputs=vec![]))]
fn explain_graphdef(py: Python<'_>, data: &[u8], name: &str, rules: Vec<PathBuf>, no_std_rules: bool, outputs: Vec<String>) -> PyResult<String> {
    let o = options(rules, no_std_rules, outputs, false, None, None);
    py.detach(|| api::explain_json(&Source::GraphDef { bytes: data, name }, &o)).map_err(error)
}

/// An array crossing the boundary: its shape and its values as little-endian float32 bytes
/// (numpy's `tobytes()` of a C-contiguous `<f4` array).
type RawArray<'py> = (Vec<usize>, Bound<'py, PyBytes>);

/// Runs `.mlmodel` bytes with the reference interpreter, as `mlrewrite run`; `inputs` are
/// raw arrays by input name, `images` PNG paths by image input name. Returns the outputs as
/// raw arrays and, for a classifier, (predicted feature name, label).
#[pyfunction]
#[pyo3(signature = (mlmodel, inputs, images, name="<mlmodel bytes>", rules=vec![], no_std_rules=false))]
#[allow(clippy::type_complexity)]
fn run<'py>(
    py: Python<'py>,
    mlmodel: &[u8],
    inputs: BTreeMap<String, (Vec<usize>, Vec<u8>)>,
    images: BTreeMap<String, PathBuf>,
    name: &str,
    rules: Vec<PathBuf>,
    no_std_rules: bool,
) -> PyResult<(BTreeMap<String, RawArray<'py>>, Option<(String, String)>)> {
    let mut arrays = BTreeMap::new();
    for (input, (shape, bytes)) in inputs {
        let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), values)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("input `{input}`: {} bytes for shape {shape:?}: {e}", bytes.len())))?;
        arrays.insert(input, a);
    }
    let o = options(rules, no_std_rules, vec![], false, None, None);
    let r = py.detach(|| api::run(mlmodel, name, arrays, &images, &o)).map_err(error)?;
    let outputs = r
        .outputs
        .into_iter()
        .map(|(k, a)| {
            let bytes: Vec<u8> = a.iter().flat_map(|v| v.to_le_bytes()).collect();
            (k, (a.shape().to_vec(), PyBytes::new(py, &bytes)))
        })
        .collect();
    Ok((outputs, r.predicted))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ConversionError", m.py().get_type::<ConversionError>())?;
    m.add_function(wrap_pyfunction!(convert_path, m)?)?;
    m.add_function(wrap_pyfunction!(convert_graphdef, m)?)?;
    m.add_function(wrap_pyfunction!(explain_path, m)?)?;
    m.add_function(wrap_pyfunction!(explain_graphdef, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
