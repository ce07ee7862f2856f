//! `mlrewrite inspect`: a summary of a TensorFlow GraphDef (`.pb`) or a Core ML model
//! (`.mlmodel`), as text or JSON. The summary is built once as a serializable value and
//! rendered either way, so the two formats cannot disagree.

use mlrewrite::ir::{self, Graph, InferReport, ShapeRegistry};
use mlrewrite::proto::coreml::{self, feature_type, model, FeatureDescription, Model, NeuralNetworkLayer};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A frozen TensorFlow graph (.pb), a SavedModel directory or a Core ML model (.mlmodel).
    pub model: PathBuf,
    /// The SavedModel signature to inspect.
    #[arg(long, value_name = "NAME", default_value = ir::savedmodel::DEFAULT_SIGNATURE)]
    pub signature: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ext = args.model.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let saved_model = ir::savedmodel::is_saved_model(&args.model);
    let out = match ext.as_str() {
        _ if saved_model => {
            let (g, report) = ir::load_model(&args.model, Some(&args.signature), &ShapeRegistry::tensorflow(), &Default::default())?;
            render(&graph_summary(&args.model, &g, &report), args.format, render_graph)?
        }
        "mlmodel" => {
            let m = mlrewrite::lower::mlmodel::read_model(&args.model)?;
            render(&coreml_summary(&args.model, &m), args.format, render_coreml)?
        }
        "pb" | "pbtxt" | "graphdef" => {
            let (g, report) = ir::load(&args.model, &ShapeRegistry::tensorflow())?;
            render(&graph_summary(&args.model, &g, &report), args.format, render_graph)?
        }
        _ => anyhow::bail!("{}: unknown model format (expected a .pb GraphDef, a SavedModel directory or a .mlmodel)", args.model.display()),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn render<T: Serialize>(s: &T, format: Format, text: fn(&T) -> String) -> anyhow::Result<String> {
    Ok(match format {
        Format::Text => text(s),
        Format::Json => serde_json::to_string_pretty(s)? + "\n",
    })
}

/// One tensor of a graph's interface.
#[derive(Debug, Serialize)]
pub struct TensorSummary {
    pub name: String,
    pub dtype: String,
    pub shape: String,
}

#[derive(Debug, Serialize)]
pub struct GraphSummary {
    pub file: String,
    pub format: &'static str,
    pub nodes: usize,
    pub ops: BTreeMap<String, usize>,
    pub inputs: Vec<TensorSummary>,
    pub outputs: Vec<TensorSummary>,
    pub constants: usize,
    pub constant_bytes: usize,
    /// Ops with a used output whose dtype or shape stayed unknown, with their node counts.
    pub unknown_shapes: BTreeMap<String, usize>,
    /// Ops with no shape function (they still import).
    pub no_shape_function: Vec<String>,
    /// The functions of the GraphDef's library (inlined at import), with their nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionSummary>,
}

/// One library function: its name and its nodes as `name (Op)`.
#[derive(Debug, Serialize)]
pub struct FunctionSummary {
    pub name: String,
    pub nodes: Vec<String>,
}

fn tensor_summaries(g: &Graph, ids: &[ir::NodeId]) -> Vec<TensorSummary> {
    let mut v = Vec::new();
    for &id in ids {
        let n = g.node(id);
        for (k, f) in n.outputs.iter().enumerate() {
            v.push(TensorSummary {
                name: g.outlet_name(ir::Outlet { node: id, output: k }),
                dtype: f.dtype.map_or("?".into(), |d| d.to_string()),
                shape: f.shape.to_string(),
            });
        }
    }
    v
}

pub fn graph_summary(path: &Path, g: &Graph, report: &InferReport) -> GraphSummary {
    let mut ops = BTreeMap::new();
    let (mut constants, mut constant_bytes) = (0, 0);
    for id in g.node_ids() {
        let n = g.node(id);
        *ops.entry(n.op.clone()).or_insert(0) += 1;
        if n.op == "Const" {
            constants += 1;
            constant_bytes += n.get_attr_tensor("value").map_or(0, |t| t.byte_size());
        }
    }
    GraphSummary {
        file: path.display().to_string(),
        format: "TensorFlow GraphDef",
        nodes: g.len(),
        ops,
        inputs: tensor_summaries(g, &g.inputs_of_graph()),
        outputs: tensor_summaries(g, &g.outputs_of_graph()),
        constants,
        constant_bytes,
        unknown_shapes: report.incomplete.iter().map(|(k, v)| (k.clone(), v.len())).collect(),
        no_shape_function: report.no_shape_fn.keys().cloned().collect(),
        functions: g
            .library
            .iter()
            .map(|f| FunctionSummary { name: f.name.clone(), nodes: f.nodes.iter().map(|(n, op)| format!("{n} ({op})")).collect() })
            .collect(),
    }
}

fn table(out: &mut String, rows: &[(String, String)]) {
    let w = rows.iter().map(|(a, _)| a.chars().count()).max().unwrap_or(0);
    for (a, b) in rows {
        let _ = writeln!(out, "  {a:<w$}  {b}");
    }
}

fn render_graph(s: &GraphSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}: {}, {} nodes", s.file, s.format, s.nodes);
    let _ = writeln!(o, "constants: {} Const nodes, {} bytes", s.constants, s.constant_bytes);
    for (title, ts) in [("inputs", &s.inputs), ("outputs", &s.outputs)] {
        let _ = writeln!(o, "{title} ({}):", ts.len());
        table(&mut o, &ts.iter().map(|t| (t.name.clone(), format!("{} {}", t.dtype, t.shape))).collect::<Vec<_>>());
    }
    let _ = writeln!(o, "ops ({} kinds):", s.ops.len());
    table(&mut o, &s.ops.iter().map(|(k, v)| (k.clone(), v.to_string())).collect::<Vec<_>>());
    if s.unknown_shapes.is_empty() {
        let _ = writeln!(o, "shapes: every used tensor has a known dtype and shape");
    } else {
        let _ = writeln!(o, "unknown shapes ({} ops):", s.unknown_shapes.len());
        table(&mut o, &s.unknown_shapes.iter().map(|(k, v)| (k.clone(), format!("{v} nodes"))).collect::<Vec<_>>());
    }
    if !s.no_shape_function.is_empty() {
        let _ = writeln!(o, "ops without a shape function: {}", s.no_shape_function.join(", "));
    }
    if !s.functions.is_empty() {
        let _ = writeln!(o, "functions ({}, inlined at import):", s.functions.len());
        for f in &s.functions {
            let _ = writeln!(o, "  {} ({} nodes)", f.name, f.nodes.len());
            for n in &f.nodes {
                let _ = writeln!(o, "    {n}");
            }
        }
    }
    o
}

