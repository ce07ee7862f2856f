//! Loop regions: a `While`/`StatelessWhile` node's condition and body, each converted as a
//! graph of its own by the same rules (its own e-graph), then stood for in the enclosing
//! e-graph by one `loop` node whose `region` parameter names the [`LoopRegion`] lowering reads.
//!
//! Each region graph (`ir::functions::region_graph`) reads the loop variables as placeholders
//! named `WHILE/var_K` (their dtypes and shapes those of the initial values) and ends in
//! `WHILE/cond/result_0` or `WHILE/body/result_K` for each variable the body changes (a
//! variable the body returns unchanged is carried without a copy). A body that changes a
//! variable's static shape is refused: the region was converted for the initial shape.

use super::pipeline::{convert, ConvertOptions};
use super::term::TermDag;
use crate::ir::functions::{region_graph, RegionVar};
use crate::ir::{self, DType, Graph, NodeId, Shape};
use crate::proto::tensorflow::NodeDef;
use crate::rules::load::Compiled;
use std::path::Path;

/// Ops converted as loops.
pub const LOOP_OPS: &[&str] = &["While", "StatelessWhile"];

/// One converted loop.
#[derive(Debug, Clone, Default)]
pub struct LoopRegion {
    /// The placeholder (blob) name of each loop variable inside the regions.
    pub vars: Vec<String>,
    /// The condition: one output, `cond_var`.
    pub cond: TermDag,
    pub cond_var: String,
    /// The body: one output per variable it changes, listed in `next`.
    pub body: TermDag,
    /// (variable index, body output name) for each variable the body changes.
    pub next: Vec<(usize, String)>,
}

/// Why a loop could not be converted; the message names the loop node.
#[derive(Debug, thiserror::Error)]
#[error("loop `{node}` ({op}): {cause}")]
pub struct LoopError {
    pub node: String,
    pub op: String,
    pub cause: String,
}

/// The condition and body of loop node `id` as the graphs [`convert_loop`] converts
/// (imported and inferred), every body result kept: `explain` looks inside them for a node
/// named `WHILE/cond/...` or `WHILE/body/...`.
pub fn region_graphs(graph: &Graph, id: NodeId, rules: &Compiled) -> Result<[Graph; 2], LoopError> {
    let n = graph.node(id);
    let fail = |cause: String| LoopError { node: n.name.clone(), op: n.op.clone(), cause };
    refuse_tensor_list_loop(n).map_err(fail)?;
    let caller = NodeDef { name: n.name.clone(), op: n.op.clone(), ..Default::default() };
    let func = |attr: &str| n.get_attr_func(attr).map(|f| f.name.clone()).map_err(|e| fail(e.to_string()));
    let (vars, _) = loop_vars(graph, id)?;
    let import = |gd: &crate::proto::tensorflow::GraphDef| -> Result<Graph, LoopError> {
        let mut g = ir::import_graph_def(gd, Path::new(&n.name)).map_err(|e| fail(e.to_string()))?;
        g.functions = graph.functions.clone();
        ir::infer(&mut g, &rules.shapes).map_err(|e| fail(e.to_string()))?;
        Ok(g)
    };
    let region = |attr: &str, tag: &str, ty: &dyn Fn(usize) -> i32| -> Result<Graph, LoopError> {
        let (gd, _) = region_graph(&graph.functions, &caller, &func(attr)?, &format!("{}/{tag}", n.name), &vars, &|_, _| true, ty)
            .map_err(|e| fail(e.to_string()))?;
        import(&gd)
    };
    Ok([region("cond", "cond", &|_| DType::Bool.to_tf())?, region("body", "body", &|k| vars.get(k).map_or(0, |v| v.dtype))?])
}

/// The region variables of loop node `id` (placeholders named `WHILE/var_K` with the initial
/// values' dtypes and shapes) and those shapes.
fn loop_vars(graph: &Graph, id: NodeId) -> Result<(Vec<RegionVar>, Vec<Shape>), LoopError> {
    let n = graph.node(id);
    let fail = |cause: String| LoopError { node: n.name.clone(), op: n.op.clone(), cause };
    let mut vars = Vec::new();
    let mut shapes = Vec::new();
    for (k, o) in graph.inputs(id).into_iter().enumerate() {
        let fact = graph.fact(o).cloned().unwrap_or_else(ir::Fact::unknown);
        let dtype = fact.dtype.ok_or_else(|| fail(format!("loop variable {k} has no known dtype")))?;
        vars.push(RegionVar {
            name: format!("{}/var_{k}", n.name),
            dtype: dtype.to_tf(),
            shape: (!matches!(fact.shape, Shape::Unknown)).then(|| fact.shape.to_proto()),
        });
        shapes.push(fact.shape);
    }
    Ok((vars, shapes))
}

