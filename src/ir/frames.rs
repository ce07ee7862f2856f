//! TF1 control-flow frames rebuilt into the TF2 form, GraphDef to GraphDef, before functions
//! are flattened.
//!
//! `tf.compat.v1` control flow (and `convert_variables_to_constants_v2` with
//! `lower_control_flow=True`) writes a `tf.cond` as `Switch`es feeding both branches and a
//! `Merge` per output, and a `tf.while_loop` as a frame: `Enter` per loop variable, `Merge`
//! with the `NextIteration` back edge, `LoopCond`, `Switch`, `Exit`. The rest of the pipeline
//! knows the TF2 form, so the frames are rebuilt into it here:
//!
//! - **conds**: every node gets its branch context (the `(predicate, side)` pairs of the
//!   `Switch`es it depends on, through data and control edges, innermost last). A `Switch`
//!   becomes an `IdentityN` forwarding its data on both outputs, a `Merge` a `Select` on the
//!   predicate of its inputs' innermost context (true side first), so both branches are
//!   evaluated, as for `StatelessIf`: a branch with a side effect is refused, naming it. A
//!   predicate that is a constant (through `Identity`s) resolves the `Merge` to its live
//!   input, and the dead branch is pruned.
//! - **loops**: innermost frame first, the frame becomes one `StatelessWhile` whose condition
//!   and body are new library functions (`FRAME/cond_fn`, `FRAME/body_fn`) cut out of the
//!   frame: the variables' `Merge`s (condition) and `Switch:1`s (body) become the function's
//!   arguments, loop invariants (`Enter` with `is_constant`) extra arguments the body returns
//!   unchanged (TF2's captures), and each `Exit` an `Identity` of the loop's output, so the
//!   consumers need no rewiring. An outer frame's body then holds the inner `StatelessWhile`.
//!
//! Anything else (a `Merge` whose inputs are not the two sides of one predicate, a frame
//! without its `Merge`/`Switch`/`LoopCond`, a value leaving a frame other than by `Exit`) is a
//! [`FrameError`] naming the node.

use crate::proto::tensorflow::attr_value::{ListValue, Value};
use crate::proto::tensorflow::op_def::ArgDef;
use crate::proto::tensorflow::{AttrValue, FunctionDef, FunctionDefLibrary, GraphDef, NameAttrList, NodeDef, OpDef};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

const SWITCH: &[&str] = &["Switch", "RefSwitch"];
const MERGE: &[&str] = &["Merge", "RefMerge"];
const ENTER: &[&str] = &["Enter", "RefEnter"];
const EXIT: &[&str] = &["Exit", "RefExit"];
const NEXT: &[&str] = &["NextIteration", "RefNextIteration"];
const LOOP_COND: &str = "LoopCond";
/// The N-way switch TensorFlow's lowering of `Case` writes (output k taken when the index is
/// k, the last when it is out of range).
const SWITCH_N: &str = "_SwitchN";
/// `DataType::DT_INT32`.
const DT_INT32: i32 = 3;
/// `DataType::DT_BOOL`.
const DT_BOOL: i32 = 10;

/// Every TF1 frame op: a graph holding one is rebuilt.
pub fn is_frame_op(op: &str) -> bool {
    [SWITCH, MERGE, ENTER, EXIT, NEXT].iter().any(|s| s.contains(&op)) || op == LOOP_COND || op == SWITCH_N
}

/// Whether the graph holds TF1 frames.
pub fn has_frames(gd: &GraphDef) -> bool {
    gd.node.iter().any(|n| is_frame_op(&n.op))
}

/// A frame that cannot be rebuilt; each names the node.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("node `{node}` ({op}): {why}; this TF1 control-flow frame cannot be rebuilt")]
    Shape { node: String, op: String, why: String },
    #[error("node `{node}` ({op}) mixes values of two different cond branches (`{a}` and `{b}`)")]
    MixedBranches { node: String, op: String, a: String, b: String },
    #[error("node `{node}` ({op}) in a branch of the cond on `{pred}` has a side effect, so both branches cannot be evaluated")]
    SideEffect { node: String, op: String, pred: String },
    #[error("node `{node}` reads `{input}` of loop frame `{frame}` without going through an Exit")]
    Escapes { node: String, input: String, frame: String },
}

/// A GraphDef input: producer, output index, control edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Ref {
    node: String,
    output: usize,
    control: bool,
}

fn parse(input: &str) -> Ref {
    if let Some(c) = input.strip_prefix('^') {
        return Ref { node: c.to_string(), output: 0, control: true };
    }
    match input.rsplit_once(':') {
        Some((n, i)) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) => {
            Ref { node: n.to_string(), output: i.parse().unwrap_or(usize::MAX), control: false }
        }
        _ => Ref { node: input.to_string(), output: 0, control: false },
    }
}

fn tensor(node: &str, output: usize) -> String {
    if output == 0 {
        node.to_string()
    } else {
        format!("{node}:{output}")
    }
}

fn attr_type(nd: &NodeDef, name: &str) -> Option<i32> {
    match nd.attr.get(name)?.value.as_ref()? {
        Value::Type(t) => Some(*t),
        _ => None,
    }
}

fn attr_str(nd: &NodeDef, name: &str) -> Option<String> {
    match nd.attr.get(name)?.value.as_ref()? {
        Value::S(s) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    }
}

fn attr_bool(nd: &NodeDef, name: &str) -> bool {
    matches!(nd.attr.get(name).and_then(|a| a.value.as_ref()), Some(Value::B(true)))
}

