//! Keras recurrent loops recognised before the graph is built: a `While`/`StatelessWhile`
//! whose body is one step of a Keras LSTM, GRU (`reset_after=False`) or SimpleRNN (tanh)
//! cell becomes one node of a library pseudo-op (`KerasLSTM`, `KerasGRU`, `KerasSimpleRNN`,
//! declared by `infer` items in `rules/recurrent.rules`), which the rules translate into one
//! Core ML recurrent layer. GraphDef to GraphDef, after function calls are flattened.
//!
//! Keras freezes every recurrent layer into the same loop: x (time-major) is unstacked into a
//! `TensorList` (`TensorListFromTensor`), the body reads `x_t` with `TensorListGetItem` at the
//! time variable, computes the cell, writes `h_t` with `TensorListSetItem` (at the time
//! variable, or at 0 when only the last output is kept) into a list made by
//! `TensorListReserve`, and `TensorListStack` after the loop gives the output sequence. The
//! recogniser checks that structure exactly (the time variable counts from its initial value
//! by 1 and the condition is `time < n`; every other variable is a loop counter or passes
//! through unchanged; the cell's expression tree, with `AddV2`/`BiasAdd`/`Mul` operands in
//! either order and `Identity`s skipped); anything else is left as a loop. The initial time,
//! trip count and list size become inputs of the pseudo-op, so the rules check their values
//! (`time0 == 0`, `n == T`, the list size) as guards rather than this code trusting them.
//! Weights are the loop-invariant subgraphs the cell's matmuls read, copied out of the body
//! (`LOOP/rnn/...`): a `StridedSlice` of a recurrent kernel comes along and folds to a constant.
//!
//! A loop that carries a `TensorList` and is not recognised (Keras' default GRU among them) is
//! left as it is: it converts as a Core ML `loop` whose lists are preallocated tensors
//! (`ir::infer::lists`, `rules/lists.rules`).

use super::functions::{prune, region_graph, RegionVar};
use super::tensor::Tensor;
use crate::proto::tensorflow::attr_value::Value;
use crate::proto::tensorflow::{AttrValue, FunctionDef, GraphDef, NodeDef};
use std::collections::{HashMap, HashSet};

/// Ops recognised as loops.
const WHILE_OPS: &[&str] = &["While", "StatelessWhile"];
/// `DataType::DT_VARIANT` (a `TensorList`).
const DT_VARIANT: i32 = 21;
/// `DataType::DT_FLOAT`.
const DT_FLOAT: i32 = 1;

/// Replaces every recognised Keras recurrent loop of `gd` (already flattened) by its pseudo-op
/// and leaves the other loops over `TensorList`s to the generic route.
pub fn fuse(mut gd: GraphDef, library: &[FunctionDef]) -> GraphDef {
    // The graph's results before fusion: what the list scaffolding left dead is pruned from.
    let read: HashSet<&str> = gd.node.iter().flat_map(data_inputs).map(|i| split_ref(i).0).collect();
    let results: Vec<String> = gd.node.iter().filter(|n| n.op != "Const" && !read.contains(n.name.as_str())).map(|n| n.name.clone()).collect();
    let mut fused = false;
    // By name: bypassing identities removes nodes, which moves the indices.
    let loops: Vec<String> =
        gd.node.iter().filter(|nd| WHILE_OPS.contains(&nd.op.as_str()) && type_list(nd, "T").contains(&DT_VARIANT)).map(|nd| nd.name.clone()).collect();
    for name in loops {
        let Some(idx) = gd.node.iter().position(|n| n.name == name) else { continue };
        bypass_identities(&mut gd, idx, &results);
        let Some(idx) = gd.node.iter().position(|n| n.name == name) else { continue };
        match recognise(&gd, idx, library) {
            Ok(plan) => {
                apply(&mut gd, idx, plan);
                fused = true;
            }
            // Not a cell this recogniser knows (Keras' default GRU, `reset_after=True`, has no
            // Core ML `gru` form): the loop converts by the generic route, its lists as
            // preallocated tensors (`rules/lists.rules`).
            Err(_) => {}
        }
    }
    if fused {
        let top: HashSet<&str> = results.iter().map(String::as_str).collect();
        gd.node = prune(std::mem::take(&mut gd.node), &top);
    }
    gd
}

