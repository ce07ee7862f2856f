//! The walk from a [`TermDag`] to `NeuralNetworkLayer`s: which terms become layers, what their
//! blobs are called, and which copies the model outputs need.
//!
//! - `Input` terms are model inputs (no layer); their blob is the input's name.
//! - `Const` terms are data inputs of layers (weights live in layer parameters, never in
//!   terms): each becomes one `loadConstantND` layer, shared by all its consumers.
//! - `Nn` and `Custom` terms become one layer each; `Proj` terms name output `i` of a
//!   multi-output layer (topK, split, custom ops) and emit nothing.
//! - A `Tf` term is an error: extraction must have replaced every TF op.
//!
//! Only terms the outputs reach are lowered. A model output's producing layer writes the
//! output's feature name as its blob; when that is impossible (the output is a model input,
//! or the same value is also another output) a `copy` layer is appended.

use super::custom::custom_params;
use super::error::LowerError;
use super::layers::{self, LayerInput};
use super::names::Namer;
use super::params::{weight_params, weight_values, Params};
use super::LowerOptions;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::{BranchLayerParams, CopyLayerParams, LoadConstantNdLayerParams, LoopLayerParams, NeuralNetwork, NeuralNetworkLayer};
use crate::rewrite::lang::Node;
use crate::rewrite::term::{TermDag, TermId};
use crate::rules::layers::{layer_kind, similar_layers};
use crate::rules::value::Value;
use std::collections::BTreeMap;

/// One value: output `index` of term `term`.
type ValueRef = (TermId, usize);

/// The lowered layers, in evaluation order.
pub struct Lowered {
    pub layers: Vec<NeuralNetworkLayer>,
}

fn children(node: &Node) -> impl Iterator<Item = TermId> + '_ {
    use egg::Language;
    node.children().iter().map(|&id| usize::from(id))
}

/// Structure checks: children come first, ids exist, no TF op is left.
fn validate(dag: &TermDag) -> Result<(), LowerError> {
    let len = dag.nodes.len();
    for (t, term) in dag.nodes.iter().enumerate() {
        if let Node::Tf { op, .. } = &term.node {
            return Err(LowerError::TfOpLeft { op: op.to_string(), node: term.origin.clone().unwrap_or_else(|| "<unnamed>".into()), term: t });
        }
        for c in children(&term.node) {
            if c >= t {
                return Err(LowerError::BadChild { term: t, child: c });
            }
        }
    }
    for i in &dag.inputs {
        match dag.nodes.get(i.term) {
            None => return Err(LowerError::NoSuchTerm { what: format!("model input `{}`", i.name), term: i.term, len }),
            Some(term) if !matches!(term.node, Node::Input(_)) => return Err(LowerError::InputNotInput { name: i.name.clone(), term: i.term }),
            Some(_) => {}
        }
    }
    for o in &dag.outputs {
        if o.term >= len {
            return Err(LowerError::NoSuchTerm { what: format!("model output `{}`", o.name), term: o.term, len });
        }
    }
    Ok(())
}

/// The value a term stands for: a `Proj` is output `index` of its argument.
fn value_of(dag: &TermDag, t: TermId) -> ValueRef {
    match &dag.nodes[t].node {
        Node::Proj { index, arg } => (usize::from(arg[0]), *index as usize),
        _ => (t, 0),
    }
}