fn type_attr(t: i32) -> AttrValue {
    AttrValue { value: Some(Value::Type(t)) }
}

fn type_list(types: Vec<i32>) -> AttrValue {
    AttrValue { value: Some(Value::List(Box::new(ListValue { r#type: types, ..Default::default() }))) }
}

fn shape_err(nd: &NodeDef, why: impl Into<String>) -> FrameError {
    FrameError::Shape { node: nd.name.clone(), op: nd.op.clone(), why: why.into() }
}

/// Rebuilds every cond and loop frame of `gd`; the library gains the loops' functions.
pub fn rebuild(gd: &GraphDef) -> Result<GraphDef, FrameError> {
    let consumed: HashSet<String> = gd.node.iter().flat_map(|n| n.input.iter().map(|i| parse(i).node)).collect();
    // TensorFlow's lowering of TF2 loops (`lower_control_flow=True`) leaves one unconnected
    // `unused_control_flow_input` Placeholder per loop input; they are no model inputs.
    let artefact = |n: &NodeDef| n.op == "Placeholder" && n.name.starts_with("unused_control_flow_input");
    let sinks: Vec<String> =
        gd.node.iter().filter(|n| !consumed.contains(&n.name) && !artefact(n)).map(|n| n.name.clone()).collect();
    let sink_set: HashSet<String> = sinks.iter().cloned().collect();
    let mut nodes = rebuild_conds(&gd.node)?;
    let mut functions = gd.library.as_ref().map(|l| l.function.clone()).unwrap_or_default();
    while let Some(frame) = innermost_frame(&nodes) {
        nodes = rebuild_loop(nodes, &frame, &sink_set, &mut functions)?;
    }
    let nodes = prune(nodes, &sinks);
    if let Some(n) = nodes.iter().find(|n| is_frame_op(&n.op)) {
        return Err(shape_err(n, "it belongs to no cond or loop that could be recognised"));
    }
    let library = (!functions.is_empty()).then(|| FunctionDefLibrary {
        function: functions,
        ..gd.library.clone().unwrap_or_default()
    });
    Ok(GraphDef { node: nodes, library, ..gd.clone() })
}

/// Keeps the nodes the original graph's sinks depend on through data edges, and drops control
/// edges to the others: the frames' control edges (a branch constant on its pivot) only
/// scheduled work, and a pivot kept alive by one would become a model output.
fn prune(nodes: Vec<NodeDef>, sinks: &[String]) -> Vec<NodeDef> {
    let by_name: HashMap<&str, &NodeDef> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut keep: HashSet<String> = HashSet::new();
    let mut stack: Vec<String> = sinks.to_vec();
    while let Some(n) = stack.pop() {
        if !keep.insert(n.clone()) {
            continue;
        }
        if let Some(nd) = by_name.get(n.as_str()) {
            stack.extend(nd.input.iter().map(|i| parse(i)).filter(|r| !r.control).map(|r| r.node));
        }
    }
    nodes
        .into_iter()
        .filter(|n| keep.contains(&n.name))
        .map(|mut n| {
            n.input.retain(|i| { let r = parse(i); !r.control || keep.contains(&r.node) });
            n
        })
        .collect()
}

/// One enclosing cond branch: the predicate tensor (through `Identity`s) and the side taken.
type Branch = (String, usize);

/// The cond pass: `Switch` -> `IdentityN`, `Merge` -> `Select` (or its live input).
fn rebuild_conds(nodes: &[NodeDef]) -> Result<Vec<NodeDef>, FrameError> {
    let by_name: HashMap<&str, &NodeDef> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let op_of = |name: &str| by_name.get(name).map_or("", |n| n.op.as_str());
    let is_loop_merge = |n: &NodeDef| MERGE.contains(&n.op.as_str()) && n.input.iter().any(|i| NEXT.contains(&op_of(&parse(i).node)));
    let is_cond_switch = |n: &NodeDef| {
        (SWITCH.contains(&n.op.as_str()) || n.op == SWITCH_N) && n.input.get(1).is_some_and(|p| op_of(&parse(p).node) != LOOP_COND)
    };
    // How many ways a cond switch goes: 2, or a `_SwitchN`'s `num_outs`.
    let ways = |n: &NodeDef| -> usize {
        match n.attr.get("num_outs").and_then(|a| a.value.as_ref()) {
            Some(Value::I(k)) if n.op == SWITCH_N => usize::try_from(*k).unwrap_or(0),
            _ => 2,
        }
    };
    // The predicate a tensor is, seen through Identity chains.
    let canonical = |t: &str| -> String {
        let mut r = parse(t);
        let mut guard = 0;
        while let Some(n) = by_name.get(r.node.as_str()) {
            if n.op != "Identity" || guard > nodes.len() {
                break;
            }
            let Some(i) = n.input.first() else { break };
            r = parse(i);
            guard += 1;
        }
        tensor(&r.node, r.output)
    };
    // A predicate (bool, as 0/1) or branch index (int32) that is a constant.
    // A predicate computed from constants only (Keras' CenterCrop compares the static input
    // shape with the crop size: Const -> StridedSlice -> Sub -> GreaterEqual -> Pack -> All) is
    // as constant as a `Const` one: its dead branch is dropped, Asserts and all.
    let mut folded = ConstFolder { by_name: &by_name, values: HashMap::new() };
    let mut pred_values: HashMap<String, Option<i64>> = HashMap::new();
    for nd in nodes.iter().filter(|n| is_cond_switch(n)) {
        if let Some(p) = nd.input.get(1) {
            let v = folded.value(p, 0).and_then(|t| t.to_i64_vec()).and_then(|v| v.first().copied());
            pred_values.insert(canonical(p), v);
        }
    }
    let constant = |pred: &str| -> Option<i64> { pred_values.get(pred).copied().flatten() };
    let order = topological(nodes, &by_name)?;
    let mut ctx: HashMap<&str, Vec<Branch>> = HashMap::new();
    // Per cond Merge: the predicate, its inputs by side, and the switch's ways.
    let mut merges: HashMap<&str, (String, Vec<String>, usize, bool)> = HashMap::new();
    let mut ways_of: HashMap<String, (usize, bool)> = HashMap::new();
    for &i in &order {
        let nd = &nodes[i];
        // Context of each input; a cond Switch's output k adds (pred, k).
        let mut ins: Vec<(String, Vec<Branch>)> = Vec::new();
        for input in &nd.input {
            let r = parse(input);
            if is_loop_merge(nd) && NEXT.contains(&op_of(&r.node)) {
                continue;
            }
            let mut c = ctx.get(r.node.as_str()).cloned().unwrap_or_default();
            if let Some(p) = by_name.get(r.node.as_str()).filter(|p| is_cond_switch(p)) {
                if !r.control {
                    let pred = canonical(&p.input[1]);
                    ways_of.insert(pred.clone(), (ways(p), p.op == SWITCH_N));
                    c.push((pred, r.output));
                }
            }
            ins.push((input.clone(), c));
        }
        let own = if MERGE.contains(&nd.op.as_str()) && !is_loop_merge(nd) {
            let data: Vec<&(String, Vec<Branch>)> = ins.iter().filter(|(i, _)| !i.starts_with('^')).collect();
            let Some((first, c0)) = data.first().copied() else {
                return Err(shape_err(nd, "a cond Merge without inputs"));
            };
            let Some((pred, _)) = c0.last() else {
                return Err(shape_err(nd, format!("its input `{first}` lies in no cond branch")));
            };
            let (n, indexed) = ways_of.get(pred).copied().unwrap_or((2, false));
            let outer = &c0[..c0.len() - 1];
            let mut by_side: Vec<Option<String>> = vec![None; n];
            for (input, c) in &data {
                match c.split_last() {
                    Some(((p, side), rest)) if p == pred && rest == outer && *side < n && by_side[*side].is_none() => {
                        by_side[*side] = Some(input.clone());
                    }
                    _ => {
                        return Err(shape_err(
                            nd,
                            format!("its inputs `{first}` and `{input}` are not distinct sides of one cond on `{pred}`"),
                        ))
                    }
                }
            }
            let Some(by_side) = by_side.into_iter().collect::<Option<Vec<String>>>() else {
                return Err(shape_err(nd, format!("it has {} inputs for the {n} sides of the cond on `{pred}`", data.len())));
            };
            merges.insert(nd.name.as_str(), (pred.clone(), by_side, n, indexed));
            outer.to_vec()
        } else {
            let mut best: Vec<Branch> = Vec::new();
            let mut from = String::new();
            for (input, c) in &ins {
                if c.len() > best.len() {
                    if !c.starts_with(&best) {
                        return Err(FrameError::MixedBranches { node: nd.name.clone(), op: nd.op.clone(), a: from, b: input.clone() });
                    }
                    best = c.clone();
                    from = input.clone();
                } else if !best.starts_with(c) {
                    return Err(FrameError::MixedBranches { node: nd.name.clone(), op: nd.op.clone(), a: from, b: input.clone() });
                }
            }
            best
        };
        if let Some((pred, _)) = own.iter().find(|(p, _)| constant(p).is_none()) {
            if super::functions::has_side_effect(&nd.op) {
                return Err(FrameError::SideEffect { node: nd.name.clone(), op: nd.op.clone(), pred: pred.clone() });
            }
        }
        ctx.insert(nd.name.as_str(), own);
    }
    let mut out = Vec::with_capacity(nodes.len());
    for nd in nodes {
        let control: Vec<String> = nd.input.iter().filter(|i| i.starts_with('^')).cloned().collect();
        if is_cond_switch(nd) {
            let data = nd.input[0].clone();
            let t = attr_type(nd, "T").unwrap_or(DT_BOOL);
            let k = ways(nd);
            let mut n = NodeDef { name: nd.name.clone(), op: "IdentityN".into(), ..Default::default() };
            n.input = std::iter::repeat_n(data, k).chain(control).collect();
            n.attr.insert("T".into(), type_list(vec![t; k]));
            out.push(n);
        } else if let Some((pred, by_side, ways, indexed)) = merges.get(nd.name.as_str()) {
            let ty = attr_type(nd, "T").unwrap_or(DT_BOOL);
            if let Some(v) = constant(pred) {
                // A constant predicate or index: the live input. An index out of range takes
                // the last branch, as `_SwitchN` (and `Case`) do.
                let live = usize::try_from(v).ok().filter(|&v| v < *ways).unwrap_or(ways - 1);
                let mut n = NodeDef { name: nd.name.clone(), op: "Identity".into(), ..Default::default() };
                n.input = std::iter::once(by_side[live].clone()).chain(control).collect();
                n.attr.insert("T".into(), type_attr(ty));
                out.push(n);
            } else if !indexed {
                let mut n = NodeDef { name: nd.name.clone(), op: "Select".into(), ..Default::default() };
                n.input = [pred.clone(), by_side[1].clone(), by_side[0].clone()].into_iter().chain(control).collect();
                n.attr.insert("T".into(), type_attr(ty));
                out.push(n);
            } else {
                out.extend(index_selects(&nd.name, pred, by_side, ty, control));
            }        } else {
            out.push(nd.clone());
        }
    }
    // A Merge's second output (`value_index`) has no rebuilt form.
    for nd in &out {
        for i in &nd.input {
            let r = parse(i);
            if !r.control && r.output == 1 && merges.contains_key(r.node.as_str()) && !nd.name.starts_with(&format!("{}/case_", r.node)) {
                return Err(shape_err(nd, format!("it reads `{i}`, the value_index of a cond Merge, which has no rebuilt form")));
            }
        }
    }
    Ok(out)
}

/// An N-way Merge on a branch index as nested selects: `index == 0 ? in_0 : (index == 1 ?
/// in_1 : ... in_{N-1})`, the last input also taking every out-of-range index. The outermost
/// `Select` keeps the Merge's name.
pub(crate) fn index_selects(name: &str, index: &str, by_side: &[String], ty: i32, control: Vec<String>) -> Vec<NodeDef> {
    let mut out = Vec::new();
    let mut rest = by_side[by_side.len() - 1].clone();
    for k in (0..by_side.len() - 1).rev() {
        let mut c = NodeDef { name: format!("{name}/case_index_{k}"), op: "Const".into(), ..Default::default() };
        let value = crate::proto::tensorflow::TensorProto {
            dtype: DT_INT32,
            tensor_shape: Some(Default::default()),
            int_val: vec![i32::try_from(k).unwrap_or(i32::MAX)],
            ..Default::default()
        };
        c.attr.insert("value".into(), AttrValue { value: Some(Value::Tensor(Box::new(value))) });
        c.attr.insert("dtype".into(), type_attr(DT_INT32));
        let mut eq = NodeDef {
            name: format!("{name}/case_is_{k}"),
            op: "Equal".into(),
            input: vec![index.to_string(), c.name.clone()],
            ..Default::default()
        };
        eq.attr.insert("T".into(), type_attr(DT_INT32));
        let sel_name = if k == 0 { name.to_string() } else { format!("{name}/case_select_{k}") };
        let mut sel = NodeDef { name: sel_name.clone(), op: "Select".into(), ..Default::default() };
        sel.input = vec![eq.name.clone(), by_side[k].clone(), rest];
        if k == 0 {
            sel.input.extend(control.iter().cloned());
        }
        sel.attr.insert("T".into(), type_attr(ty));
        out.extend([c, eq, sel]);
        rest = sel_name;
    }
    out
}

/// Node indices in an order where producers come first; a loop `Merge`'s `NextIteration`
/// input is a back edge and ignored.
fn topological(nodes: &[NodeDef], by_name: &HashMap<&str, &NodeDef>) -> Result<Vec<usize>, FrameError> {
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.name.as_str(), i)).collect();
    let mut indegree = vec![0usize; nodes.len()];
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, nd) in nodes.iter().enumerate() {
        let is_merge = MERGE.contains(&nd.op.as_str());
        for input in &nd.input {
            let r = parse(input);
            let Some(&p) = index.get(r.node.as_str()) else { continue };
            if is_merge && by_name.get(r.node.as_str()).is_some_and(|n| NEXT.contains(&n.op.as_str())) {
                continue;
            }
            indegree[i] += 1;
            consumers[p].push(i);
        }
    }
    let mut queue: VecDeque<usize> = (0..nodes.len()).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(i) = queue.pop_front() {
        order.push(i);
        for &c in &consumers[i] {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                queue.push_back(c);
            }
        }
    }
    if order.len() != nodes.len() {
        let stuck = (0..nodes.len()).find(|&i| indegree[i] > 0).map_or(0, |i| i);
        return Err(shape_err(&nodes[stuck], "it lies on a cycle that is not a loop's NextIteration back edge"));
    }
    Ok(order)
}

/// The frame name of an `Enter`.
fn frame_of(nd: &NodeDef) -> Option<String> {
    ENTER.contains(&nd.op.as_str()).then(|| attr_str(nd, "frame_name").unwrap_or_default())
}

/// Names of the nodes in `frame`: everything reachable from its `Enter`s, its `Exit`s included
/// and nothing after them.
fn members(nodes: &[NodeDef], frame: &str) -> HashSet<String> {
    let mut consumers: HashMap<String, Vec<&NodeDef>> = HashMap::new();
    for nd in nodes {
        for i in &nd.input {
            consumers.entry(parse(i).node).or_default().push(nd);
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut stack: Vec<&NodeDef> = nodes.iter().filter(|n| frame_of(n).as_deref() == Some(frame)).collect();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.name.clone()) || EXIT.contains(&n.op.as_str()) {
            continue;
        }
        stack.extend(consumers.get(&n.name).into_iter().flatten().copied());
    }
    seen
}

/// A frame none of whose members enters another frame.
fn innermost_frame(nodes: &[NodeDef]) -> Option<String> {
    let mut frames: Vec<String> = Vec::new();
    for n in nodes {
        if let Some(f) = frame_of(n) {
            if !frames.contains(&f) {
                frames.push(f);
            }
        }
    }
    let by_name: HashMap<&str, &NodeDef> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    frames
        .iter()
        .find(|f| {
            members(nodes, f)
                .iter()
                .all(|m| by_name.get(m.as_str()).and_then(|n| frame_of(n)).is_none_or(|g| &g == *f))
        })
        .or(frames.first())
        .cloned()
}

/// One loop variable of a frame.
struct Var<'a> {
    enter: &'a NodeDef,
    merge: &'a NodeDef,
    switch: &'a NodeDef,
    next: &'a NodeDef,
    exit: Option<&'a NodeDef>,
}