#[derive(Debug, Serialize)]
pub struct FeatureSummary {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[derive(Debug, Serialize)]
pub struct CustomLayerSummary {
    pub layer: String,
    pub class_name: String,
    pub description: String,
    pub parameters: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CoreMlSummary {
    pub file: String,
    pub format: &'static str,
    pub specification_version: i32,
    pub model_type: String,
    pub inputs: Vec<FeatureSummary>,
    pub outputs: Vec<FeatureSummary>,
    pub layers: usize,
    pub layer_kinds: BTreeMap<String, usize>,
    pub custom_layers: Vec<CustomLayerSummary>,
    /// Author, license, version and description, where set (`convert --author` ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// A classifier's labels and its label and probabilities outputs (`convert --class-labels`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier: Option<ClassifierSummary>,
    /// The nested networks of `loop` and `branch` layers, outermost first, depth-first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nested_networks: Vec<NestedNetworkSummary>,
}

/// What makes a `neuralNetworkClassifier` a classifier: its labels (the first few shown in
/// text), the predicted-label output and the probabilities output with the blob behind it.
#[derive(Debug, Serialize)]
pub struct ClassifierSummary {
    pub label_type: &'static str,
    pub labels: Vec<String>,
    pub predicted_feature: String,
    pub probabilities: String,
    pub probabilities_blob: String,
}

/// One nested network: the layer holding it, which network (`conditionNetwork`,
/// `bodyNetwork`, `ifBranch`, `elseBranch`), its nesting depth (1 inside a top-level layer)
/// and its layers as `name (Kind)`, so a reader sees what a loop or branch computes.
#[derive(Debug, Serialize)]
pub struct NestedNetworkSummary {
    pub layer: String,
    pub network: &'static str,
    pub depth: usize,
    pub layers: Vec<String>,
}

/// Walks the `loop` and `branch` layers of `layers`, recursively.
fn nested_networks(layers: &[NeuralNetworkLayer], depth: usize, out: &mut Vec<NestedNetworkSummary>) {
    use coreml::neural_network_layer::Layer;
    for l in layers {
        let nets: Vec<(&'static str, Option<&coreml::NeuralNetwork>)> = match &l.layer {
            Some(Layer::Loop(p)) => vec![("conditionNetwork", p.condition_network.as_ref()), ("bodyNetwork", p.body_network.as_ref())],
            Some(Layer::Branch(p)) => vec![("ifBranch", p.if_branch.as_ref()), ("elseBranch", p.else_branch.as_ref())],
            _ => continue,
        };
        for (network, net) in nets {
            let Some(net) = net else { continue };
            out.push(NestedNetworkSummary {
                layer: l.name.clone(),
                network,
                depth,
                layers: net.layers.iter().map(|n| format!("{} ({})", n.name, layer_kind(n))).collect(),
            });
            nested_networks(&net.layers, depth + 1, out);
        }
    }
}

fn feature_type(f: &FeatureDescription) -> String {
    let Some(t) = f.r#type.as_ref().and_then(|t| t.r#type.as_ref()) else { return "?".into() };
    match t {
        feature_type::Type::MultiArrayType(a) => {
            let dt = coreml::array_feature_type::ArrayDataType::try_from(a.data_type)
                .map_or_else(|_| format!("dtype {}", a.data_type), |d| d.as_str_name().to_ascii_lowercase());
            // Flexible shapes as `convert --input-shape` / `--enumerated-shapes` write them.
            let flex = match &a.shape_flexibility {
                Some(coreml::array_feature_type::ShapeFlexibility::ShapeRange(_)) => {
                    format!(" flexible ranges {}", mlrewrite::lower::flexible::InputShapeSpec::of_feature(a))
                }
                Some(coreml::array_feature_type::ShapeFlexibility::EnumeratedShapes(_)) => {
                    format!(" flexible {}", mlrewrite::lower::flexible::InputShapeSpec::of_feature(a))
                }
                None => String::new(),
            };
            format!("multiArray {dt} {:?}{flex}", a.shape)
        }
        feature_type::Type::ImageType(i) => {
            let color = coreml::image_feature_type::ColorSpace::try_from(i.color_space).map_or_else(|_| format!("color space {}", i.color_space), |c| c.as_str_name().to_string());
            format!("image {}x{} {color}", i.width, i.height)
        }
        feature_type::Type::Int64Type(_) => "int64".into(),
        feature_type::Type::DoubleType(_) => "double".into(),
        feature_type::Type::StringType(_) => "string".into(),
        feature_type::Type::DictionaryType(d) => match d.key_type {
            Some(coreml::dictionary_feature_type::KeyType::StringKeyType(_)) => "dictionary string -> double".into(),
            Some(coreml::dictionary_feature_type::KeyType::Int64KeyType(_)) => "dictionary int64 -> double".into(),
            None => "dictionary".into(),
        },
        feature_type::Type::SequenceType(_) => "sequence".into(),
        feature_type::Type::StateType(_) => "state".into(),
    }
}

/// The variant name of a layer (`Convolution`, `InnerProduct`, `Custom`...). prost generates
/// no name table, so this formats the variant with `Debug` and stops at the first `(`,
/// without formatting the layer's weights.
pub fn layer_kind(layer: &NeuralNetworkLayer) -> String {
    struct UpToParen(String);
    impl std::fmt::Write for UpToParen {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            match s.find(['(', ' ', '{']) {
                Some(i) => {
                    self.0.push_str(&s[..i]);
                    Err(std::fmt::Error)
                }
                None => {
                    self.0.push_str(s);
                    Ok(())
                }
            }
        }
    }
    let Some(l) = &layer.layer else { return "(none)".into() };
    let mut w = UpToParen(String::new());
    let _ = write!(w, "{l:?}");
    w.0
}

pub fn coreml_summary(path: &Path, m: &Model) -> CoreMlSummary {
    let (model_type, layers): (&str, &[NeuralNetworkLayer]) = match &m.r#type {
        Some(model::Type::NeuralNetwork(n)) => ("neuralNetwork", &n.layers),
        Some(model::Type::NeuralNetworkClassifier(n)) => ("neuralNetworkClassifier", &n.layers),
        Some(model::Type::NeuralNetworkRegressor(n)) => ("neuralNetworkRegressor", &n.layers),
        Some(model::Type::Pipeline(_)) => ("pipeline", &[]),
        Some(model::Type::PipelineClassifier(_)) => ("pipelineClassifier", &[]),
        Some(model::Type::PipelineRegressor(_)) => ("pipelineRegressor", &[]),
        Some(model::Type::SerializedModel(_)) => ("serializedModel", &[]),
        None => ("(none)", &[]),
    };
    let mut layer_kinds = BTreeMap::new();
    let mut custom_layers = Vec::new();
    for l in layers {
        *layer_kinds.entry(layer_kind(l)).or_insert(0) += 1;
        if let Some(coreml::neural_network_layer::Layer::Custom(c)) = &l.layer {
            custom_layers.push(CustomLayerSummary {
                layer: l.name.clone(),
                class_name: c.class_name.clone(),
                description: c.description.clone(),
                parameters: c.parameters.keys().cloned().collect(),
            });
        }
    }
    let mut nested = Vec::new();
    nested_networks(layers, 1, &mut nested);
    let features = |v: &[FeatureDescription]| v.iter().map(|f| FeatureSummary { name: f.name.clone(), ty: feature_type(f), description: f.short_description.clone() }).collect();
    let d = m.description.clone().unwrap_or_default();
    let md = d.metadata.clone().unwrap_or_default();
    let metadata = [("author", md.author), ("license", md.license), ("version", md.version_string), ("description", md.short_description)]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let classifier = match (&m.r#type, mlrewrite::lower::classifier::ClassLabels::of_model(m)) {
        (Some(model::Type::NeuralNetworkClassifier(c)), Some(labels)) => Some(ClassifierSummary {
            label_type: if matches!(labels, mlrewrite::lower::classifier::ClassLabels::Ints(_)) { "int64" } else { "string" },
            labels: (0..labels.len()).filter_map(|i| labels.get(i)).collect(),
            predicted_feature: d.predicted_feature_name.clone(),
            probabilities: d.predicted_probabilities_name.clone(),
            probabilities_blob: c.label_probability_layer_name.clone(),
        }),
        _ => None,
    };
    CoreMlSummary {
        classifier,
        file: path.display().to_string(),
        format: "Core ML model",
        specification_version: m.specification_version,
        model_type: model_type.into(),
        inputs: features(&d.input),
        outputs: features(&d.output),
        layers: layers.len(),
        layer_kinds,
        custom_layers,
        metadata,
        nested_networks: nested,
    }
}