/// Number of outputs of a layer term: the registry's count, the parameter that decides it
/// (`split.nOutputs`, `splitND.numSplits`), a custom registration's declared outputs, or
/// else as many as the DAG records shapes for or projects.
fn output_count(dag: &TermDag, t: TermId, max_proj: Option<usize>, options: &LowerOptions) -> usize {
    let term = &dag.nodes[t];
    let from_dag = term.shapes.len().max(term.dtypes.len()).max(max_proj.map_or(1, |m| m + 1)).max(1);
    match &term.node {
        Node::Nn { kind, params, .. } if &**kind == "loop" => {
            let region = params.get("region").and_then(|v| match v {
                Value::Str(s) => dag.regions.get(s),
                _ => None,
            });
            region.map_or(from_dag, |r| r.vars.len())
        }
        Node::Nn { kind, params, .. } if &**kind == "branch" => {
            let region = params.get("region").and_then(|v| match v {
                Value::Str(s) => dag.branches.get(s),
                _ => None,
            });
            region.map_or(from_dag, |r| r.then_results.len())
        }
        Node::Nn { kind, params, .. } => match layer_kind(kind).and_then(|k| k.outputs) {
            Some(n) => n,
            None => {
                let int = |n: &str| params.get(n).and_then(Value::as_int).filter(|&i| i > 0).map(|i| i as usize);
                let sizes = params.get("splitSizes").and_then(Value::as_list).map_or(0, |l| l.len());
                int("nOutputs").or_else(|| int("numSplits")).or((sizes > 0).then_some(sizes)).unwrap_or(from_dag)
            }
        },
        Node::Custom { reg, .. } => options.custom_layers.get(&**reg).and_then(|c| c.outputs).unwrap_or(from_dag),
        _ => 1,
    }
}

fn suffix(node: &Node, options: &LowerOptions) -> String {
    match node {
        Node::Nn { kind, .. } => kind.to_string(),
        Node::Custom { reg, .. } => options.custom_layers.get(&**reg).map_or_else(|| reg.to_string(), |c| c.class_name.clone()),
        Node::Const(_) => "const".into(),
        _ => "value".into(),
    }
}