/// A loop over `TensorList`s that `ir::recurrent` did not recognise as a Keras recurrent layer
/// (it marked why): its lists have no Core ML form.
fn refuse_tensor_list_loop(n: &ir::Node) -> Result<(), String> {
    match n.attr(ir::recurrent::REFUSAL_ATTR) {
        Some(ir::Attr::S(why)) => Err(format!(
            "it carries TensorLists, which a Core ML loop cannot, and is not a recognised Keras recurrent layer: {}",
            String::from_utf8_lossy(why)
        )),
        _ => Ok(()),
    }
}

/// Converts the condition and body of loop node `id` of `graph`.
pub fn convert_loop(graph: &Graph, id: NodeId, rules: &Compiled, options: &ConvertOptions) -> Result<LoopRegion, LoopError> {
    let n = graph.node(id);
    let fail = |cause: String| LoopError { node: n.name.clone(), op: n.op.clone(), cause };
    refuse_tensor_list_loop(n).map_err(fail)?;
    let caller = NodeDef { name: n.name.clone(), op: n.op.clone(), ..Default::default() };
    let func = |attr: &str| n.get_attr_func(attr).map(|f| f.name.clone()).map_err(|e| fail(e.to_string()));
    let (cond_f, body_f) = (func("cond")?, func("body")?);
    let (vars, shapes) = loop_vars(graph, id)?;
    let import = |gd: &crate::proto::tensorflow::GraphDef| -> Result<Graph, LoopError> {
        let mut g = ir::import_graph_def(gd, Path::new(&n.name)).map_err(|e| fail(e.to_string()))?;
        g.functions = graph.functions.clone();
        ir::infer(&mut g, &rules.shapes).map_err(|e| fail(e.to_string()))?;
        Ok(g)
    };
    let region_options = ConvertOptions { limits: options.limits, ..ConvertOptions::default() };

    let (cond_gd, cond_out) = region_graph(&graph.functions, &caller, &cond_f, &format!("{}/cond", n.name), &vars, &|_, _| true, &|_| {
        DType::Bool.to_tf()
    })
    .map_err(|e| fail(e.to_string()))?;
    let [(_, cond_var)] = &cond_out[..] else {
        return Err(fail(format!("condition `{cond_f}` returns {} values, not one", cond_out.len())));
    };
    let cond_graph = import(&cond_gd)?;
    let (cond, _) = convert(&cond_graph, rules, &region_options).map_err(|e| fail(format!("condition `{cond_f}`: {e}")))?;

    let var_names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
    let (body_gd, next) = region_graph(
        &graph.functions,
        &caller,
        &body_f,
        &format!("{}/body", n.name),
        &vars,
        &|k, r| var_names.get(k).is_none_or(|v| v != r),
        &|k| vars.get(k).map_or(0, |v| v.dtype),
    )
    .map_err(|e| fail(e.to_string()))?;
    if next.iter().any(|(k, _)| *k >= vars.len()) {
        return Err(fail(format!("body `{body_f}` returns more values than the loop has variables")));
    }
    let body = if next.is_empty() {
        TermDag::default()
    } else {
        let body_graph = import(&body_gd)?;
        for (k, name) in &next {
            let after = body_graph.find(name).and_then(|i| body_graph.node(i).outputs.first()).map(|f| f.shape.clone());
            if let (Some(after), Some(before)) = (after, shapes.get(*k)) {
                let known = |s: &Shape| s.dims().and_then(|d| d.iter().map(|x| x.known()).collect::<Option<Vec<_>>>());
                if let (Some(a), Some(b)) = (known(&after), known(before)) {
                    if a == b {
                        continue;
                    }
                    return Err(fail(format!(
                        "the body changes loop variable {k} from shape {before} to {after}; a Core ML loop here carries fixed shapes"
                    )));
                }
            }
        }
        convert(&body_graph, rules, &region_options).map_err(|e| fail(format!("body `{body_f}`: {e}")))?.0
    };
    Ok(LoopRegion { vars: var_names, cond, cond_var: cond_var.clone(), body, next })
}
