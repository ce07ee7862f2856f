//! Property: for random small graphs of elementwise and matmul ops, the converted model run by
//! the interpreter gives what TensorFlow's semantics give on the same random inputs. The
//! reference evaluates the imported graph node by node with `ir::eval::eval_op` (the crate's
//! TF-semantics evaluator), independently of rules, extraction and lowering; `eval_op` has no
//! MatMul (it folds shape arithmetic, not weights), so the plain matrix product is computed
//! here.

mod common;

use common::{a_bool, a_type, const_f32, graph, node, placeholder, F32};
use mlrewrite::ir::{self, eval_op, Graph, ShapeRegistry, Tensor};
use mlrewrite::lower::{lower, LowerOptions};
use mlrewrite::proto::tensorflow::NodeDef;
use mlrewrite::rewrite::{convert, ConvertOptions};
use mlrewrite::rules::load::{Compiled, LoadOptions, RuleSet};
use mlrewrite::run::{Interpreter, RunOptions};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::OnceLock;

fn rules() -> &'static Compiled {
    static RULES: OnceLock<Compiled> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::load(&LoadOptions::default()).unwrap().compile().unwrap())
}

/// Every value is a [2, 3] float tensor, so any op can take any earlier value.
const ROWS: usize = 2;
const COLS: usize = 3;