/// Makes the readers of `Identity(loop:k)` read `loop:k` itself, and drops such an `Identity`
/// once nothing reads it (unless it is one of the graph's `results`). TF's lowering of control
/// flow (the default of `convert_variables_to_constants_v2`) leaves an `Exit` on every loop
/// output, which the frame rebuild (`ir::frames`) turns into exactly such an `Identity`; the
/// recognition then sees the same graph as for a TF2 `While`.
fn bypass_identities(gd: &mut GraphDef, idx: usize, results: &[String]) {
    let name = gd.node[idx].name.clone();
    let through: HashMap<String, String> = gd
        .node
        .iter()
        .filter(|n| n.op == "Identity")
        .filter_map(|n| {
            let mut ins = data_inputs(n);
            let i = ins.next()?;
            (ins.next().is_none() && split_ref(i).0 == name).then(|| (n.name.clone(), i.clone()))
        })
        .collect();
    if through.is_empty() {
        return;
    }
    for n in gd.node.iter_mut() {
        for i in n.input.iter_mut().filter(|i| !i.starts_with('^')) {
            let (src, k) = split_ref(i);
            if k == 0 {
                if let Some(t) = through.get(src) {
                    *i = t.clone();
                }
            }
        }
    }
    let read: HashSet<String> = gd.node.iter().flat_map(|n| n.input.iter()).map(|i| split_ref(i.trim_start_matches('^')).0.to_string()).collect();
    gd.node.retain(|n| !through.contains_key(&n.name) || read.contains(&n.name) || results.contains(&n.name));
}

/// What replaces one loop.
struct Plan {
    op: &'static str,
    inputs: Vec<String>,
    last_only: bool,
    /// (loop output index, pseudo-op output index) for the carried states.
    states: Vec<(usize, usize)>,
    /// The loop output holding the list of outputs (read by `TensorListStack`).
    list: usize,
    /// Nodes copied out of the body (weights), already renamed.
    hoisted: Vec<NodeDef>,
}

fn type_list(nd: &NodeDef, attr: &str) -> Vec<i32> {
    match nd.attr.get(attr).and_then(|a| a.value.as_ref()) {
        Some(Value::List(l)) => l.r#type.clone(),
        _ => Vec::new(),
    }
}

fn func_attr(nd: &NodeDef, attr: &str) -> Result<String, String> {
    match nd.attr.get(attr).and_then(|a| a.value.as_ref()) {
        Some(Value::Func(f)) => Ok(f.name.clone()),
        _ => Err(format!("attribute `{attr}` does not name a function")),
    }
}

/// `node:k` (or `node`) split into the node name and output index.
fn split_ref(s: &str) -> (&str, usize) {
    match s.rsplit_once(':') {
        Some((n, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => (n, k.parse().unwrap_or(0)),
        _ => (s, 0),
    }
}

fn data_inputs(nd: &NodeDef) -> impl Iterator<Item = &String> {
    nd.input.iter().filter(|i| !i.starts_with('^'))
}

/// A tensor of a flattened graph: its producer and output index.
#[derive(Clone, Copy)]
struct Ref<'a> {
    node: &'a NodeDef,
    out: usize,
}

impl PartialEq for Ref<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.node.name == o.node.name && self.out == o.out
    }
}

/// A flattened graph (a loop region or the enclosing graph), read through `Identity`s.
struct Flat<'a> {
    nodes: HashMap<&'a str, &'a NodeDef>,
}

impl<'a> Flat<'a> {
    fn new(gd: &'a GraphDef) -> Self {
        Flat { nodes: gd.node.iter().map(|n| (n.name.as_str(), n)).collect() }
    }

