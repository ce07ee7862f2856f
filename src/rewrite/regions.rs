//! Loop regions: a `While`/`StatelessWhile` node's condition and body, each converted as a
//! graph of its own by the same rules (its own e-graph), then stood for in the enclosing
//! e-graph by one `loop` node whose `region` parameter names the [`LoopRegion`] lowering reads.
//!
//! Each region graph (`ir::functions::region_graph`) reads the loop variables as placeholders
//! named `WHILE/var_K` (their dtypes and shapes those of the initial values) and ends in
//! `WHILE/cond/result_0` or `WHILE/body/result_K` for each variable the body changes (a
//! variable the body returns unchanged is carried without a copy). A body that changes a
//! variable's static shape (a tensor growing by a row each iteration) gets the variable's
//! shape relaxed where it changes, until the body's results fit it ([`relaxed_shapes`]), so
//! the regions are converted for every iteration's shape, not the first one's.

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
    /// Applications per rule in the condition and body (nested loops included), which the
    /// enclosing conversion adds to its own: a rule that fires only inside loops is exercised.
    pub applied: std::collections::BTreeMap<String, usize>,
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
    let caller = NodeDef { name: n.name.clone(), op: n.op.clone(), ..Default::default() };
    let func = |attr: &str| n.get_attr_func(attr).map(|f| f.name.clone()).map_err(|e| fail(e.to_string()));
    let (vars, _) = loop_vars(graph, id, rules)?;
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
/// values' dtypes, and their shapes relaxed where the body changes them, [`relaxed_shapes`])
/// and those shapes.
fn loop_vars(graph: &Graph, id: NodeId, rules: &Compiled) -> Result<(Vec<RegionVar>, Vec<Shape>), LoopError> {
    let n = graph.node(id);
    let fail = |cause: String| LoopError { node: n.name.clone(), op: n.op.clone(), cause };
    let mut vars = Vec::new();
    let mut shapes = Vec::new();
    for (k, o) in graph.inputs(id).into_iter().enumerate() {
        let fact = graph.fact(o).cloned().unwrap_or_else(ir::Fact::unknown);
        let dtype = fact.dtype.ok_or_else(|| fail(format!("loop variable {k} has no known dtype")))?;
        vars.push(RegionVar { name: format!("{}/var_{k}", n.name), dtype: dtype.to_tf(), shape: None });
        shapes.push(fact.shape);
    }
    let shapes = relaxed_shapes(graph, id, rules, &vars, shapes)?;
    for (v, s) in vars.iter_mut().zip(&shapes) {
        v.shape = (!matches!(s, Shape::Unknown)).then(|| s.to_proto());
    }
    Ok((vars, shapes))
}

/// A dim pattern: the rank and the known dims of a shape (`None` for an unknown rank).
fn pattern(s: &Shape) -> Option<Vec<Option<u64>>> {
    s.dims().map(|d| d.iter().map(|x| x.known()).collect())
}

/// Two shapes joined: a dim both know and agree on stays, any other becomes unknown; ranks
/// that differ give an unknown shape.
fn join(a: &Shape, b: &Shape) -> Shape {
    match (pattern(a), pattern(b)) {
        (Some(x), Some(y)) if x.len() == y.len() => Shape::Ranked(
            x.iter().zip(&y).map(|(p, q)| match (p, q) { (Some(p), Some(q)) if p == q => ir::Dim::Known(*p), _ => ir::Dim::Unknown }).collect(),
        ),
        _ => Shape::Unknown,
    }
}