/// One random op: its kind and which earlier values it reads (indices taken modulo the number
/// of values available).
#[derive(Debug, Clone)]
enum Op {
    Unary(&'static str, usize),
    Binary(&'static str, usize, usize),
    /// Binary op with a constant row vector [COLS] (broadcast).
    WithConst(&'static str, usize, Vec<f32>),
    /// MatMul with a constant [COLS, COLS] weight.
    MatMulConst(usize, Vec<f32>),
    /// MatMul of a value with another value transposed: [2,3] x [3,2] = [2,2], then back to
    /// [2, 3] through a constant [2, 3] weight.
    MatMulPair(usize, usize, Vec<f32>),
}

const UNARY: &[&str] = &["Relu", "Tanh", "Sigmoid", "Neg", "Abs", "Square", "Relu6"];
const BINARY: &[&str] = &["AddV2", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference"];

fn small() -> impl Strategy<Value = f32> {
    (-20i32..=20).prop_map(|v| v as f32 / 10.0)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (prop::sample::select(UNARY), any::<usize>()).prop_map(|(o, a)| Op::Unary(o, a)),
        (prop::sample::select(BINARY), any::<usize>(), any::<usize>()).prop_map(|(o, a, b)| Op::Binary(o, a, b)),
        (prop::sample::select(BINARY), any::<usize>(), prop::collection::vec(small(), COLS)).prop_map(|(o, a, c)| Op::WithConst(o, a, c)),
        (any::<usize>(), prop::collection::vec(small(), COLS * COLS)).prop_map(|(a, w)| Op::MatMulConst(a, w)),
        (any::<usize>(), any::<usize>(), prop::collection::vec(small(), ROWS * COLS)).prop_map(|(a, b, w)| Op::MatMulPair(a, b, w)),
    ]
}

fn t() -> (&'static str, mlrewrite::proto::tensorflow::AttrValue) {
    ("T", a_type(F32))
}

fn matmul(name: &str, a: &str, b: &str, transpose_b: bool) -> NodeDef {
    node(name, "MatMul", &[a, b], &[t(), ("transpose_a", a_bool(false)), ("transpose_b", a_bool(transpose_b))])
}

/// The GraphDef of `ops` over inputs `x` and `y`.
fn build(ops: &[Op]) -> mlrewrite::proto::tensorflow::GraphDef {
    let dims = [ROWS as i64, COLS as i64];
    let mut nodes = vec![placeholder("x", &dims), placeholder("y", &dims)];
    let mut values: Vec<String> = vec!["x".into(), "y".into()];
    for (i, op) in ops.iter().enumerate() {
        let name = format!("n{i}");
        let pick = |k: usize| values[k % values.len()].clone();
        match op {
            Op::Unary(o, a) => nodes.push(node(&name, o, &[&pick(*a)], &[t()])),
            Op::Binary(o, a, b) => nodes.push(node(&name, o, &[&pick(*a), &pick(*b)], &[t()])),
            Op::WithConst(o, a, c) => {
                let k = format!("{name}/c");
                nodes.push(const_f32(&k, &[COLS as i64], c));
                nodes.push(node(&name, o, &[&pick(*a), &k], &[t()]));
            }
            Op::MatMulConst(a, w) => {
                let k = format!("{name}/w");
                nodes.push(const_f32(&k, &[COLS as i64, COLS as i64], w));
                nodes.push(matmul(&name, &pick(*a), &k, false));
            }
            Op::MatMulPair(a, b, w) => {
                let inner = format!("{name}/pair");
                nodes.push(matmul(&inner, &pick(*a), &pick(*b), true));
                let k = format!("{name}/w");
                nodes.push(const_f32(&k, &[ROWS as i64, COLS as i64], w));
                nodes.push(matmul(&name, &inner, &k, false));
            }
        }
        values.push(name);
    }
    graph(nodes)
}

/// TF's MatMul of [m, k] by [k, n] (or by [n, k] transposed), in f64.
fn matmul_ref(a: &Tensor, b: &Tensor, transpose_b: bool) -> Tensor {
    let (m, k) = (a.shape()[0], a.shape()[1]);
    let n = if transpose_b { b.shape()[0] } else { b.shape()[1] };
    let (av, bv) = (a.to_f64_vec().unwrap(), b.to_f64_vec().unwrap());
    let mut out = vec![0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0f64;
            for p in 0..k {
                let bpj = if transpose_b { bv[j * k + p] } else { bv[p * n + j] };
                acc += av[i * k + p] * bpj;
            }
            out[i * n + j] = acc as f32;
        }
    }
    Tensor::from_vec(&[m, n], out).unwrap()
}

/// TF semantics, node by node.
fn reference(g: &Graph, feeds: &HashMap<String, Tensor>) -> HashMap<String, Tensor> {
    let mut vals: HashMap<ir::Outlet, Tensor> = HashMap::new();
    let mut by_name = HashMap::new();
    for &id in g.topo_order() {
        let n = g.node(id);
        let out = match n.op.as_str() {
            "Placeholder" => vec![feeds[&n.name].clone()],
            "Const" => vec![n.outputs[0].value.clone().unwrap()],
            "MatMul" => {
                let ins: Vec<Tensor> = g.inputs(id).iter().map(|o| vals[o].clone()).collect();
                let tb = n.attrs.opt_bool("transpose_b").unwrap().unwrap_or(false);
                vec![matmul_ref(&ins[0], &ins[1], tb)]
            }
            _ => {
                let ins: Vec<Tensor> = g.inputs(id).iter().map(|o| vals[o].clone()).collect();
                eval_op(&n.op, &n.attrs, &ins).unwrap().unwrap_or_else(|| panic!("eval_op does not know {}", n.op))
            }
        };
        for (i, v) in out.into_iter().enumerate() {
            if i == 0 {
                by_name.insert(n.name.clone(), v.clone());
            }
            vals.insert(ir::Outlet { node: id, output: i }, v);
        }
    }
    by_name
}

fn check(ops: &[Op], x: Vec<f32>, y: Vec<f32>) -> Result<(), TestCaseError> {
    let gd = build(ops);
    let mut g = ir::import_graph_def(&gd, Path::new("random.pb")).unwrap();
    ir::infer(&mut g, &ShapeRegistry::tensorflow()).unwrap();
    let (dag, _) = convert(&g, rules(), &ConvertOptions::default()).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let model = lower(&dag, &LowerOptions::default()).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let interp = Interpreter::new(&model, RunOptions::default()).map_err(|e| TestCaseError::fail(format!("{e}")))?;

    let shape = [ROWS, COLS];
    let feeds: HashMap<String, Tensor> =
        [("x", &x), ("y", &y)].into_iter().map(|(n, v)| (n.to_string(), Tensor::from_vec(&shape, v.clone()).unwrap())).collect();
    let want = reference(&g, &feeds);
    let mut inputs = BTreeMap::new();
    for name in interp.input_names() {
        let v = if name == "x" { &x } else { &y };
        inputs.insert(name.to_string(), ArrayD::from_shape_vec(IxDyn(&shape), v.clone()).unwrap());
    }
    let got = interp.run(inputs).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert!(!got.is_empty());
    for (name, a) in &got {
        let w = &want[name];
        let w = ArrayD::from_shape_vec(IxDyn(w.shape()), w.to_f64_vec().unwrap().into_iter().map(|v| v as f32).collect()).unwrap();
        common::allclose(a, &w, 1e-3, 1e-4).map_err(|e| TestCaseError::fail(format!("output {name}: {e}")))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_convert_to_the_same_function(
        ops in prop::collection::vec(op(), 1..6),
        x in prop::collection::vec(small(), ROWS * COLS),
        y in prop::collection::vec(small(), ROWS * COLS),
    ) {
        check(&ops, x, y)?;
    }
}