    fn resolve(&self, s: &str) -> Option<Ref<'a>> {
        let (name, out) = split_ref(s);
        let node = *self.nodes.get(name)?;
        if node.op == "Identity" && out == 0 {
            return self.resolve(data_inputs(node).next()?);
        }
        Some(Ref { node, out })
    }

    fn input(&self, r: Ref<'a>, k: usize) -> Option<Ref<'a>> {
        self.resolve(data_inputs(r.node).nth(k)?)
    }

    /// The operand of a unary op `op` producing `r`.
    fn unary(&self, r: Ref<'a>, op: &str) -> Option<Ref<'a>> {
        (r.node.op == op && r.out == 0).then(|| self.input(r, 0)).flatten()
    }

    fn binary(&self, r: Ref<'a>, op: &str) -> Option<(Ref<'a>, Ref<'a>)> {
        (r.node.op == op && r.out == 0).then(|| Some((self.input(r, 0)?, self.input(r, 1)?))).flatten()
    }

    /// Of two operands, the one made by unary `op` (its operand) and the other.
    fn pick(&self, (a, b): (Ref<'a>, Ref<'a>), op: &str) -> Option<(Ref<'a>, Ref<'a>)> {
        self.unary(a, op).map(|x| (x, b)).or_else(|| self.unary(b, op).map(|x| (x, a)))
    }

    /// The terms of a sum of `AddV2`/`Add`/`BiasAdd` nodes, in any grouping and order.
    fn terms(&self, r: Ref<'a>, out: &mut Vec<Ref<'a>>) {
        if matches!(r.node.op.as_str(), "AddV2" | "Add" | "BiasAdd") && r.out == 0 {
            if let (Some(a), Some(b)) = (self.input(r, 0), self.input(r, 1)) {
                self.terms(a, out);
                self.terms(b, out);
                return;
            }
        }
        out.push(r);
    }

    fn constant(&self, r: Ref<'a>) -> Option<Tensor> {
        if r.node.op != "Const" || r.out != 0 {
            return None;
        }
        match r.node.attr.get("value")?.value.as_ref()? {
            Value::Tensor(t) => Tensor::from_proto(t).ok(),
            _ => None,
        }
    }

    fn scalar(&self, r: Ref<'a>) -> Option<f64> {
        let v = self.constant(r)?.to_f64_vec()?;
        (v.len() == 1).then(|| v[0])
    }

    fn flag(r: Ref<'a>, attr: &str) -> bool {
        matches!(r.node.attr.get(attr).and_then(|a| a.value.as_ref()), Some(Value::B(true)))
    }

    fn int_attr(r: Ref<'a>, attr: &str) -> Option<i64> {
        match r.node.attr.get(attr)?.value.as_ref()? {
            Value::I(i) => Some(*i),
            _ => None,
        }
    }

    /// `MatMul(a, w)` without transposes: (a, w).
    fn matmul(&self, r: Ref<'a>) -> Option<(Ref<'a>, Ref<'a>)> {
        let (a, w) = self.binary(r, "MatMul")?;
        (!Self::flag(r, "transpose_a") && !Self::flag(r, "transpose_b")).then_some((a, w))
    }

    /// Keras' split of `h R_zr` into the update and reset parts: `SplitV(m, sizes, axis)` with
    /// 2 or 3 parts (`[nh, nh, -1]`, the last empty) along the last axis: (m, sizes). The rule
    /// checks the sizes.
    fn recurrent_split(&self, r: Ref<'a>) -> Option<(Ref<'a>, Ref<'a>)> {
        let parts = Self::int_attr(r, "num_split")?;
        let axis = self.scalar(self.input(r, 2)?)?;
        let ok = r.node.op == "SplitV" && (parts == 2 || parts == 3) && r.out < 2 && (axis == 1.0 || axis == -1.0);
        ok.then(|| Some((self.input(r, 0)?, self.input(r, 1)?))).flatten()
    }

    /// A `Split`/`SplitV` into `n` equal parts along the last axis of a matrix: its operand.
    fn equal_split(&self, r: Ref<'a>, n: i64) -> Option<Ref<'a>> {
        let last_axis = |a: Ref<'a>| self.scalar(a).is_some_and(|v| v == 1.0 || v == -1.0);
        if Self::int_attr(r, "num_split") != Some(n) || r.out as i64 >= n {
            return None;
        }
        match r.node.op.as_str() {
            "Split" => last_axis(self.input(r, 0)?).then(|| self.input(r, 1)).flatten(),
            "SplitV" => {
                let sizes = self.constant(self.input(r, 1)?)?.to_i64_vec()?;
                let equal = sizes.len() as i64 == n && sizes.iter().all(|&s| s >= 0 && s == sizes[0]);
                (equal && last_axis(self.input(r, 2)?)).then(|| self.input(r, 0)).flatten()
            }
            _ => None,
        }
    }
}

/// The loop's body seen as a graph: variables, results and the list reads and writes.
struct Body<'a> {
    flat: Flat<'a>,
    /// Placeholder name -> loop variable index.
    vars: HashMap<&'a str, usize>,
    /// What each result is, for every loop variable.
    results: Vec<Ref<'a>>,
    /// x_t, read from the input list at the time variable.
    x_t: Ref<'a>,
}

impl<'a> Body<'a> {
    fn var(&self, r: Ref<'a>) -> Option<usize> {
        (r.node.op == "Placeholder").then(|| self.vars.get(r.node.name.as_str()).copied()).flatten()
    }

    fn invariant(&self, k: usize) -> bool {
        self.var(self.results[k]) == Some(k)
    }

    /// Whether loop variable `k` counts up by 1 each iteration.
    fn counts_by_one(&self, k: usize) -> bool {
        let Some((a, c)) = self.flat.binary(self.results[k], "AddV2") else { return false };
        let is = |v: Ref<'a>, one: Ref<'a>| self.var(v) == Some(k) && self.flat.scalar(one) == Some(1.0);
        is(a, c) || is(c, a)
    }

    /// Whether `r` depends only on loop-invariant variables and constants.
    fn hoistable(&self, r: Ref<'a>) -> bool {
        if let Some(k) = self.var(r) {
            return self.invariant(k);
        }
        if r.node.op == "Placeholder" || r.node.op.starts_with("TensorList") {
            return false;
        }
        data_inputs(r.node).all(|i| self.flat.resolve(i).is_some_and(|x| self.hoistable(x)))
    }

    /// `MatMul(a, w)` with `a` accepted by `lhs` and `w` loop-invariant: w.
    fn matmul_of(&self, r: Ref<'a>, lhs: impl Fn(Ref<'a>) -> bool) -> Option<Ref<'a>> {
        let (x, w) = self.flat.matmul(r)?;
        (lhs(x) && self.hoistable(w)).then_some(w)
    }

    /// Classifies the terms of `x W + h R + b`: (W, h's variable, R, b); `b` may be absent.
    fn affine(&self, terms: &[Ref<'a>]) -> Option<(Ref<'a>, usize, Ref<'a>, Option<Ref<'a>>)> {
        let (mut w, mut hr, mut b) = (None, None, None);
        for &t in terms {
            let recurrent = || {
                let (h, r) = self.flat.matmul(t)?;
                Some((self.var(h)?, r)).filter(|_| self.hoistable(r))
            };
            let clash = if let Some(m) = self.matmul_of(t, |a| a == self.x_t) {
                w.replace(m).is_some()
            } else if let Some(x) = recurrent() {
                hr.replace(x).is_some()
            } else if self.hoistable(t) {
                b.replace(t).is_some()
            } else {
                true
            };
            if clash {
                return None;
            }
        }
        let (h, r) = hr?;
        Some((w?, h, r, b))
    }

    /// The loop-invariant tensor `r` as a tensor of the enclosing graph: a variable's initial
    /// value, or a copy of the body nodes computing it (their names are already unique,
    /// prefixed with the loop's name), added to `out`.
    fn hoist(&self, r: Ref<'a>, inits: &[String], out: &mut HashMap<String, NodeDef>) -> String {
        if let Some(k) = self.var(r) {
            return inits[k].clone();
        }
        self.copy(r.node, inits, out);
        tensor(&r.node.name, r.out)
    }

    fn copy(&self, nd: &'a NodeDef, inits: &[String], out: &mut HashMap<String, NodeDef>) {
        if out.contains_key(&nd.name) {
            return;
        }
        let mut c = nd.clone();
        c.input.clear();
        for i in data_inputs(nd) {
            let (name, _) = split_ref(i);
            match self.flat.nodes.get(name) {
                Some(src) if src.op == "Placeholder" => {
                    c.input.push(self.vars.get(name).map_or_else(|| i.clone(), |&k| inits[k].clone()));
                }
                Some(src) => {
                    self.copy(src, inits, out);
                    c.input.push(i.clone());
                }
                None => c.input.push(i.clone()),
            }
        }
        out.insert(nd.name.clone(), c);
    }
}