fn render_coreml(s: &CoreMlSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}: {} (specification version {}), {}, {} layers", s.file, s.format, s.specification_version, s.model_type, s.layers);
    for (k, v) in &s.metadata {
        let _ = writeln!(o, "{k}: {v}");
    }
    for (title, fs) in [("inputs", &s.inputs), ("outputs", &s.outputs)] {
        let _ = writeln!(o, "{title} ({}):", fs.len());
        let described = |f: &FeatureSummary| if f.description.is_empty() { f.ty.clone() } else { format!("{}  -- {}", f.ty, f.description) };
        table(&mut o, &fs.iter().map(|f| (f.name.clone(), described(f))).collect::<Vec<_>>());
    }
    if let Some(c) = &s.classifier {
        let shown: Vec<&str> = c.labels.iter().take(10).map(|l| l.as_str()).collect();
        let more = if c.labels.len() > 10 { format!(", ... ({} more)", c.labels.len() - 10) } else { String::new() };
        let _ = writeln!(o, "classifier: {} {} labels [{}{more}]", c.labels.len(), c.label_type, shown.join(", "));
        let _ = writeln!(o, "  predicted label `{}`, probabilities `{}` (blob `{}`)", c.predicted_feature, c.probabilities, c.probabilities_blob);
    }
    let _ = writeln!(o, "layers by kind ({} kinds):", s.layer_kinds.len());
    table(&mut o, &s.layer_kinds.iter().map(|(k, v)| (k.clone(), v.to_string())).collect::<Vec<_>>());
    if !s.custom_layers.is_empty() {
        let _ = writeln!(o, "custom layers ({}):", s.custom_layers.len());
        table(
            &mut o,
            &s.custom_layers
                .iter()
                .map(|c| (c.layer.clone(), format!("class {} parameters [{}] {}", c.class_name, c.parameters.join(", "), c.description)))
                .collect::<Vec<_>>(),
        );
    }
    if !s.nested_networks.is_empty() {
        let _ = writeln!(o, "nested networks ({}):", s.nested_networks.len());
        for n in &s.nested_networks {
            let indent = "  ".repeat(n.depth);
            let _ = writeln!(o, "{indent}{} {} ({} layers):", n.layer, n.network, n.layers.len());
            for l in &n.layers {
                let _ = writeln!(o, "{indent}  {l}");
            }
        }
    }
    o
}
