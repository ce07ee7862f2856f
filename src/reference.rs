//! Reference kernels: a custom layer executed through its registration's `reference`
//! composite, so that `mlrewrite run` can check a model with custom layers against
//! TensorFlow on a machine without the app's Swift classes.
//!
//! The model keeps its custom layer; the reference is found from the rules (`run --rules
//! DIR`), by class name. At run time a [`ReferenceKernel`] builds the reference into an
//! e-graph of its own over the layer's actual inputs (placeholders of the run-time shapes)
//! and parameters, converts it with the rules (no registrations, so it cannot turn back into
//! the custom layer), lowers it to a Core ML network and runs that with the interpreter. The
//! network is built once per input shapes and parameter values.
//!
//! The reference sees only what the model holds: the `input_order` tensors and the
//! parameters. This keeps the check honest: the layer is run from the model's own data, not
//! from the TF graph it came from.

use crate::ir::{self, Shape};
use crate::lower::{self, LowerOptions};
use crate::proto::coreml::custom_layer_params::custom_layer_param_value::Value as ParamValue;
use crate::proto::coreml::{CustomLayerParams, Model};
use crate::rewrite::analysis::TfAnalysis;
use crate::rewrite::cost::LayerCount;
use crate::rewrite::extract::extract_dag;
use crate::rewrite::lang::Node;
use crate::rewrite::saturate::{saturate, Limits};
use crate::rewrite::term::{Term, TermDag, TermInput, TermOutput};
use crate::rules::compile::{add_rhs, Bindings, Registration};
use crate::rules::load::Compiled;
use crate::rules::value::{DType, Value};
use crate::run::{CustomKernel, Interpreter, Precision, RunOptions};
use egg::{EGraph, Id, Language};
use ndarray::{ArrayD, ArrayViewD};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Runs one registration's `reference` as the kernel of its class.
pub struct ReferenceKernel {
    reg: Arc<Registration>,
    /// The rules without registrations (`RuleSet::compile_rules_only`).
    rules: Arc<Compiled>,
    /// Converted networks by input shapes and parameter values.
    cache: Mutex<HashMap<String, Arc<Model>>>,
}

impl ReferenceKernel {
    /// A kernel for `reg`, which must have a reference.
    pub fn new(reg: Arc<Registration>, rules: Arc<Compiled>) -> Option<ReferenceKernel> {
        reg.reference.as_ref()?;
        Some(ReferenceKernel { reg, rules, cache: Mutex::default() })
    }

    /// The number of outputs: declared by the registration, else one per tuple term, else 1.
    fn outputs(&self) -> usize {
        match (&self.reg.outputs, &self.reg.reference) {
            (Some(o), _) => o.len(),
            (None, Some(crate::rules::ast::Rhs::Outputs(ts, _))) => ts.len(),
            _ => 1,
        }
    }

    /// The reference converted to a Core ML network for these input shapes and parameters.
    fn network(&self, params: &CustomLayerParams, shapes: &[Vec<usize>]) -> Result<Arc<Model>, String> {
        let key = format!("{shapes:?} {:?}", params.parameters);
        if let Some(m) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(m.clone());
        }
        let model = Arc::new(self.convert(params, shapes)?);
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key, model.clone());
        Ok(model)
    }

    fn convert(&self, params: &CustomLayerParams, shapes: &[Vec<usize>]) -> Result<Model, String> {
        let reg = &self.reg;
        let rhs = reg.reference.as_ref().ok_or("no reference")?;
        if shapes.len() != reg.input_order.len() {
            return Err(format!("the layer has {} input(s), `input_order` names {}", shapes.len(), reg.input_order.len()));
        }
        let mut egraph: EGraph<Node, TfAnalysis> = EGraph::new(TfAnalysis::new(self.rules.shapes.clone()));
        let mut env = vec![];
        let mut inputs = vec![];
        for (name, shape) in reg.input_order.iter().zip(shapes) {
            let id = egraph.add(Node::input(name, DType::Float32, Some(shape.iter().map(|&d| Some(d)).collect())));
            env.push((name.clone(), Value::Class(id)));
            inputs.push((name.clone(), id, shape.clone()));
        }
        for (name, _, _) in &reg.parameters {
            let v = match params.parameters.get(name).and_then(|p| p.value.as_ref()) {
                Some(ParamValue::IntValue(i)) => Value::Int(i64::from(*i)),
                Some(ParamValue::LongValue(i)) => Value::Int(*i),
                Some(ParamValue::DoubleValue(d)) => Value::float(*d),
                Some(ParamValue::BoolValue(b)) => Value::Bool(*b),
                Some(ParamValue::StringValue(s)) => Value::Str(s.clone()),
                None => return Err(format!("the layer has no parameter `{name}`")),
            };
            env.push((name.clone(), v));
        }
        let outs = add_rhs(rhs, &Bindings(env), &mut egraph, self.outputs()).map_err(|e| format!("building the reference: {e}"))?;
        egraph.rebuild();
        let rewrites = self.rules.rewrites::<TfAnalysis>().map_err(|e| e.to_string())?;
        let (egraph, _) = saturate(egraph, &rewrites, &Limits::default());
        let output_classes: Vec<Id> = outs.iter().map(|&c| egraph.find(c)).collect();
        let input_classes: Vec<Id> = inputs.iter().map(|(_, c, _)| egraph.find(*c)).collect();
        let roots: Vec<Id> = output_classes.iter().chain(&input_classes).copied().collect();
        let extraction = extract_dag(&egraph, &roots, &LayerCount::new(&self.rules)).map_err(|e| {
            let ops: Vec<String> = e
                .frontier
                .iter()
                .flat_map(|&c| egraph[c].nodes.iter().filter_map(|n| matches!(n, Node::Tf { .. }).then(|| n.to_string())))
                .collect();
            format!("the rules do not convert the reference to NN layers (left: {})", ops.join(", "))
        })?;
        let mut dag = TermDag::default();
        let mut index: HashMap<Id, usize> = HashMap::new();
        for &class in &extraction.order {
            let node = extraction.choice[&class].clone().map_children(|c| Id::from(index[&egraph.find(c)]));
            if matches!(node, Node::Custom { .. }) {
                return Err("the reference converts to a custom layer; it must come down to NN layers".into());
            }
            let (dtypes, shapes) = crate::rewrite::pipeline::output_types(&egraph, class);
            index.insert(class, dag.nodes.len());
            dag.nodes.push(Term { node, dtypes, shapes, origin: None, replaces: vec![] });
        }
        for ((name, _, shape), class) in inputs.iter().zip(&input_classes) {
            dag.inputs.push(TermInput { name: name.clone(), term: index[class], dtype: ir::DType::F32, shape: Shape::from_usize(shape) });
        }
        for (k, class) in output_classes.iter().enumerate() {
            let data = egraph[*class].data.single();
            dag.outputs.push(TermOutput {
                name: format!("reference_output_{k}"),
                term: index[class],
                dtype: data.and_then(|d| d.dtype).unwrap_or(ir::DType::F32),
                shape: data.map_or(Shape::Unknown, |d| d.shape.clone()),
                inner: false,
            });
        }
        lower::lower(&dag, &LowerOptions::default()).map_err(|e| format!("lowering the reference: {e}"))
    }
}