fn tensor(node: &str, out: usize) -> String {
    if out == 0 {
        node.to_string()
    } else {
        format!("{node}:{out}")
    }
}

/// One recognised cell: the pseudo-op, its weights and the carried states, each as (loop
/// variable, the value the body gives it), in the pseudo-op's output order from 1.
struct Cell<'a> {
    op: &'static str,
    weights: Vec<Ref<'a>>,
    states: Vec<(usize, Ref<'a>)>,
}

/// Keras' LSTM step (IFCO gates): z = x W + h R + b split in four,
/// c' = sigmoid(z_f) c + sigmoid(z_i) tanh(z_c), h' = sigmoid(z_o) tanh(c').
fn lstm<'a>(b: &Body<'a>, h_new: Ref<'a>) -> Result<Cell<'a>, String> {
    let f = &b.flat;
    let (o_pre, t) = f.binary(h_new, "Mul").and_then(|m| f.pick(m, "Sigmoid")).ok_or("h is not sigmoid(.) * tanh(.)")?;
    let c_new = f.unary(t, "Tanh").ok_or("h is not sigmoid(.) * tanh(c)")?;
    let z = f.equal_split(o_pre, 4).filter(|_| o_pre.out == 3).ok_or("the output gate is not part 3 of a 4-way split")?;
    let gate = |k: usize| Ref { node: o_pre.node, out: k };
    let (p, q) = f.binary(c_new, "AddV2").ok_or("c is not a sum")?;
    let forget = |m: Ref<'a>| -> Option<usize> {
        let (pre, c) = f.pick(f.binary(m, "Mul")?, "Sigmoid")?;
        (pre == gate(1)).then(|| b.var(c)).flatten()
    };
    let input = |m: Ref<'a>| -> Option<()> {
        let (pre, t) = f.pick(f.binary(m, "Mul")?, "Sigmoid")?;
        (pre == gate(0) && f.unary(t, "Tanh")? == gate(2)).then_some(())
    };
    let c_var = match (forget(p), input(q), forget(q), input(p)) {
        (Some(c), Some(()), _, _) | (_, _, Some(c), Some(())) => c,
        _ => return Err("c is not sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_c)".into()),
    };
    let mut terms = Vec::new();
    f.terms(z, &mut terms);
    let (w, h_var, r, bias) = b.affine(&terms).ok_or("the gates are not x W + h R + b")?;
    let bias = bias.ok_or("no bias (use_bias=False is not supported)")?;
    Ok(Cell { op: "KerasLSTM", weights: vec![w, r, bias], states: vec![(h_var, h_new), (c_var, c_new)] })
}