pub fn lower_layers(dag: &TermDag, options: &LowerOptions) -> Result<Lowered, LowerError> {
    if dag.outputs.is_empty() {
        return Err(LowerError::NoOutputs);
    }
    validate(dag)?;
    let n = dag.nodes.len();

    // Reachability from the outputs, and each term's consumers (smallest id first).
    let mut reached = vec![false; n];
    let mut consumers: Vec<Vec<TermId>> = vec![vec![]; n];
    let mut stack: Vec<TermId> = dag.outputs.iter().map(|o| o.term).collect();
    while let Some(t) = stack.pop() {
        if std::mem::replace(&mut reached[t], true) {
            continue;
        }
        stack.extend(children(&dag.nodes[t].node));
    }
    let mut max_proj: Vec<Option<usize>> = vec![None; n];
    for t in (0..n).filter(|&t| reached[t]) {
        for c in children(&dag.nodes[t].node) {
            if consumers[c].last() != Some(&t) {
                consumers[c].push(t);
            }
        }
        if let Node::Proj { index, arg } = &dag.nodes[t].node {
            let a = usize::from(arg[0]);
            max_proj[a] = Some(max_proj[a].map_or(*index as usize, |m| m.max(*index as usize)));
        }
    }
    let counts: Vec<usize> = (0..n).map(|t| output_count(dag, t, max_proj[t], options)).collect();
    for t in (0..n).filter(|&t| reached[t]) {
        if let Node::Proj { index, arg } = &dag.nodes[t].node {
            let a = usize::from(arg[0]);
            let multi = matches!(dag.nodes[a].node, Node::Nn { .. } | Node::Custom { .. });
            if !multi || *index as usize >= counts[a] {
                return Err(LowerError::BadProjection { term: t, index: *index, of: dag.nodes[a].node.describe(), outputs: counts[a] });
            }
        }
    }

    // Base names: the TF node name, else `<nearest named consumer>/<kind>`.
    let output_name: BTreeMap<TermId, &str> = dag.outputs.iter().rev().map(|o| (o.term, o.name.as_str())).collect();
    let mut anchor: Vec<Option<String>> = vec![None; n];
    let mut base: Vec<String> = vec![String::new(); n];
    for t in (0..n).rev().filter(|&t| reached[t]) {
        let term = &dag.nodes[t];
        let inherited = consumers[t].iter().find_map(|&c| anchor[c].clone());
        let (a, b) = match (&term.origin, inherited) {
            (Some(o), _) => (Some(o.clone()), o.clone()),
            (None, Some(a)) => (Some(a.clone()), format!("{a}/{}", suffix(&term.node, options))),
            (None, None) => match output_name.get(&t) {
                Some(o) => (Some(o.to_string()), o.to_string()),
                None => (None, suffix(&term.node, options)),
            },
        };
        anchor[t] = a;
        base[t] = b;
    }

    // Blob names: inputs and outputs first, then every other produced value.
    let mut blobs = Namer::default();
    let mut blob: BTreeMap<ValueRef, String> = BTreeMap::new();
    for i in &dag.inputs {
        blobs.reserve(&i.name);
        blob.insert((i.term, 0), i.name.clone());
    }
    for t in (0..n).filter(|&t| reached[t]) {
        if let Node::Input(spec) = &dag.nodes[t].node {
            if !blob.contains_key(&(t, 0)) {
                return Err(LowerError::UndeclaredInput { term: t, name: spec.name.to_string() });
            }
        }
    }
    for o in &dag.outputs {
        blobs.reserve(&o.name);
    }
    let mut copies: Vec<(ValueRef, &str)> = vec![];
    for o in &dag.outputs {
        let v = value_of(dag, o.term);
        match blob.entry(v) {
            std::collections::btree_map::Entry::Occupied(_) => copies.push((v, &o.name)),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(o.name.clone());
            }
        }
    }
    for t in (0..n).filter(|&t| reached[t]) {
        if matches!(dag.nodes[t].node, Node::Nn { .. } | Node::Custom { .. } | Node::Const(_)) {
            for i in 0..counts[t] {
                blob.entry((t, i)).or_insert_with(|| if counts[t] == 1 { blobs.fresh(&base[t]) } else { blobs.fresh(&format!("{}_out{i}", base[t])) });
            }
        }
    }
    let blob_of = |v: ValueRef| blob.get(&v).cloned().unwrap_or_default();

    // Layers, in term order.
    let mut layer_names = Namer::default();
    let mut out = vec![];
    for t in (0..n).filter(|&t| reached[t]) {
        let term = &dag.nodes[t];
        let args: Vec<TermId> = children(&term.node).collect();
        let input: Vec<String> = args.iter().map(|&a| blob_of(value_of(dag, a))).collect();
        let output: Vec<String> = (0..counts[t]).map(|i| blob_of((t, i))).collect();
        if let Node::Nn { kind, params, .. } = &term.node {
            if &**kind == "loop" {
                let name = layer_names.fresh(&base[t]);
                out.extend(lower_loop(dag, &name, params, &input, &output, &mut layer_names, options)?);
                continue;
            }
            if &**kind == "branch" {
                let name = layer_names.fresh(&base[t]);
                out.push(lower_branch(dag, &name, params, &input, &output, &mut layer_names, options)?);
                continue;
            }
        }
        let layer = match &term.node {
            Node::Input(_) | Node::Proj { .. } | Node::Tf { .. } => continue,
            Node::Const(tensor) => {
                let name = layer_names.fresh(&base[t]);
                let values = weight_values(&Value::Tensor(tensor.clone())).unwrap_or_default();
                // ND tensors have rank >= 1: a scalar constant is `[1]`.
                let shape = if tensor.shape.is_empty() { vec![1] } else { tensor.shape.iter().map(|&d| d as u64).collect() };
                // Integer constants (indices, shapes) stay exact f32 even with --fp16-weights.
                let data = weight_params(&values, options.fp16_weights && tensor.dtype.is_float());
                NeuralNetworkLayer { name, output, layer: Some(Layer::LoadConstantNd(LoadConstantNdLayerParams { shape, data: Some(data) })), ..Default::default() }
            }
            Node::Nn { kind, params, .. } => {
                let name = layer_names.fresh(&base[t]);
                let Some(k) = layer_kind(kind) else {
                    let similar = similar_layers(kind);
                    let hint = if similar.is_empty() { String::new() } else { format!(" (did you mean {}?)", similar.join(", ")) };
                    return Err(LowerError::UnknownLayerKind { layer: name, kind: kind.to_string(), hint });
                };
                let arity_ok = args.len() >= k.min_inputs && k.max_inputs.is_none_or(|m| args.len() <= m);
                if !arity_ok {
                    return Err(LowerError::Arity { layer: name, kind: kind.to_string(), expected: k.arity_text(), got: args.len() });
                }
                let p = Params::new(&name, k, params, options.fp16_weights)?;
                let layer = layers::build(&LayerInput { params: &p, n_inputs: args.len() })?;
                NeuralNetworkLayer { name, input, output, layer: Some(layer), ..Default::default() }
            }
            Node::Custom { reg, params, .. } => {
                let name = layer_names.fresh(&base[t]);
                let Some(class) = options.custom_layers.get(&**reg) else {
                    return Err(LowerError::UnknownRegistration { layer: name, reg: reg.to_string() });
                };
                let custom = custom_params(&name, class, params)?;
                NeuralNetworkLayer { name, input, output, layer: Some(Layer::Custom(custom)), ..Default::default() }
            }
        };
        out.push(layer);
    }
    for (v, name) in copies {
        let layer_name = layer_names.fresh(name);
        out.push(NeuralNetworkLayer { name: layer_name, input: vec![blob_of(v)], output: vec![name.to_string()], layer: Some(Layer::Copy(CopyLayerParams {})), ..Default::default() });
    }
    Ok(Lowered { layers: out })
}

