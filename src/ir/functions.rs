//! Function libraries: a GraphDef's `FunctionDefLibrary` flattened into its node list, before
//! the graph is built.
//!
//! TF2 graphs keep `tf.cond` branches, `tf.function` calls and loop bodies as functions.
//! Calls (`PartitionedCall`, `StatefulPartitionedCall`, or a node whose op is a library
//! function) are inlined: the body's nodes join the graph as `CALL/NODE`, with the
//! `node:output_arg:index` references of the FunctionDef resolved to flat output indices
//! through the OpDefs, and an `IdentityN` named after the call forwards the `ret` values, so
//! the call's consumers (`call:1`) need no rewiring. `StatelessIf`/`If` inline both branches
//! (`IF/then/...`, `IF/else/...`) and pick each output with a scalar-predicate `Select`
//! (`IF/select_K`): valid because the branches are side-effect free, which is checked; the
//! rules resolve a predicate that folds to a constant, so the dead branch is never lowered.
//! Where `cond_choice`'s cost rule says selects are wrong or wasteful (a loop or side effect
//! in a branch, two large branches), the `If` is kept as one node instead, marked, for a
//! `branch` layer (`rewrite::branches`).
//! Every error names the function and the node.

use super::import::CONTROL_FLOW_OPS;
use super::opdefs;
use crate::proto::tensorflow::attr_value::{ListValue, Value};
use crate::proto::tensorflow::{AttrValue, FunctionDef, GraphDef, NodeDef};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Ops that call a library function named by their `f` attribute.
pub const CALL_OPS: &[&str] = &["PartitionedCall", "StatefulPartitionedCall"];
/// Ops that run one of two library functions by a predicate.
pub const IF_OPS: &[&str] = &["StatelessIf", "If"];
/// Ops that run one of N library functions by an index (`branches`).
pub const CASE_OPS: &[&str] = &["StatelessCase", "Case"];
/// Ops with side effects outside the op catalog's `stateful` flags (which cover Print,
/// random ops and TensorArrays).
const SIDE_EFFECT_OPS: &[&str] = &["Assert", "PrintV2", "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"];
/// `DataType::DT_BOOL`.
const DT_BOOL: i32 = 10;

/// The signature of a library function. The library maps only functions that have one, so
/// this fails only if that invariant is broken; an error, not a panic, either way.
fn signature(f: &FunctionDef) -> Result<&crate::proto::tensorflow::OpDef, FunctionError> {
    f.signature.as_ref().ok_or(FunctionError::NoSignature)
}

/// A function library that cannot be flattened.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    #[error("a function of the FunctionDefLibrary has no signature")]
    NoSignature,
    #[error("node `{node}` ({op}) calls function `{function}`, which is not in the FunctionDefLibrary")]
    Missing { node: String, op: String, function: String },
    #[error("node `{node}` calls function `{function}` recursively (call chain: {chain}); recursion cannot be inlined")]
    Recursive { node: String, function: String, chain: String },
    #[error("node `{node}` ({op}): attribute `{attr}` is missing or does not name a function")]
    NoFunction { node: String, op: String, attr: String },
    #[error("function `{function}`, node `{node}`: input `{input}` names no argument or node of the function")]
    BadReference { function: String, node: String, input: String },
    #[error("function `{function}`, node `{node}`: input `{input}`: {op} has no output argument `{output}`")]
    NoSuchOutput { function: String, node: String, input: String, op: String, output: String },
    #[error("function `{function}`, node `{node}`: {op} has no OpDef and its outputs are named both `{first}` and `{second}`, so their flat indices are unknown")]
    AmbiguousOutputs { function: String, node: String, op: String, first: String, second: String },
    #[error("function `{function}`: return value `{output}` is missing from `ret`")]
    MissingReturn { function: String, output: String },
    #[error("node `{node}` ({op}) passes {got} inputs to function `{function}`, which takes {expected}")]
    ArgumentCount { node: String, op: String, function: String, got: usize, expected: usize },
    #[error("function `{function}`: argument `{arg}` is a list of tensors; only single-tensor arguments and results are supported")]
    ListArgument { function: String, arg: String },
    #[error("node `{node}` ({op}): the predicate has dtype number {dtype}, not bool; only a bool predicate is supported")]
    Predicate { node: String, op: String, dtype: i32 },
    #[error("node `{node}` ({op}): branch `{function}` has a side effect (node `{inner}`, op {inner_op}), so its two branches cannot both be evaluated")]
    SideEffect { node: String, op: String, function: String, inner: String, inner_op: String },
}