/// Keras' SimpleRNN step: h' = tanh(x W + h R + b).
fn simple_rnn<'a>(b: &Body<'a>, h_new: Ref<'a>) -> Result<Cell<'a>, String> {
    let z = b.flat.unary(h_new, "Tanh").ok_or("h is not tanh(.)")?;
    let mut terms = Vec::new();
    b.flat.terms(z, &mut terms);
    let (w, h_var, r, bias) = b.affine(&terms).ok_or("h is not tanh(x W + h R + b)")?;
    let bias = bias.ok_or("no bias (use_bias=False is not supported)")?;
    Ok(Cell { op: "KerasSimpleRNN", weights: vec![w, r, bias], states: vec![(h_var, h_new)] })
}

/// Keras' GRU step with `reset_after=False` (Core ML's form): x W + b split in three (z, r,
/// h), h R_zr split in two (z, r), z = sigmoid(xz + hz), r = sigmoid(xr + hr),
/// hh = tanh(xh + (r h) R_h), h' = z h + (1 - z) hh.
fn gru<'a>(b: &Body<'a>, h_new: Ref<'a>) -> Result<Cell<'a>, String> {
    let f = &b.flat;
    let (p, q) = f.binary(h_new, "AddV2").ok_or("h is not a sum")?;
    // z h, with z = sigmoid(z_pre) and h the state variable.
    let keep = |m: Ref<'a>| -> Option<(Ref<'a>, usize)> {
        let (z_pre, h) = f.pick(f.binary(m, "Mul")?, "Sigmoid")?;
        Some((z_pre, b.var(h)?))
    };
    // (1 - z) tanh(hh_pre).
    let update = |m: Ref<'a>| -> Option<(Ref<'a>, Ref<'a>)> {
        let (hh_pre, s) = f.pick(f.binary(m, "Mul")?, "Tanh")?;
        let (one, z) = f.binary(s, "Sub")?;
        (f.scalar(one)? == 1.0).then_some((f.unary(z, "Sigmoid")?, hh_pre))
    };
    let ((z_pre, h_var), (z_pre2, hh_pre)) = match (keep(p), update(q), keep(q), update(p)) {
        (Some(k), Some(u), _, _) | (_, _, Some(k), Some(u)) => (k, u),
        _ => return Err("h is not z * h + (1 - z) * tanh(.)".into()),
    };
    if z_pre != z_pre2 {
        return Err("the two update gates differ".into());
    }
    let two = |r: Ref<'a>| -> Option<(Ref<'a>, Ref<'a>)> {
        let mut t = Vec::new();
        f.terms(r, &mut t);
        let [a, c] = t[..] else { return None };
        Some((a, c))
    };
    // hh_pre = xh + (r h) R_h; Keras' reset_after=True has xh + r (h R_h + b) instead.
    let (a, c) = two(hh_pre).ok_or("h~'s argument is not a sum of two terms")?;
    if f.binary(a, "Mul").is_some() || f.binary(c, "Mul").is_some() {
        return Err("a GRU with reset_after=True (Keras' default): Core ML's gru layer applies the reset gate before the \
                    recurrent matmul ((r h) R), Keras after it (r (h R + b)), so no gru layer computes this cell"
            .into());
    }
    // A gate's argument: part k of the input split (3 parts) plus part k of the recurrent
    // split (2 parts); the split nodes' names.
    let parts = |r: Ref<'a>, k: usize| -> Option<(&'a str, &'a str)> {
        let (a, c) = two(r)?;
        let xs = |x: Ref<'a>| (x.out == k && f.equal_split(x, 3).is_some()).then_some(x.node.name.as_str());
        let hs = |x: Ref<'a>| (x.out == k && f.recurrent_split(x).is_some()).then_some(x.node.name.as_str());
        xs(a).zip(hs(c)).or_else(|| xs(c).zip(hs(a)))
    };
    let (xs, hs) = parts(z_pre, 0).ok_or("the update gate is not sigmoid(x W_z + b_z + h R_z)")?;
    let is_xh = |x: Ref<'a>| x.out == 2 && x.node.name == xs;
    let rec = if is_xh(a) { c } else if is_xh(c) { a } else { return Err("h~ does not read part 2 of the input split".into()) };
    let (rh, r_h) = f.matmul(rec).ok_or("h~'s recurrent term is not a matmul")?;
    let (r_pre, h) = f.binary(rh, "Mul").and_then(|m| f.pick(m, "Sigmoid")).ok_or("h~'s matmul does not read r * h")?;
    if b.var(h) != Some(h_var) || !b.hoistable(r_h) || parts(r_pre, 1) != Some((xs, hs)) {
        return Err("h~ is not tanh(x W_h + b_h + (r h) R_h) with r = sigmoid(x W_r + b_r + h R_r)".into());
    }
    // The input split reads x W + b, the recurrent one h R_zr.
    let zx = f.equal_split(Ref { node: f.nodes[xs], out: 0 }, 3).ok_or("no input split")?;
    let mut t = Vec::new();
    f.terms(zx, &mut t);
    let (mut w, mut bias) = (None, None);
    for x in t {
        let clash = if let Some(m) = b.matmul_of(x, |a| a == b.x_t) {
            w.replace(m).is_some()
        } else if b.hoistable(x) {
            bias.replace(x).is_some()
        } else {
            true
        };
        if clash {
            return Err("the input gates are not x W + b".into());
        }
    }
    let w = w.ok_or("the input gates do not read x W")?;
    let bias = bias.ok_or("no bias (use_bias=False is not supported)")?;
    let (zh, sizes) = f.recurrent_split(Ref { node: f.nodes[hs], out: 0 }).ok_or("no recurrent split")?;
    let r_zr = b.matmul_of(zh, |a| b.var(a) == Some(h_var)).ok_or("the recurrent gates are not h R")?;
    if !b.hoistable(sizes) {
        return Err("the recurrent split's sizes are not constant".into());
    }
    Ok(Cell { op: "KerasGRU", weights: vec![w, bias, r_zr, r_h, sizes], states: vec![(h_var, h_new)] })
}