fn copy_layer(name: String, from: &str, to: &str) -> NeuralNetworkLayer {
    NeuralNetworkLayer { name, input: vec![from.to_string()], output: vec![to.to_string()], layer: Some(Layer::Copy(CopyLayerParams {})), ..Default::default() }
}

/// Renames blobs in `layers` and in their nested networks (and loop condition variables).
fn rename_blobs(layers: &mut [NeuralNetworkLayer], map: &BTreeMap<String, String>) {
    for l in layers {
        for b in l.input.iter_mut().chain(l.output.iter_mut()) {
            if let Some(n) = map.get(b.as_str()) {
                *b = n.clone();
            }
        }
        match &mut l.layer {
            Some(Layer::Loop(p)) => {
                if let Some(n) = map.get(p.condition_var.as_str()) {
                    p.condition_var = n.clone();
                }
                for net in p.condition_network.iter_mut().chain(p.body_network.iter_mut()) {
                    rename_blobs(&mut net.layers, map);
                }
            }
            Some(Layer::Branch(p)) => {
                for net in p.if_branch.iter_mut().chain(p.else_branch.iter_mut()) {
                    rename_blobs(&mut net.layers, map);
                }
            }
            _ => {}
        }
    }
}

/// The region a `loop` or `branch` term names (its `region` parameter; empty if none, which
/// the region lookup then reports).
fn region_name(params: &crate::rewrite::lang::Attrs) -> &str {
    match params.get("region") {
        Some(Value::Str(s)) => s.as_str(),
        _ => "",
    }
}

/// A `loop` term: the initial values copied into the loop variables' blobs (`output`, which
/// are also the loop's results), then a `loop` layer whose condition network computes
/// `conditionVar` and whose body network ends with `copy` layers writing the changed
/// variables back. The regions were lowered with their own placeholder names for the
/// variables, renamed here to the variables' blobs.
fn lower_loop(
    dag: &TermDag,
    name: &str,
    params: &crate::rewrite::lang::Attrs,
    input: &[String],
    output: &[String],
    layer_names: &mut Namer,
    options: &LowerOptions,
) -> Result<Vec<NeuralNetworkLayer>, LowerError> {
    let region_name = region_name(params);
    let region = dag.regions.get(region_name).ok_or_else(|| LowerError::NoRegion { layer: name.to_string(), region: region_name.to_string() })?;
    if input.len() != region.vars.len() || output.len() != region.vars.len() {
        return Err(LowerError::NoRegion { layer: name.to_string(), region: format!("{region_name} (variable count)") });
    }
    let rename: BTreeMap<String, String> = region.vars.iter().cloned().zip(output.iter().cloned()).collect();
    let mut layers = Vec::new();
    for (k, (from, to)) in input.iter().zip(output).enumerate() {
        layers.push(copy_layer(layer_names.fresh(&format!("{name}/init_{k}")), from, to));
    }
    let mut cond = lower_layers(&region.cond, options)?.layers;
    rename_blobs(&mut cond, &rename);
    let mut body = if region.body.outputs.is_empty() { vec![] } else { lower_layers(&region.body, options)?.layers };
    rename_blobs(&mut body, &rename);
    for (k, next) in &region.next {
        body.push(copy_layer(layer_names.fresh(&format!("{name}/carry_{k}")), next, &output[*k]));
    }
    let condition_var = rename.get(&region.cond_var).cloned().unwrap_or_else(|| region.cond_var.clone());
    layers.push(NeuralNetworkLayer {
        name: name.to_string(),
        layer: Some(Layer::Loop(Box::new(LoopLayerParams {
            max_loop_iterations: 0,
            condition_var,
            condition_network: Some(NeuralNetwork { layers: cond, ..Default::default() }),
            body_network: Some(NeuralNetwork { layers: body, ..Default::default() }),
        }))),
        ..Default::default()
    });
    Ok(layers)
}

