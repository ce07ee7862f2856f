//! Branch regions: an `If`/`StatelessIf` the importer kept as one node (`ir::cond_choice`'s
//! cost rule: a branch holding a loop or a side effect, or two large branches) converted into
//! one Core ML `branch` layer. Each branch is converted as a graph of its own by the same rules
//! (its own e-graph, as loop regions are), and the `If` is stood for in the enclosing e-graph
//! by one `branch` node whose `region` parameter names the [`BranchRegion`] lowering reads.
//!
//! Each region graph (`ir::functions::region_graph`) reads the `If`'s inputs as placeholders
//! named `IF/arg_K` (dtypes and shapes of the values passed) and ends in an `Identity`
//! `IF/then/result_K` (`IF/else/result_K`) per output, so its nodes are named as the
//! flattener names inlined branches (`IF/then/...`) and `explain` finds them.

use super::pipeline::{convert, ConvertOptions};
use super::term::TermDag;
use crate::ir::functions::{region_graph, RegionVar};
use crate::ir::{self, Graph, NodeId, Shape};
use crate::proto::tensorflow::NodeDef;
use crate::rules::load::Compiled;
use std::path::Path;

/// Ops converted as branches (when the importer kept them).
pub const BRANCH_OPS: &[&str] = &["If", "StatelessIf"];

/// One converted `If`.
#[derive(Debug, Clone, Default)]
pub struct BranchRegion {
    /// The placeholder (blob) name of each `If` input after the predicate, inside the regions.
    pub args: Vec<String>,
    /// The then branch: one output per `If` output, named in `then_results`.
    pub then: TermDag,
    pub then_results: Vec<String>,
    /// The else branch, likewise.
    pub other: TermDag,
    pub other_results: Vec<String>,
}

/// Why a branch could not be converted; the message names the `If` node.
#[derive(Debug, thiserror::Error)]
#[error("cond `{node}` ({op}): {cause}")]
pub struct BranchError {
    pub node: String,
    pub op: String,
    pub cause: String,
}

/// The then and else regions of `If` node `id` as the graphs [`convert_branch`] converts
/// (imported and inferred): `explain` looks inside them for `IF/then/...` and `IF/else/...`.
pub fn region_graphs(graph: &Graph, id: NodeId, rules: &Compiled) -> Result<[Graph; 2], BranchError> {
    let n = graph.node(id);
    let fail = |cause: String| BranchError { node: n.name.clone(), op: n.op.clone(), cause };
    let caller = NodeDef { name: n.name.clone(), op: n.op.clone(), ..Default::default() };
    let args = branch_args(graph, id)?;
    let outputs = n.outputs.len();
    let types: Vec<i32> = n.outputs.iter().map(|f| f.dtype.map_or(0, |d| d.to_tf())).collect();
    let region = |attr: &str, tag: &str| -> Result<Graph, BranchError> {
        let func = n.get_attr_func(attr).map(|f| f.name.clone()).map_err(|e| fail(e.to_string()))?;
        let (gd, kept) = region_graph(&graph.functions, &caller, &func, &format!("{}/{tag}", n.name), &args, &|_, _| true, &|k| {
            types.get(k).copied().unwrap_or(0)
        })
        .map_err(|e| fail(e.to_string()))?;
        if kept.len() != outputs {
            return Err(fail(format!("branch `{func}` returns {} values, the cond has {outputs} outputs", kept.len())));
        }
        let mut g = ir::import_graph_def(&gd, Path::new(&n.name)).map_err(|e| fail(e.to_string()))?;
        g.functions = graph.functions.clone();
        ir::infer(&mut g, &rules.shapes).map_err(|e| fail(e.to_string()))?;
        Ok(g)
    };
    Ok([region("then_branch", "then")?, region("else_branch", "else")?])
}

/// The region placeholders of `If` node `id`: one per input after the predicate, named
/// `IF/arg_K`, with the dtype and shape of the value passed.
fn branch_args(graph: &Graph, id: NodeId) -> Result<Vec<RegionVar>, BranchError> {
    let n = graph.node(id);
    let fail = |cause: String| BranchError { node: n.name.clone(), op: n.op.clone(), cause };
    let inputs = graph.inputs(id);
    let Some((pred, args)) = inputs.split_first() else {
        return Err(fail("it has no predicate input".into()));
    };
    let pred = graph.fact(*pred).cloned().unwrap_or_else(ir::Fact::unknown);
    if let Some(count) = pred.shape.dims().and_then(|d| d.iter().map(|x| x.known()).product::<Option<u64>>()) {
        if count != 1 {
            return Err(fail(format!(
                "the predicate has shape {} ({count} elements); a Core ML branch reads one value",
                pred.shape
            )));
        }
    }
    let mut vars = Vec::new();
    for (k, o) in args.iter().enumerate() {
        let fact = graph.fact(*o).cloned().unwrap_or_else(ir::Fact::unknown);
        let dtype = fact.dtype.ok_or_else(|| fail(format!("input {} has no known dtype", k + 1)))?;
        vars.push(RegionVar {
            name: format!("{}/arg_{k}", n.name),
            dtype: dtype.to_tf(),
            shape: (!matches!(fact.shape, Shape::Unknown)).then(|| fact.shape.to_proto()),
        });
    }
    Ok(vars)
}

/// Converts both branches of `If` node `id` of `graph`.
pub fn convert_branch(graph: &Graph, id: NodeId, rules: &Compiled, options: &ConvertOptions) -> Result<BranchRegion, BranchError> {
    let n = graph.node(id);
    let fail = |cause: String| BranchError { node: n.name.clone(), op: n.op.clone(), cause };
    let _level = super::nesting::enter().map_err(fail)?;
    let args: Vec<String> = branch_args(graph, id)?.into_iter().map(|v| v.name).collect();
    let [then_graph, else_graph] = region_graphs(graph, id, rules)?;
    let region_options = ConvertOptions { limits: options.limits, ..ConvertOptions::default() };
    let results = |tag: &str| (0..n.outputs.len()).map(|k| format!("{}/{tag}/result_{k}", n.name)).collect::<Vec<_>>();
    let then = convert(&then_graph, rules, &region_options).map_err(|e| fail(format!("then branch: {e}")))?.0;
    let other = convert(&else_graph, rules, &region_options).map_err(|e| fail(format!("else branch: {e}")))?.0;
    Ok(BranchRegion { args, then, then_results: results("then"), other, other_results: results("else") })
}