/// Checks one loop and plans its replacement; the error says why it is not a Keras cell.
fn recognise(gd: &GraphDef, idx: usize, library: &[FunctionDef]) -> Result<Plan, String> {
    let nd = &gd.node[idx];
    let types = type_list(nd, "T");
    let inits: Vec<String> = data_inputs(nd).cloned().collect();
    if inits.len() != types.len() {
        return Err(format!("{} inputs for {} loop variable types", inits.len(), types.len()));
    }
    let vars: Vec<RegionVar> = types
        .iter()
        .enumerate()
        .map(|(k, &dtype)| RegionVar { name: format!("{}/rnn/var_{k}", nd.name), dtype, shape: None })
        .collect();
    let region = |attr: &str, bool_result: bool| -> Result<(GraphDef, Vec<(usize, String)>), String> {
        let f = func_attr(nd, attr)?;
        let result_type = |k: usize| if bool_result { 10 } else { types.get(k).copied().unwrap_or(0) };
        region_graph(library, nd, &f, &format!("{}/rnn/{attr}", nd.name), &vars, &|_, _| true, &result_type)
            .map_err(|e| e.to_string())
    };
    let (body_gd, body_out) = region("body", false)?;
    let (cond_gd, cond_out) = region("cond", true)?;
    let flat = Flat::new(&body_gd);
    let results = (0..vars.len())
        .map(|k| body_out.iter().find(|(j, _)| *j == k).and_then(|(_, n)| flat.resolve(n)))
        .collect::<Option<Vec<_>>>()
        .ok_or("the body does not return every loop variable")?;
    let only = |op: &str| -> Result<Ref, String> {
        let found: Vec<&NodeDef> = body_gd.node.iter().filter(|n| n.op == op).collect();
        match found[..] {
            [n] => Ok(Ref { node: n, out: 0 }),
            _ => Err(format!("the body has {} {op} nodes, not one", found.len())),
        }
    };
    let get = only("TensorListGetItem")?;
    let vars_map = vars.iter().enumerate().map(|(k, v)| (v.name.as_str(), k)).collect();
    let body = Body { flat, vars: vars_map, results, x_t: get };
    let f = &body.flat;
    let operand_var = |r: Ref, k: usize, what: &str| f.input(r, k).and_then(|x| body.var(x)).ok_or(format!("{what} is not a loop variable"));
    let x_var = operand_var(get, 0, "the list read")?;
    let t_var = operand_var(get, 1, "the read index")?;
    if !body.invariant(x_var) || !body.counts_by_one(t_var) {
        return Err("the body does not read a fixed list at a time step counting by one".into());
    }
    let set = only("TensorListSetItem")?;
    let o_var = operand_var(set, 0, "the list written")?;
    if body.results[o_var] != set {
        return Err("the written list is not carried to the next iteration".into());
    }
    let index = f.input(set, 1).ok_or("the write has no index")?;
    let last_only = if body.var(index) == Some(t_var) {
        false
    } else if f.scalar(index) == Some(0.0) {
        true
    } else {
        return Err("the output list is written neither at the time step nor at 0".into());
    };
    let h_new = f.input(set, 2).ok_or("the write has no item")?;
    let cell = lstm(&body, h_new).or_else(|e1| {
        gru(&body, h_new).or_else(|e2| {
            simple_rnn(&body, h_new).map_err(|e3| {
                format!("the body is not one step of a Keras recurrent cell (as an LSTM: {e1}; as a GRU: {e2}; as a SimpleRNN: {e3})")
            })
        })
    })?;
    let mut used = vec![x_var, t_var, o_var];
    for &(v, value) in &cell.states {
        if body.results[v] != value {
            return Err(format!("loop variable {v} is not the cell's state"));
        }
        used.push(v);
    }
    for k in (0..vars.len()).filter(|k| !used.contains(k)) {
        if !body.invariant(k) && !body.counts_by_one(k) {
            return Err(format!("loop variable {k} is neither a counter nor loop-invariant"));
        }
    }
    // The condition: time < n, n loop-invariant.
    let cflat = Flat::new(&cond_gd);
    let cvar = |r: Ref| (r.node.op == "Placeholder").then(|| vars.iter().position(|v| v.name == r.node.name)).flatten();
    let n_var = cond_out
        .first()
        .and_then(|(_, n)| cflat.resolve(n))
        .and_then(|r| cflat.binary(r, "Less"))
        .and_then(|(a, n)| (cvar(a) == Some(t_var)).then(|| cvar(n)).flatten())
        .filter(|&n| body.invariant(n))
        .ok_or("the condition is not `time < n`")?;

    // The enclosing graph: x unstacked by TensorListFromTensor, outputs into a
    // TensorListReserve list read only by TensorListStack.
    let top = Flat::new(gd);
    let made_by = |k: usize, op: &str, input: usize| -> Result<String, String> {
        let r = top.resolve(&inits[k]).filter(|r| r.node.op == op).ok_or(format!("loop variable {k} is not made by {op}"))?;
        data_inputs(r.node).nth(input).cloned().ok_or(format!("{op} `{}` lacks input {input}", r.node.name))
    };
    let x = made_by(x_var, "TensorListFromTensor", 0)?;
    let slots = made_by(o_var, "TensorListReserve", 1)?;
    let states: Vec<(usize, usize)> = cell.states.iter().enumerate().map(|(j, &(v, _))| (v, j + 1)).collect();
    for other in gd.node.iter().filter(|n| n.name != nd.name) {
        for i in data_inputs(other) {
            let (src, k) = split_ref(i);
            if src != nd.name {
                continue;
            }
            let ok = (k == o_var && other.op == "TensorListStack") || states.iter().any(|&(v, _)| v == k);
            if !ok {
                return Err(format!("loop output {k} is read by `{}` ({}), which a recurrent layer does not give", other.name, other.op));
            }
        }
    }

    let mut hoisted = HashMap::new();
    let mut inputs = vec![x];
    inputs.extend(cell.states.iter().map(|&(v, _)| inits[v].clone()));
    inputs.extend(cell.weights.iter().map(|&w| body.hoist(w, &inits, &mut hoisted)));
    inputs.extend([inits[n_var].clone(), inits[t_var].clone(), slots]);
    let mut hoisted: Vec<NodeDef> = hoisted.into_values().collect();
    hoisted.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Plan { op: cell.op, inputs, last_only, states, list: o_var, hoisted })
}