/// A `branch` term: one `branch` layer reading the predicate (`input[0]`), whose if and else
/// networks are the converted branches, their inputs renamed to the blobs of the `If`'s
/// other inputs, each ending with a `copy` of its results into the `If`'s output blobs
/// (`output`), which both networks write, as coremltools' branches do.
fn lower_branch(
    dag: &TermDag,
    name: &str,
    params: &crate::rewrite::lang::Attrs,
    input: &[String],
    output: &[String],
    layer_names: &mut Namer,
    options: &LowerOptions,
) -> Result<NeuralNetworkLayer, LowerError> {
    let region_name = region_name(params);
    let region = dag.branches.get(region_name).ok_or_else(|| LowerError::NoRegion { layer: name.to_string(), region: region_name.to_string() })?;
    let Some((pred, args)) = input.split_first() else {
        return Err(LowerError::NoRegion { layer: name.to_string(), region: format!("{region_name} (no predicate)") });
    };
    if args.len() != region.args.len() || output.len() != region.then_results.len() || output.len() != region.other_results.len() {
        return Err(LowerError::NoRegion { layer: name.to_string(), region: format!("{region_name} (input or output count)") });
    }
    let rename: BTreeMap<String, String> = region.args.iter().cloned().zip(args.iter().cloned()).collect();
    let mut network = |tag: &str, dag: &TermDag, results: &[String]| -> Result<NeuralNetwork, LowerError> {
        let mut layers = lower_layers(dag, options)?.layers;
        rename_blobs(&mut layers, &rename);
        for (k, (result, to)) in results.iter().zip(output).enumerate() {
            layers.push(copy_layer(layer_names.fresh(&format!("{name}/{tag}_out_{k}")), result, to));
        }
        Ok(NeuralNetwork { layers, ..Default::default() })
    };
    let if_branch = network("then", &region.then, &region.then_results)?;
    let else_branch = network("else", &region.other, &region.other_results)?;
    Ok(NeuralNetworkLayer {
        name: name.to_string(),
        input: vec![pred.clone()],
        layer: Some(Layer::Branch(Box::new(BranchLayerParams { if_branch: Some(if_branch), else_branch: Some(else_branch) }))),
        ..Default::default()
    })
}

/// Blob names are unique model-wide, nested networks included, as Core ML requires: the only
/// blob written twice is a loop variable, by the `copy` layers of a loop body (and a loop's
/// initial copies, which the walk meets first). Regions are lowered apart with their own
/// names (`WHILE/body/...`), so this check is what guarantees they cannot collide.
pub fn check_blob_names(layers: &[NeuralNetworkLayer], defined: &mut std::collections::HashSet<String>, nested: bool) -> Result<(), LowerError> {
    for l in layers {
        let is_copy = matches!(l.layer, Some(Layer::Copy(_)));
        match &l.layer {
            Some(Layer::Loop(p)) => {
                for net in p.condition_network.iter().chain(&p.body_network) {
                    check_blob_names(&net.layers, defined, true)?;
                }
            }
            Some(Layer::Branch(p)) => {
                for net in p.if_branch.iter().chain(&p.else_branch) {
                    check_blob_names(&net.layers, defined, true)?;
                }
            }
            _ => {}
        }
        // A copy of a blob onto itself (a model output that is the input of the same name)
        // redefines nothing.
        let may_redefine = is_copy && (nested || l.input == l.output);
        for o in &l.output {
            if !defined.insert(o.clone()) && !may_redefine {
                return Err(LowerError::DuplicateBlob { layer: l.name.clone(), blob: o.clone() });
            }
        }
    }
    Ok(())
}