/// The loop pass for one frame: its nodes replaced by a `StatelessWhile`.
fn rebuild_loop(nodes: Vec<NodeDef>, frame: &str, sinks: &HashSet<String>, functions: &mut Vec<FunctionDef>) -> Result<Vec<NodeDef>, FrameError> {
    let reachable = members(&nodes, frame);
    let by_name: HashMap<&str, &NodeDef> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    // The frame proper: what its NextIterations, LoopCond and Exits depend on. A node reached
    // from the Enters but outside it reads a loop value without an Exit: refused, since
    // dropping it with the frame would lose it silently.
    let mut inside: HashSet<String> = HashSet::new();
    let mut stack: Vec<&str> = reachable
        .iter()
        .filter(|m| by_name.get(m.as_str()).is_some_and(|n| NEXT.contains(&n.op.as_str()) || EXIT.contains(&n.op.as_str()) || n.op == LOOP_COND))
        .map(String::as_str)
        .collect();
    while let Some(m) = stack.pop() {
        if !reachable.contains(m) || !inside.insert(m.to_string()) {
            continue;
        }
        if let Some(n) = by_name.get(m) {
            stack.extend(n.input.iter().map(|i| i.strip_prefix('^').unwrap_or(i)).map(|i| i.rsplit_once(':').filter(|(_, k)| k.bytes().all(|b| b.is_ascii_digit())).map_or(i, |(n, _)| n)));
        }
    }
    let consumers = |name: &str| -> Vec<&NodeDef> {
        nodes.iter().filter(|n| n.input.iter().any(|i| { let r = parse(i); !r.control && r.node == name })).collect()
    };
    let enters: Vec<&NodeDef> = nodes.iter().filter(|n| frame_of(n).as_deref() == Some(frame)).collect();
    let mut vars: Vec<Var> = Vec::new();
    let mut invariants: Vec<&NodeDef> = Vec::new();
    let mut loop_cond: Option<&NodeDef> = None;
    for &e in &enters {
        if attr_bool(e, "is_constant") {
            invariants.push(e);
            continue;
        }
        let find = |of: &NodeDef, ops: &[&str], what: &str| -> Result<&NodeDef, FrameError> {
            let c: Vec<&NodeDef> = consumers(&of.name).into_iter().filter(|n| ops.contains(&n.op.as_str())).collect();
            match c[..] {
                [one] => Ok(one),
                _ => Err(shape_err(of, format!("loop variable of frame `{frame}` feeds {} {what} nodes, not one", c.len()))),
            }
        };
        let merge = find(e, MERGE, "Merge")?;
        let next = merge
            .input
            .iter()
            .filter_map(|i| by_name.get(parse(i).node.as_str()).copied())
            .find(|n| NEXT.contains(&n.op.as_str()))
            .ok_or_else(|| shape_err(merge, "the loop Merge has no NextIteration input"))?;
        let switch = find(merge, SWITCH, "Switch")?;
        let lc = switch
            .input
            .get(1)
            .and_then(|p| by_name.get(parse(p).node.as_str()).copied())
            .filter(|n| n.op == LOOP_COND)
            .ok_or_else(|| shape_err(switch, "the loop Switch's predicate is not a LoopCond"))?;
        if loop_cond.is_some_and(|l| l.name != lc.name) {
            return Err(shape_err(lc, format!("frame `{frame}` has two LoopConds")));
        }
        loop_cond = Some(lc);
        let exit = consumers(&switch.name).into_iter().find(|n| EXIT.contains(&n.op.as_str()));
        vars.push(Var { enter: e, merge, switch, next, exit });
    }
    let Some(loop_cond) = loop_cond else {
        return Err(shape_err(enters[0], format!("frame `{frame}` has no loop variable")));
    };
    // (A node the rebuilt conds left without consumers, such as a cond's `pred_id`, is dead,
    // not escaping: only one that is a sink of the original graph escapes.)
    if let Some(n) = nodes.iter().find(|n| reachable.contains(&n.name) && !inside.contains(&n.name) && sinks.contains(&n.name)) {
        let input = n.input.iter().find(|i| inside.contains(&parse(i).node)).cloned().unwrap_or_default();
        return Err(FrameError::Escapes { node: n.name.clone(), input, frame: frame.into() });
    }
    // Whatever leaves the frame must go through an Exit.
    for nd in &nodes {
        if reachable.contains(&nd.name) {
            continue;
        }
        for i in &nd.input {
            let r = parse(i);
            if inside.contains(&r.node) && !by_name.get(r.node.as_str()).is_some_and(|p| EXIT.contains(&p.op.as_str())) {
                return Err(FrameError::Escapes { node: nd.name.clone(), input: i.clone(), frame: frame.into() });
            }
        }
    }

    let base = frame.strip_suffix("/while_context").unwrap_or(frame).to_string();
    let exits: HashMap<&str, usize> = vars.iter().enumerate().filter_map(|(k, v)| v.exit.map(|e| (e.name.as_str(), k))).collect();
    let taken: HashSet<&str> =
        nodes.iter().filter(|n| !inside.contains(&n.name) || exits.contains_key(n.name.as_str())).map(|n| n.name.as_str()).collect();
    let mut name = base.clone();
    while taken.contains(name.as_str()) {
        name.push_str("/loop");
    }
    let types: Vec<i32> = vars
        .iter()
        .map(|v| v.enter)
        .chain(invariants.iter().copied())
        .map(|e| attr_type(e, "T").ok_or_else(|| shape_err(e, "the Enter has no dtype `T`")))
        .collect::<Result<_, _>>()?;
    let arg = |k: usize| format!("tf1_var_{k}");
    let n = vars.len();

    // Condition: the Merges and invariants are its arguments.
    let mut cond_args: HashMap<Ref, usize> = HashMap::new();
    let mut arg_nodes: HashMap<String, usize> = HashMap::new();
    for (k, v) in vars.iter().enumerate() {
        cond_args.insert(Ref { node: v.merge.name.clone(), output: 0, control: false }, k);
        arg_nodes.insert(v.merge.name.clone(), k);
    }
    for (j, c) in invariants.iter().enumerate() {
        cond_args.insert(Ref { node: c.name.clone(), output: 0, control: false }, n + j);
        arg_nodes.insert(c.name.clone(), n + j);
    }
    let pred = loop_cond.input.first().ok_or_else(|| shape_err(loop_cond, "LoopCond has no input"))?;
    let order: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.name.as_str(), i)).collect();
    let cut = Cut { nodes: &by_name, order: &order, inside: &inside, args: &cond_args, arg_nodes: &arg_nodes, base: &base, arg: &arg };
    let cond_fn = format!("{base}/cond_fn");
    let cond_body = cut.function(&cond_fn, &types, &[DT_BOOL], std::slice::from_ref(pred))?;

    // Body: the Switches' true outputs and invariants are its arguments; invariants return unchanged.
    let mut body_args: HashMap<Ref, usize> = HashMap::new();
    let mut arg_nodes: HashMap<String, usize> = HashMap::new();
    for (k, v) in vars.iter().enumerate() {
        body_args.insert(Ref { node: v.switch.name.clone(), output: 1, control: false }, k);
        // A control edge on a variable's Switch orders nothing inside a function (TF's own
        // lowering of a Keras loop hangs every Switch on one NoOp): dropped like an argument's.
        arg_nodes.insert(v.switch.name.clone(), k);
    }
    for (j, c) in invariants.iter().enumerate() {
        body_args.insert(Ref { node: c.name.clone(), output: 0, control: false }, n + j);
        arg_nodes.insert(c.name.clone(), n + j);
    }
    let mut results: Vec<String> = Vec::new();
    for v in &vars {
        results.push(v.next.input.first().cloned().ok_or_else(|| shape_err(v.next, "NextIteration has no input"))?);
    }
    results.extend(invariants.iter().map(|c| c.name.clone()));
    let cut = Cut { nodes: &by_name, order: &order, inside: &inside, args: &body_args, arg_nodes: &arg_nodes, base: &base, arg: &arg };
    let body_fn = format!("{base}/body_fn");
    let body = cut.function(&body_fn, &types, &types, &results)?;

    let mut w = NodeDef { name: name.clone(), op: "StatelessWhile".into(), ..Default::default() };
    w.input = vars.iter().map(|v| v.enter).chain(invariants.iter().copied()).map(|e| e.input[0].clone()).collect();
    w.attr.insert("T".into(), type_list(types.clone()));
    let func = |f: &str| AttrValue { value: Some(Value::Func(NameAttrList { name: f.into(), attr: BTreeMap::new() })) };
    w.attr.insert("cond".into(), func(&cond_fn));
    w.attr.insert("body".into(), func(&body_fn));
    w.attr.insert("parallel_iterations".into(), AttrValue { value: Some(Value::I(10)) });
    let mut out = Vec::with_capacity(nodes.len());
    for nd in &nodes {
        if let Some(&k) = exits.get(nd.name.as_str()) {
            if out.iter().all(|o: &NodeDef| o.name != name) {
                out.push(w.clone());
            }
            let mut id = NodeDef { name: nd.name.clone(), op: "Identity".into(), input: vec![tensor(&name, k)], ..Default::default() };
            id.attr.insert("T".into(), type_attr(types[k]));
            out.push(id);
        } else if !inside.contains(&nd.name) {
            out.push(nd.clone());
        }
    }
    // Without a used Exit the loop's results are dead, and so is the loop: no functions.
    if !exits.is_empty() {
        functions.push(cond_body);
        functions.push(body);
    }
    Ok(out)
}