/// Whether flattening has anything to do: a library, or a call or `If` node (which then
/// fails naming its missing function). An `If` already kept for a `branch` layer is done.
pub fn needs_flattening(gd: &GraphDef) -> bool {
    gd.library.as_ref().is_some_and(|l| !l.function.is_empty())
        || gd.node.iter().any(|n| [CALL_OPS, IF_OPS, CASE_OPS].iter().any(|ops| ops.contains(&n.op.as_str())) && !is_kept_branch(n))
}

/// An `If` the flattener kept as one node, for a `branch` layer (`cond_choice`).
pub fn is_kept_branch(nd: &NodeDef) -> bool {
    IF_OPS.contains(&nd.op.as_str()) && nd.attr.contains_key(super::cond_choice::BRANCH_ATTR)
}

/// [`is_kept_branch`] for an imported node.
pub fn is_kept_branch_node(n: &super::Node) -> bool {
    IF_OPS.contains(&n.op.as_str()) && n.attr(super::cond_choice::BRANCH_ATTR).is_some()
}

/// The functions of a library by name (a function without a signature has no name to call).
fn library_of<'a>(functions: impl IntoIterator<Item = &'a FunctionDef>) -> HashMap<&'a str, &'a FunctionDef> {
    functions.into_iter().filter_map(|f| f.signature.as_ref().map(|s| (s.name.as_str(), f))).collect()
}

/// Inlines every call and `If` of the graph (recursively through function bodies) and drops
/// the library. Nodes of the graph keep their names; other ops (`While` included) are copied.
pub fn flatten(gd: &GraphDef) -> Result<GraphDef, FunctionError> {
    let lib = library_of(gd.library.iter().flat_map(|l| &l.function));
    let graph_nodes = gd.node.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut fl = Flattener { lib: &lib, out: Vec::with_capacity(gd.node.len()), stack: Vec::new(), graph_nodes };
    let top: HashSet<&str> = gd.node.iter().map(|n| n.name.as_str()).collect();
    for nd in &gd.node {
        fl.emit(nd.clone())?;
    }
    let node = prune(fl.out, &top);
    Ok(GraphDef { node, versions: gd.versions.clone(), library: None, ..Default::default() })
}

/// A call's function body as the graph itself, as TensorFlow's freezing of that function's
/// concrete function names it: each argument is the caller's source node (a `Placeholder` or
/// `Const`, given in argument order) renamed to the argument's name, the body's nodes keep
/// their own names (calls inside are inlined as usual, `CALL/NODE`), and nothing of the
/// caller's name remains. Returns the graph and the tensors of the results, in signature order.
pub fn inline_call_as_graph(gd: &GraphDef, call: &NodeDef, sources: &[NodeDef]) -> Result<(GraphDef, Vec<String>), FunctionError> {
    let lib = library_of(gd.library.iter().flat_map(|l| &l.function));
    let graph_nodes = gd.node.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut fl = Flattener { lib: &lib, out: Vec::new(), stack: Vec::new(), graph_nodes };
    let (function, binding) = fl.func_attr(call, "f")?;
    let f = fl.function(call, &function)?;
    let sig = signature(f)?;
    if sig.input_arg.len() != sources.len() {
        return Err(FunctionError::ArgumentCount { node: call.name.clone(), op: call.op.clone(), function, got: sources.len(), expected: sig.input_arg.len() });
    }
    let mut args = Vec::with_capacity(sources.len());
    for (source, arg) in sources.iter().zip(&sig.input_arg) {
        fl.out.push(NodeDef { name: arg.name.clone(), ..source.clone() });
        args.push(arg.name.clone());
    }
    let results = fl.inline(call, f, "", &args, &binding)?;
    let top: HashSet<&str> = args.iter().map(String::as_str).chain(results.iter().map(|r| r.rsplit_once(':').map_or(r.as_str(), |(n, _)| n))).collect();
    let node = prune(fl.out, &top);
    Ok((GraphDef { node, versions: gd.versions.clone(), library: None, ..Default::default() }, results))
}