impl CustomKernel for ReferenceKernel {
    fn compute(&self, params: &CustomLayerParams, inputs: &[ArrayViewD<'_, f64>]) -> Result<Vec<ArrayD<f64>>, String> {
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|a| a.shape().to_vec()).collect();
        let model = self.network(params, &shapes).map_err(|e| format!("reference of registration `{}`: {e}", self.reg.name))?;
        let interp = Interpreter::new(&model, RunOptions { precision: Precision::F64, ..Default::default() }).map_err(|e| format!("reference network: {e}"))?;
        let feed: BTreeMap<String, ArrayD<f32>> =
            self.reg.input_order.iter().zip(inputs).map(|(n, a)| (n.clone(), a.mapv(|v| v as f32))).collect();
        let mut outs = interp.run(feed).map_err(|e| format!("reference network: {e}"))?;
        (0..self.outputs())
            .map(|k| outs.remove(&format!("reference_output_{k}")).map(|a| a.mapv(f64::from)).ok_or_else(|| format!("the reference network has no output {k}")))
            .collect()
    }
}

/// A kernel for every registration of `registrations` that has a reference, by class name
/// (the first registration of a class wins), converted with `rules_only`.
pub fn kernels(registrations: &[Arc<crate::rules::compile::CompiledRule>], rules_only: Arc<Compiled>) -> BTreeMap<String, Box<dyn CustomKernel>> {
    let mut out: BTreeMap<String, Box<dyn CustomKernel>> = BTreeMap::new();
    for r in registrations {
        if let crate::rules::compile::Action::Custom(reg) = &r.action {
            if out.contains_key(&reg.class_name) {
                continue;
            }
            if let Some(k) = ReferenceKernel::new(reg.clone(), rules_only.clone()) {
                out.insert(reg.class_name.clone(), Box::new(k));
            }
        }
    }
    out
}

/// The class names of every custom layer of a model, nested networks (branches, loops)
/// included: `run` loads the rules only when there is one.
pub fn custom_classes(model: &Model) -> std::collections::BTreeSet<String> {
    use crate::proto::coreml::{model, neural_network_layer::Layer, NeuralNetworkLayer};
    fn walk(layers: &[NeuralNetworkLayer], out: &mut std::collections::BTreeSet<String>) {
        for l in layers {
            match &l.layer {
                Some(Layer::Custom(c)) => {
                    out.insert(c.class_name.clone());
                }
                Some(Layer::Branch(b)) => {
                    for n in b.if_branch.iter().chain(&b.else_branch) {
                        walk(&n.layers, out);
                    }
                }
                Some(Layer::Loop(p)) => {
                    for n in p.condition_network.iter().chain(&p.body_network) {
                        walk(&n.layers, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    let layers = match &model.r#type {
        Some(model::Type::NeuralNetwork(n)) => &n.layers[..],
        Some(model::Type::NeuralNetworkClassifier(n)) => &n.layers[..],
        Some(model::Type::NeuralNetworkRegressor(n)) => &n.layers[..],
        _ => &[],
    };
    walk(layers, &mut out);
    out
}