/// Replaces loop `idx` by the plan's pseudo-op (same name), its `TensorListStack` readers by
/// `Identity`s of output 0, and renumbers the readers of its states.
fn apply(gd: &mut GraphDef, idx: usize, plan: Plan) {
    let name = gd.node[idx].name.clone();
    let mut op = NodeDef { name: name.clone(), op: plan.op.into(), input: plan.inputs, device: gd.node[idx].device.clone(), ..Default::default() };
    op.attr.insert("last_only".into(), AttrValue { value: Some(Value::B(plan.last_only)) });
    gd.node[idx] = op;
    for other in gd.node.iter_mut().filter(|n| n.name != name) {
        let reads_list = other.op == "TensorListStack" && data_inputs(other).next().is_some_and(|i| split_ref(i) == (name.as_str(), plan.list));
        if reads_list {
            let controls: Vec<String> = other.input.iter().filter(|i| i.starts_with('^')).cloned().collect();
            let mut id = NodeDef { name: other.name.clone(), op: "Identity".into(), device: other.device.clone(), ..Default::default() };
            id.input = std::iter::once(name.clone()).chain(controls).collect();
            id.attr.insert("T".into(), AttrValue { value: Some(Value::Type(DT_FLOAT)) });
            *other = id;
            continue;
        }
        for i in other.input.iter_mut().filter(|i| !i.starts_with('^')) {
            let (src, k) = split_ref(i);
            if src == name {
                if let Some(&(_, j)) = plan.states.iter().find(|(v, _)| *v == k) {
                    *i = tensor(&name, j);
                }
            }
        }
    }
    gd.node.extend(plan.hoisted);
}