/// Drops inlined nodes nothing in the graph depends on (a function body's dead nodes), so
/// they do not become graph outputs. The graph's own nodes all stay.
pub(crate) fn prune(nodes: Vec<NodeDef>, top: &HashSet<&str>) -> Vec<NodeDef> {
    let by_name: HashMap<&str, &NodeDef> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut keep: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).filter(|n| top.contains(n)).collect();
    while let Some(n) = stack.pop() {
        if !keep.insert(n) {
            continue;
        }
        if let Some(nd) = by_name.get(n) {
            for i in &nd.input {
                let i = i.strip_prefix('^').unwrap_or(i);
                let src = match i.rsplit_once(':') {
                    Some((src, idx)) if idx.bytes().all(|b| b.is_ascii_digit()) => src,
                    _ => i,
                };
                stack.push(src);
            }
        }
    }
    let keep: HashSet<String> = keep.into_iter().map(str::to_string).collect();
    nodes.into_iter().filter(|n| keep.contains(&n.name)).collect()
}

/// One variable of a loop region: its placeholder name, dtype (`DataType` number) and shape.
#[derive(Debug, Clone)]
pub struct RegionVar {
    pub name: String,
    pub dtype: i32,
    pub shape: Option<crate::proto::tensorflow::TensorShapeProto>,
}

/// A loop's condition or body as a graph of its own: a `Placeholder` per variable it reads,
/// the function inlined as `prefix/NODE`, and an `Identity` named `prefix/result_K` for each
/// result K the caller keeps (`keep`), so the regions convert like any graph.
/// Returns the graph and, per kept result, the Identity's name.
pub fn region_graph(
    library: &[FunctionDef],
    caller: &NodeDef,
    function: &str,
    prefix: &str,
    vars: &[RegionVar],
    keep: &dyn Fn(usize, &str) -> bool,
    result_types: &dyn Fn(usize) -> i32,
) -> Result<(GraphDef, Vec<(usize, String)>), FunctionError> {
    let lib = library_of(library);
    let mut fl = Flattener { lib: &lib, out: Vec::new(), stack: Vec::new(), graph_nodes: HashMap::new() };
    for v in vars {
        let mut n = NodeDef { name: v.name.clone(), op: "Placeholder".into(), ..Default::default() };
        n.attr.insert("dtype".into(), AttrValue { value: Some(Value::Type(v.dtype)) });
        if let Some(sh) = &v.shape {
            n.attr.insert("shape".into(), AttrValue { value: Some(Value::Shape(sh.clone())) });
        }
        fl.out.push(n);
    }
    let f = fl.function(caller, function)?;
    let args: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
    let results = fl.inline(caller, f, prefix, &args, &BTreeMap::new())?;
    let mut kept = Vec::new();
    let mut top: Vec<String> = Vec::new();
    for (k, r) in results.iter().enumerate() {
        if !keep(k, r) {
            continue;
        }
        let name = format!("{prefix}/result_{k}");
        let mut n = NodeDef { name: name.clone(), op: "Identity".into(), input: vec![r.clone()], ..Default::default() };
        n.attr.insert("T".into(), AttrValue { value: Some(Value::Type(result_types(k))) });
        fl.out.push(n);
        top.push(name.clone());
        kept.push((k, name));
    }
    let top: HashSet<&str> = top.iter().map(String::as_str).collect();
    let node = prune(fl.out, &top);
    Ok((GraphDef { node, ..Default::default() }, kept))
}