/// The loop variables' shapes every iteration has: the initial shapes, joined with what
/// TensorFlow recorded (`output_shapes`, the `shape_invariants`), then with the body's
/// results, again until the body's results fit (a dim only ever turns unknown, so this ends
/// within rank + 1 rounds per variable). The loop's own output facts must allow them: a
/// graph claiming a fixed shape where the body changes it is refused.
fn relaxed_shapes(graph: &Graph, id: NodeId, rules: &Compiled, vars: &[RegionVar], initial: Vec<Shape>) -> Result<Vec<Shape>, LoopError> {
    let n = graph.node(id);
    let fail = |cause: String| LoopError { node: n.name.clone(), op: n.op.clone(), cause };
    let recorded = n.get_attr_list_shape("output_shapes").unwrap_or_default();
    // A TensorList variable (`variant` in TF) is a preallocated tensor here: its shape never
    // changes, and TF records it as a scalar handle, which says nothing about the tensor.
    let declared = n.get_attr_list_type("T").unwrap_or_default();
    let is_list = |k: usize| matches!(declared.get(k), Some(ir::DType::Variant));
    let mut shapes: Vec<Shape> = initial
        .iter()
        .enumerate()
        .map(|(k, s)| match recorded.get(k) {
            Some(r) if !is_list(k) => join(s, r),
            _ => s.clone(),
        })
        .collect();
    let body = n.get_attr_func("body").map(|f| f.name.clone()).map_err(|e| fail(e.to_string()))?;
    let caller = NodeDef { name: n.name.clone(), op: n.op.clone(), ..Default::default() };
    let max_rounds = shapes.iter().map(|s| s.dims().map_or(0, |d| d.len())).sum::<usize>() + 2;
    for _ in 0..max_rounds {
        let vars: Vec<RegionVar> = vars
            .iter()
            .zip(&shapes)
            .map(|(v, s)| RegionVar { shape: (!matches!(s, Shape::Unknown)).then(|| s.to_proto()), ..v.clone() })
            .collect();
        let (gd, kept) = region_graph(&graph.functions, &caller, &body, &format!("{}/body", n.name), &vars, &|_, _| true, &|k| {
            vars.get(k).map_or(0, |v| v.dtype)
        })
        .map_err(|e| fail(e.to_string()))?;
        let mut g = ir::import_graph_def(&gd, Path::new(&n.name)).map_err(|e| fail(e.to_string()))?;
        g.functions = graph.functions.clone();
        ir::infer(&mut g, &rules.shapes).map_err(|e| fail(e.to_string()))?;
        let mut changed = false;
        for (k, name) in kept {
            let Some(before) = shapes.get(k).filter(|_| !is_list(k)) else { continue };
            let after = g.find(&name).and_then(|i| g.node(i).outputs.first()).map_or(Shape::Unknown, |f| f.shape.clone());
            // Our inference knowing nothing of a result is no evidence of change where TF
            // recorded the variable's shape: TF checked the body against it when it built the
            // loop (`shape_invariants`), and `shapes[k]` already holds that.
            if matches!(after, Shape::Unknown) && recorded.get(k).is_some() {
                continue;
            }
            let joined = join(before, &after);
            if pattern(&joined) != pattern(before) {
                shapes[k] = joined;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for (k, (s, first)) in shapes.iter().zip(&initial).enumerate() {
        let outer = graph.fact(ir::Outlet { node: id, output: k }).map(|f| f.shape.clone()).unwrap_or(Shape::Unknown);
        if pattern(s) != pattern(first) && pattern(&join(&outer, s)) != pattern(&outer) {
            return Err(fail(format!(
                "the body changes loop variable {k} from shape {first} to {s}, but the loop's output is declared {outer}"
            )));
        }
    }
    Ok(shapes)
}

/// Converts the condition and body of loop node `id` of `graph`.
pub fn convert_loop(graph: &Graph, id: NodeId, rules: &Compiled, options: &ConvertOptions) -> Result<LoopRegion, LoopError> {
    let n = graph.node(id);
    let fail = |cause: String| LoopError { node: n.name.clone(), op: n.op.clone(), cause };
    let _level = super::nesting::enter().map_err(fail)?;
    let caller = NodeDef { name: n.name.clone(), op: n.op.clone(), ..Default::default() };
    let func = |attr: &str| n.get_attr_func(attr).map(|f| f.name.clone()).map_err(|e| fail(e.to_string()));
    let (cond_f, body_f) = (func("cond")?, func("body")?);
    let (vars, shapes) = loop_vars(graph, id, rules)?;
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
    let (cond, cond_stats) = convert(&cond_graph, rules, &region_options).map_err(|e| fail(format!("condition `{cond_f}`: {e}")))?;
    let mut applied = cond_stats.saturation.applied;

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
        let (body, stats) = convert(&body_graph, rules, &region_options).map_err(|e| fail(format!("body `{body_f}`: {e}")))?;
        for (rule, n) in stats.saturation.applied {
            *applied.entry(rule).or_insert(0) += n;
        }
        body
    };
    Ok(LoopRegion { vars: var_names, cond, cond_var: cond_var.clone(), body, next, applied })
}