/// Cuts a function out of a frame: the nodes the results depend on, with the argument
/// tensors replaced by the function's arguments.
struct Cut<'c, 'a> {
    nodes: &'c HashMap<&'a str, &'a NodeDef>,
    /// Graph order, kept inside the function.
    order: &'c HashMap<&'a str, usize>,
    inside: &'c HashSet<String>,
    /// Tensors that are arguments.
    args: &'c HashMap<Ref, usize>,
    /// Nodes a control edge on which is a control edge on an argument (dropped).
    arg_nodes: &'c HashMap<String, usize>,
    /// The frame's name prefix, stripped from node names inside the function.
    base: &'c str,
    arg: &'c dyn Fn(usize) -> String,
}

impl Cut<'_, '_> {
    fn function(&self, name: &str, in_types: &[i32], out_types: &[i32], results: &[String]) -> Result<FunctionDef, FrameError> {
        // Nodes needed, found backwards from the results.
        let mut need: Vec<&NodeDef> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<String> = results.to_vec();
        while let Some(t) = stack.pop() {
            let r = parse(&t);
            let key = Ref { control: false, ..r.clone() };
            if (!r.control && self.args.contains_key(&key)) || (r.control && self.arg_nodes.contains_key(&r.node)) {
                continue;
            }
            let Some(nd) = self.nodes.get(r.node.as_str()).copied() else { continue };
            if !seen.insert(nd.name.as_str()) {
                continue;
            }
            if is_frame_op(&nd.op) {
                return Err(shape_err(nd, format!("function `{name}` would contain it (a loop variable read other than through its Switch)")));
            }
            if !(self.inside.contains(&nd.name) || nd.op == "Const" && nd.input.is_empty()) {
                return Err(shape_err(nd, format!("it is used inside loop `{}` without an Enter", self.base)));
            }
            need.push(nd);
            stack.extend(nd.input.iter().cloned());
        }
        // Every data input must name a node (or be an argument): a malformed graph is refused
        // here rather than failing on the renaming below.
        let known = |t: &str| {
            let r = parse(t);
            r.control || self.args.contains_key(&Ref { control: false, ..r.clone() }) || self.nodes.contains_key(r.node.as_str())
        };
        if let Some(r) = results.iter().find(|t| !known(t)) {
            return Err(FrameError::Shape { node: self.base.to_string(), op: "frame".into(), why: format!("function `{name}` returns `{r}`, which names no node of the graph") });
        }
        for nd in &need {
            if let Some(i) = nd.input.iter().find(|i| !known(i)) {
                return Err(shape_err(nd, format!("input `{i}` names no node of the graph")));
            }
        }
        // Names without the frame's prefix (`while/add` -> `add`) unless that makes two equal.
        let prefix = format!("{}/", self.base);
        let stripped: Vec<String> = need.iter().map(|n| n.name.strip_prefix(&prefix).unwrap_or(&n.name).to_string()).collect();
        let unique = stripped.iter().collect::<HashSet<_>>().len() == stripped.len() && !stripped.iter().any(|s| s.starts_with("tf1_var_"));
        let short: HashMap<&str, String> =
            need.iter().zip(stripped).map(|(n, s)| (n.name.as_str(), if unique { s } else { n.name.clone() })).collect();
        let rename = |t: &str| -> Option<String> {
            let r = parse(t);
            let key = Ref { control: false, ..r.clone() };
            if r.control {
                return if self.arg_nodes.contains_key(&r.node) || !short.contains_key(r.node.as_str()) {
                    None
                } else {
                    Some(format!("^{}", short[r.node.as_str()]))
                };
            }
            if let Some(&k) = self.args.get(&key) {
                return Some((self.arg)(k));
            }
            Some(tensor(&short[r.node.as_str()], r.output))
        };
        let mut node_def = Vec::with_capacity(need.len());
        // In graph order, for readable functions.
        let mut ordered = need.clone();
        ordered.sort_by_key(|n| self.order.get(n.name.as_str()).copied().unwrap_or(0));
        for nd in ordered {
            let mut n = nd.clone();
            n.name = short[nd.name.as_str()].clone();
            n.input = nd.input.iter().filter_map(|i| rename(i)).collect();
            node_def.push(n);
        }
        let mut ret = std::collections::BTreeMap::new();
        let mut output_arg = Vec::new();
        for (k, (r, &t)) in results.iter().zip(out_types).enumerate() {
            let out = format!("out_{k}");
            ret.insert(out.clone(), rename(r).unwrap_or_default());
            output_arg.push(ArgDef { name: out, r#type: t, ..Default::default() });
        }
        let input_arg = in_types.iter().enumerate().map(|(k, &t)| ArgDef { name: (self.arg)(k), r#type: t, ..Default::default() }).collect();
        Ok(FunctionDef {
            signature: Some(OpDef { name: name.into(), input_arg, output_arg, ..Default::default() }),
            node_def,
            ret: ret.into_iter().collect(),
            ..Default::default()
        })
    }
}

/// Values of nodes computed from `Const` nodes only, by TensorFlow's semantics (`ir::eval`):
/// what a cond predicate is when it does not depend on the graph's inputs. Depth-first over
/// data inputs with a memo; a node with a control input, an op the evaluator does not know or
/// an input that is not constant has no value.
struct ConstFolder<'a> {
    by_name: &'a HashMap<&'a str, &'a NodeDef>,
    values: HashMap<String, Option<Vec<crate::ir::tensor::Tensor>>>,
}

impl ConstFolder<'_> {
    /// Output `port` of node `input` (a `node:k` reference is read as written).
    fn value(&mut self, input: &str, depth: usize) -> Option<crate::ir::tensor::Tensor> {
        let r = parse(input);
        if r.control || depth > 64 {
            return None;
        }
        let outs = self.node(&r.node, depth)?;
        outs.get(r.output).cloned()
    }

    fn node(&mut self, name: &str, depth: usize) -> Option<Vec<crate::ir::tensor::Tensor>> {
        if let Some(v) = self.values.get(name) {
            return v.clone();
        }
        let v = self.compute(name, depth);
        self.values.insert(name.to_string(), v.clone());
        v
    }

    fn compute(&mut self, name: &str, depth: usize) -> Option<Vec<crate::ir::tensor::Tensor>> {
        let nd = *self.by_name.get(name)?;
        if nd.op == "Const" {
            let Value::Tensor(t) = nd.attr.get("value")?.value.as_ref()? else { return None };
            return crate::ir::tensor::Tensor::from_proto(t).ok().map(|t| vec![t]);
        }
        if !crate::ir::eval::is_foldable(&nd.op) || nd.input.iter().any(|i| i.starts_with('^')) {
            return None;
        }
        let mut inputs = Vec::with_capacity(nd.input.len());
        for i in &nd.input {
            inputs.push(self.value(i, depth + 1)?);
        }
        let mut attrs = crate::ir::attr::Attrs::default();
        for (k, v) in &nd.attr {
            attrs.insert(k.clone(), crate::ir::attr::Attr::from_proto(v).ok()?);
        }
        crate::ir::eval::eval_op(&nd.op, &attrs, &inputs).ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, op: &str, inputs: &[&str]) -> NodeDef {
        let mut n = NodeDef { name: name.into(), op: op.into(), input: inputs.iter().map(|s| s.to_string()).collect(), ..Default::default() };
        n.attr.insert("T".into(), type_attr(1));
        n
    }

    fn enter(name: &str, input: &str, frame: &str, constant: bool) -> NodeDef {
        let mut n = node(name, "Enter", &[input]);
        n.attr.insert("frame_name".into(), AttrValue { value: Some(Value::S(frame.as_bytes().to_vec().into())) });
        n.attr.insert("is_constant".into(), AttrValue { value: Some(Value::B(constant)) });
        n
    }

    /// `x` doubled while `p(x)`: Enter, Merge, LoopCond, Switch, body, NextIteration, Exit.
    fn a_loop(extra: Vec<NodeDef>) -> GraphDef {
        let mut nodes = vec![
            node("x", "Placeholder", &[]),
            enter("w/Enter", "x", "w/while_context", false),
            node("w/Merge", "Merge", &["w/Enter", "w/NextIteration"]),
            node("w/p", "Less", &["w/Merge", "w/Merge"]),
            node("w/LoopCond", "LoopCond", &["w/p"]),
            node("w/Switch", "Switch", &["w/Merge", "w/LoopCond"]),
            node("w/Identity", "Identity", &["w/Switch:1"]),
            node("w/add", "AddV2", &["w/Identity", "w/Identity"]),
            node("w/NextIteration", "NextIteration", &["w/add"]),
            node("w/Exit", "Exit", &["w/Switch"]),
            node("y", "Identity", &["w/Exit"]),
        ];
        nodes.extend(extra);
        GraphDef { node: nodes, ..Default::default() }
    }

    #[test]
    fn a_loop_becomes_a_stateless_while_with_its_functions() {
        let g = rebuild(&a_loop(vec![])).unwrap();
        let ops: Vec<(&str, &str)> = g.node.iter().map(|n| (n.name.as_str(), n.op.as_str())).collect();
        assert_eq!(ops, [("x", "Placeholder"), ("w", "StatelessWhile"), ("w/Exit", "Identity"), ("y", "Identity")]);
        assert_eq!(g.node[2].input, ["w"]);
        let lib = g.library.unwrap();
        let names: Vec<&str> = lib.function.iter().map(|f| f.signature.as_ref().unwrap().name.as_str()).collect();
        assert_eq!(names, ["w/cond_fn", "w/body_fn"]);
        let body = &lib.function[1];
        let nodes: Vec<(&str, Vec<String>)> = body.node_def.iter().map(|n| (n.name.as_str(), n.input.clone())).collect();
        assert_eq!(nodes, [("Identity", vec!["tf1_var_0".to_string()]), ("add", vec!["Identity".into(), "Identity".into()])]);
        assert_eq!(body.ret["out_0"], "add");
    }

    #[test]
    fn a_value_leaving_a_frame_without_exit_is_an_error_naming_the_reader() {
        let e = rebuild(&a_loop(vec![node("z", "Neg", &["w/add"])])).unwrap_err().to_string();
        assert_eq!(e, "node `z` reads `w/add` of loop frame `w/while_context` without going through an Exit");
    }

    #[test]
    fn a_predicate_through_identities_to_a_constant_keeps_the_live_branch_only() {
        let mut pred = node("p", "Const", &[]);
        let t = crate::proto::tensorflow::TensorProto { dtype: DT_BOOL, bool_val: vec![false], ..Default::default() };
        pred.attr.insert("value".into(), AttrValue { value: Some(Value::Tensor(Box::new(t))) });
        let gd = GraphDef {
            node: vec![
                node("x", "Placeholder", &[]),
                pred,
                node("pid", "Identity", &["p"]),
                node("s", "Switch", &["x", "pid"]),
                node("dead", "Lgamma", &["s:1"]),
                node("live", "Neg", &["s"]),
                node("m", "Merge", &["live", "dead"]),
                node("y", "Identity", &["m"]),
            ],
            ..Default::default()
        };
        let g = rebuild(&gd).unwrap();
        let ops: Vec<(&str, &str)> = g.node.iter().map(|n| (n.name.as_str(), n.op.as_str())).collect();
        assert_eq!(ops, [("x", "Placeholder"), ("s", "IdentityN"), ("live", "Neg"), ("m", "Identity"), ("y", "Identity")]);
        assert_eq!(g.node[3].input, ["live"]);
    }
}