/// One function of a GraphDef's library, for `inspect`: its name and its nodes (name, op).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryFunction {
    pub name: String,
    pub nodes: Vec<(String, String)>,
}

/// The functions of a GraphDef's library, in library order.
pub fn library(gd: &GraphDef) -> Vec<LibraryFunction> {
    gd.library
        .iter()
        .flat_map(|l| &l.function)
        .map(|f| LibraryFunction {
            name: f.signature.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
            nodes: f.node_def.iter().map(|n| (n.name.clone(), n.op.clone())).collect(),
        })
        .collect()
}

struct Flattener<'l, 'a> {
    lib: &'l HashMap<&'a str, &'a FunctionDef>,
    out: Vec<NodeDef>,
    /// Functions being inlined, outermost first (recursion detection).
    stack: Vec<String>,
    /// The nodes of the graph being flattened, by name (not yet emitted ones included), to
    /// judge whether an `If`'s predicate is static.
    graph_nodes: HashMap<&'a str, &'a NodeDef>,
}

/// A body node's name in the flat graph: `prefix/name`, or `name` itself for the empty
/// prefix (a body that becomes the graph, [`inline_call_as_graph`]).
fn scoped(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// `name` for output 0, `name:k` otherwise: GraphDef's tensor naming.
fn tensor(node: &str, output: usize) -> String {
    if output == 0 {
        node.to_string()
    } else {
        format!("{node}:{output}")
    }
}

fn split_inputs(nd: &NodeDef) -> (Vec<String>, Vec<String>) {
    nd.input.iter().cloned().partition(|i| !i.starts_with('^'))
}

fn type_list(types: Vec<i32>) -> AttrValue {
    AttrValue { value: Some(Value::List(Box::new(ListValue { r#type: types, ..Default::default() }))) }
}

fn attr_type_list(nd: &NodeDef, attr: &str) -> Option<Vec<i32>> {
    match nd.attr.get(attr)?.value.as_ref()? {
        Value::List(l) => Some(l.r#type.clone()),
        _ => None,
    }
}

/// Replaces `$T` placeholders by the caller's attribute values.
fn substitute(attrs: &mut BTreeMap<String, AttrValue>, binding: &BTreeMap<String, AttrValue>) {
    for v in attrs.values_mut() {
        if let Some(Value::Placeholder(p)) = &v.value {
            if let Some(b) = binding.get(p) {
                *v = b.clone();
            }
        }
    }
}

impl<'l, 'a> Flattener<'l, 'a> {
    /// Adds one node whose inputs already name tensors of the flat graph.
    fn emit(&mut self, nd: NodeDef) -> Result<(), FunctionError> {
        let op = nd.op.as_str();
        if CALL_OPS.contains(&op) {
            let (function, binding) = self.func_attr(&nd, "f")?;
            self.call(nd, &function, &binding)
        } else if self.lib.contains_key(op) {
            let (function, binding) = (nd.op.clone(), nd.attr.clone());
            self.call(nd, &function, &binding)
        } else if is_kept_branch(&nd) {
            self.out.push(nd);
            Ok(())
        } else if IF_OPS.contains(&op) {
            self.branch(nd)
        } else if CASE_OPS.contains(&op) {
            self.case(nd)
        } else {
            self.out.push(nd);
            Ok(())
        }
    }

    fn func_attr(&self, nd: &NodeDef, attr: &str) -> Result<(String, BTreeMap<String, AttrValue>), FunctionError> {
        match nd.attr.get(attr).and_then(|a| a.value.as_ref()) {
            Some(Value::Func(f)) if !f.name.is_empty() => Ok((f.name.clone(), f.attr.clone())),
            _ => Err(FunctionError::NoFunction { node: nd.name.clone(), op: nd.op.clone(), attr: attr.into() }),
        }
    }

    fn function(&self, nd: &NodeDef, name: &str) -> Result<&'a FunctionDef, FunctionError> {
        let f = self.lib.get(name).copied().ok_or_else(|| FunctionError::Missing {
            node: nd.name.clone(),
            op: nd.op.clone(),
            function: name.into(),
        })?;
        if self.stack.iter().any(|s| s == name) {
            let mut chain = self.stack.clone();
            chain.push(name.into());
            return Err(FunctionError::Recursive { node: nd.name.clone(), function: name.into(), chain: chain.join(" -> ") });
        }
        Ok(f)
    }

    /// A call: the body inlined under the call's name, an `IdentityN` of the results named
    /// after the call (a `NoOp` when the function returns nothing).
    fn call(&mut self, nd: NodeDef, name: &str, binding: &BTreeMap<String, AttrValue>) -> Result<(), FunctionError> {
        let f = self.function(&nd, name)?;
        let (data, control) = split_inputs(&nd);
        let results = self.inline(&nd, f, &nd.name, &data, binding)?;
        let sig = signature(f)?;
        let types: Vec<i32> = sig
            .output_arg
            .iter()
            .map(|a| match &a.type_attr {
                t if !t.is_empty() => binding.get(t).and_then(|v| match v.value {
                    Some(Value::Type(t)) => Some(t),
                    _ => None,
                }),
                _ => Some(a.r#type),
            })
            .collect::<Option<_>>()
            .or_else(|| attr_type_list(&nd, "Tout"))
            .unwrap_or_default();
        self.forward(nd.name, results, control, types);
        Ok(())
    }

    /// The node named `name` that forwards `results` as its outputs.
    fn forward(&mut self, name: String, results: Vec<String>, control: Vec<String>, types: Vec<i32>) {
        let mut n = NodeDef { name, ..Default::default() };
        if results.is_empty() {
            n.op = "NoOp".into();
            n.input = control;
        } else {
            n.op = "IdentityN".into();
            n.input = results.into_iter().chain(control).collect();
            n.attr.insert("T".into(), type_list(types));
        }
        self.out.push(n);
    }

    /// `If`: both branches inlined, one scalar-predicate `Select` per output.
    fn branch(&mut self, nd: NodeDef) -> Result<(), FunctionError> {
        let tcond = match nd.attr.get("Tcond").and_then(|a| a.value.as_ref()) {
            Some(Value::Type(t)) => *t,
            _ => DT_BOOL,
        };
        if tcond != DT_BOOL {
            return Err(FunctionError::Predicate { node: nd.name.clone(), op: nd.op.clone(), dtype: tcond });
        }
        let (then_name, then_binding) = self.func_attr(&nd, "then_branch")?;
        let (else_name, else_binding) = self.func_attr(&nd, "else_branch")?;
        let (data, control) = split_inputs(&nd);
        let Some((pred, args)) = data.split_first() else {
            return Err(FunctionError::ArgumentCount { node: nd.name.clone(), op: nd.op.clone(), function: then_name, got: 0, expected: 1 });
        };
        if let Some(reason) = self.branch_layer_reason(&nd, pred, &then_name, &else_name)? {
            // Kept as one node: `rewrite::branches` converts its branches as regions.
            let mut nd = nd;
            nd.attr.insert(super::cond_choice::BRANCH_ATTR.into(), AttrValue { value: Some(Value::S(reason.into_bytes().into())) });
            self.out.push(nd);
            return Ok(());
        }
        let mut results = Vec::new();
        for (tag, name, binding) in [("then", &then_name, &then_binding), ("else", &else_name, &else_binding)] {
            results.push(self.inline_branch(&nd, name, &format!("{}/{tag}", nd.name), args, binding)?);
        }
        let (then_out, else_out) = (&results[0], &results[1]);
        if then_out.len() != else_out.len() {
            return Err(FunctionError::ArgumentCount {
                node: nd.name.clone(),
                op: nd.op.clone(),
                function: else_name,
                got: else_out.len(),
                expected: then_out.len(),
            });
        }
        let types = attr_type_list(&nd, "Tout").unwrap_or_default();
        let mut selects = Vec::with_capacity(then_out.len());
        for (k, (t, e)) in then_out.iter().zip(else_out).enumerate() {
            let mut s = NodeDef {
                name: format!("{}/select_{k}", nd.name),
                op: "Select".into(),
                input: vec![pred.clone(), t.clone(), e.clone()],
                ..Default::default()
            };
            if let Some(&ty) = types.get(k) {
                s.attr.insert("T".into(), AttrValue { value: Some(Value::Type(ty)) });
            }
            selects.push(s.name.clone());
            self.out.push(s);
        }
        self.forward(nd.name, selects, control, types);
        Ok(())
    }

    /// Why `If` node `nd` should become a `branch` layer (`cond_choice`'s cost rule), or `None`
    /// for selects. Both functions must exist.
    fn branch_layer_reason(&self, nd: &NodeDef, pred: &str, then_name: &str, else_name: &str) -> Result<Option<String>, FunctionError> {
        self.function(nd, then_name)?;
        self.function(nd, else_name)?;
        let emitted: HashMap<&str, &NodeDef> = self.out.iter().map(|n| (n.name.as_str(), n)).collect();
        let lookup = |n: &str| emitted.get(n).or_else(|| self.graph_nodes.get(n)).copied();
        let static_pred = super::cond_choice::is_static(pred, &lookup);
        let then = super::cond_choice::branch_cost(self.lib, then_name);
        let other = super::cond_choice::branch_cost(self.lib, else_name);
        Ok(super::cond_choice::branch_reason(&then, &other, static_pred))
    }

    /// Inlines branch function `name` of `nd` under `prefix` and returns its results; a branch
    /// with a side effect is refused, since both branches run once they become selects.
    fn inline_branch(
        &mut self,
        nd: &NodeDef,
        name: &str,
        prefix: &str,
        args: &[String],
        binding: &BTreeMap<String, AttrValue>,
    ) -> Result<Vec<String>, FunctionError> {
        let f = self.function(nd, name)?;
        let start = self.out.len();
        let results = self.inline(nd, f, prefix, args, binding)?;
        if let Some(n) = self.out[start..].iter().find(|n| has_side_effect(&n.op)) {
            return Err(FunctionError::SideEffect {
                node: nd.name.clone(),
                op: nd.op.clone(),
                function: name.to_string(),
                inner: n.name.clone(),
                inner_op: n.op.clone(),
            });
        }
        Ok(results)
    }

    /// `Case`: every branch inlined (`CASE/branch_K/...`), each output nested selects on
    /// `index == k` (`CASE/select_J`), an out-of-range index taking the last branch as
    /// TensorFlow's `Case` does. Like `If`, valid because the branches are side-effect free.
    fn case(&mut self, nd: NodeDef) -> Result<(), FunctionError> {
        let branches: Vec<(String, BTreeMap<String, AttrValue>)> = match nd.attr.get("branches").and_then(|a| a.value.as_ref()) {
            Some(Value::List(l)) if !l.func.is_empty() => l.func.iter().map(|f| (f.name.clone(), f.attr.clone())).collect(),
            _ => return Err(FunctionError::NoFunction { node: nd.name.clone(), op: nd.op.clone(), attr: "branches".into() }),
        };
        let (data, control) = split_inputs(&nd);
        let Some((index, args)) = data.split_first() else {
            return Err(FunctionError::ArgumentCount { node: nd.name.clone(), op: nd.op.clone(), function: branches[0].0.clone(), got: 0, expected: 1 });
        };
        let mut results: Vec<Vec<String>> = Vec::new();
        for (k, (name, binding)) in branches.iter().enumerate() {
            results.push(self.inline_branch(&nd, name, &format!("{}/branch_{k}", nd.name), args, binding)?);
            if results[k].len() != results[0].len() {
                return Err(FunctionError::ArgumentCount {
                    node: nd.name.clone(),
                    op: nd.op.clone(),
                    function: name.clone(),
                    got: results[k].len(),
                    expected: results[0].len(),
                });
            }
        }
        let types = attr_type_list(&nd, "Tout").unwrap_or_default();
        let mut selects = Vec::with_capacity(results[0].len());
        for j in 0..results[0].len() {
            let by_branch: Vec<String> = results.iter().map(|r| r[j].clone()).collect();
            let name = format!("{}/select_{j}", nd.name);
            let ty = types.get(j).copied().unwrap_or(DT_BOOL);
            self.out.extend(super::frames::index_selects(&name, index, &by_branch, ty, Vec::new()));
            selects.push(name);
        }
        self.forward(nd.name, selects, control, types);
        Ok(())
    }

    /// Emits the body of `f` with its nodes named `prefix/NODE` and its arguments bound to
    /// `args`; returns the tensors of its results, in signature order.
    fn inline(
        &mut self,
        caller: &NodeDef,
        f: &'a FunctionDef,
        prefix: &str,
        args: &[String],
        binding: &BTreeMap<String, AttrValue>,
    ) -> Result<Vec<String>, FunctionError> {
        let sig = signature(f)?;
        let fname = sig.name.clone();
        if sig.input_arg.len() != args.len() {
            return Err(FunctionError::ArgumentCount {
                node: caller.name.clone(),
                op: caller.op.clone(),
                function: fname,
                got: args.len(),
                expected: sig.input_arg.len(),
            });
        }
        for a in sig.input_arg.iter().chain(&sig.output_arg) {
            if !a.number_attr.is_empty() || !a.type_list_attr.is_empty() {
                return Err(FunctionError::ListArgument { function: fname, arg: a.name.clone() });
            }
        }
        self.stack.push(fname.clone());
        let scope = Scope {
            function: &fname,
            prefix,
            args: sig.input_arg.iter().map(|a| a.name.as_str()).zip(args.iter().map(String::as_str)).collect(),
            body: f.node_def.iter().map(|n| (n.name.as_str(), n)).collect(),
            lib: self.lib,
            seen_outputs: std::cell::RefCell::new(HashMap::new()),
        };
        for nd in &f.node_def {
            let mut n = nd.clone();
            n.name = scoped(prefix, &nd.name);
            n.input = nd.input.iter().map(|i| scope.resolve(&nd.name, i)).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect();
            n.device.clear();
            substitute(&mut n.attr, binding);
            self.emit(n)?;
        }
        let results = sig
            .output_arg
            .iter()
            .map(|a| {
                let r = f.ret.get(&a.name).ok_or_else(|| FunctionError::MissingReturn { function: fname.clone(), output: a.name.clone() })?;
                scope.resolve("ret", r)?.ok_or_else(|| FunctionError::BadReference { function: fname.clone(), node: "ret".into(), input: r.clone() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.stack.pop();
        Ok(results)
    }
}

pub(crate) fn has_side_effect(op: &str) -> bool {
    if CONTROL_FLOW_OPS.contains(&op) {
        // Refused on its own, with its own message, when the graph is built.
        return false;
    }
    SIDE_EFFECT_OPS.contains(&op) || opdefs::lookup(op).is_some_and(|d| d.is_stateful)
}

/// Name resolution inside one function body being inlined.
struct Scope<'s, 'a> {
    function: &'s str,
    prefix: &'s str,
    args: HashMap<&'s str, &'s str>,
    body: HashMap<&'a str, &'a NodeDef>,
    lib: &'s HashMap<&'a str, &'a FunctionDef>,
    /// For ops without an OpDef: the one output argument name seen per node.
    seen_outputs: std::cell::RefCell<HashMap<String, String>>,
}

impl Scope<'_, '_> {
    /// A FunctionDef input (`arg`, `node:out:i`, `^node`) as a flat-graph input; `None` for a
    /// control dependency on an argument (the caller's inputs are computed first anyway).
    fn resolve(&self, node: &str, input: &str) -> Result<Option<String>, FunctionError> {
        let bad = || FunctionError::BadReference { function: self.function.into(), node: node.into(), input: input.into() };
        if let Some(c) = input.strip_prefix('^') {
            return if self.body.contains_key(c) {
                Ok(Some(format!("^{}", scoped(self.prefix, c))))
            } else if self.args.contains_key(c) {
                Ok(None)
            } else {
                Err(bad())
            };
        }
        let parts: Vec<&str> = input.split(':').collect();
        match parts[..] {
            [name] => match self.args.get(name) {
                Some(t) => Ok(Some(t.to_string())),
                None if self.body.contains_key(name) => Ok(Some(scoped(self.prefix, name))),
                None => Err(bad()),
            },
            [name, idx] => {
                let i: usize = idx.parse().map_err(|_| bad())?;
                self.body.get(name).ok_or_else(bad)?;
                Ok(Some(tensor(&scoped(self.prefix, name), i)))
            }
            [name, out, idx] => {
                let i: usize = idx.parse().map_err(|_| bad())?;
                let producer = self.body.get(name).ok_or_else(bad)?;
                let flat = self.flat_index(node, input, producer, out, i)?;
                Ok(Some(tensor(&scoped(self.prefix, name), flat)))
            }
            _ => Err(bad()),
        }
    }

    /// Output `out:i` of `producer` as a flat output index.
    fn flat_index(&self, node: &str, input: &str, producer: &NodeDef, out: &str, i: usize) -> Result<usize, FunctionError> {
        let op = producer.op.as_str();
        let no_such = || FunctionError::NoSuchOutput {
            function: self.function.into(),
            node: node.into(),
            input: input.into(),
            op: op.into(),
            output: out.into(),
        };
        // Calls and Ifs (flattened into an IdentityN of their results) have one list output.
        if CALL_OPS.contains(&op) || IF_OPS.contains(&op) || CASE_OPS.contains(&op) {
            return if out == "output" { Ok(i) } else { Err(no_such()) };
        }
        if let Some(f) = self.lib.get(op) {
            let sig = signature(f)?;
            let pos = sig.output_arg.iter().position(|a| a.name == out).ok_or_else(no_such)?;
            return Ok(pos + i);
        }
        let Some(def) = opdefs::lookup(op) else {
            // No OpDef: assume one output argument, and say so when a second name shows up.
            let mut seen = self.seen_outputs.borrow_mut();
            let first = seen.entry(producer.name.clone()).or_insert_with(|| out.to_string());
            if first != out {
                return Err(FunctionError::AmbiguousOutputs {
                    function: self.function.into(),
                    node: producer.name.clone(),
                    op: op.into(),
                    first: first.clone(),
                    second: out.into(),
                });
            }
            return Ok(i);
        };
        let mut flat = 0;
        for a in &def.outputs {
            if a.name == out {
                return Ok(flat + i);
            }
            flat += arg_len(producer, a).ok_or_else(no_such)?;
        }
        Err(no_such())
    }
}

/// How many tensors an output argument of `nd` stands for.
fn arg_len(nd: &NodeDef, a: &opdefs::ArgDef) -> Option<usize> {
    if let Some(n) = &a.number_attr {
        return match nd.attr.get(n)?.value.as_ref()? {
            Value::I(n) => usize::try_from(*n).ok(),
            _ => None,
        };
    }
    match &a.ty {
        opdefs::ArgType::List(l) => attr_type_list(nd, l).map(|v| v.len()),
        _ => Some(1),
    }
}
