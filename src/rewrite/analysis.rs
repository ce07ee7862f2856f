//! The e-class analysis of the conversion: dtype, shape (symbolic dims allowed) and constant
//! value of every e-class, which rule guards read through [`ClassData`].
//!
//! Facts come from three places, most precise first: the importer's inference (seeded with
//! [`TfAnalysis::hint`] so a seeded class starts with exactly what `ir::infer` found, symbolic
//! batch dims included); TensorFlow's own shape functions (`ir::ShapeRegistry`) for TF nodes a
//! rule builds; and constant folding with `ir::eval::eval_op` when every input of a TF node
//! is a constant. A class whose value is known gets a `Const` node, so rules matching
//! `is_const(k)` and the extraction (a constant is nearly free) both see it. Classes holding
//! only NN layers keep whatever their TF members said, or stay unknown: NN layers have no shape
//! functions here, and rules only guard on TF-side classes.

use super::lang::{ClassData, Node};
use crate::ir::{self, eval_op, Fact, InferCtx, ShapeRegistry};
use crate::rules::value::{DType, Tensor};
use egg::{Analysis, DidMerge, EGraph, Id};
use std::collections::HashMap;
use std::sync::Arc;

/// Facts of one e-class: one [`Fact`] per output (several for a tuple such as `TopKV2`, none
/// when nothing is known), plus the constant in the rule language's form (kept so guards do
/// not convert weights on every call).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassFacts {
    pub outputs: Vec<Fact>,
    pub constant: Option<Arc<Tensor>>,
}

impl ClassFacts {
    /// The fact of a single-output class.
    pub fn single(&self) -> Option<&Fact> {
        match self.outputs.as_slice() {
            [f] => Some(f),
            _ => None,
        }
    }

    fn from_facts(outputs: Vec<Fact>) -> ClassFacts {
        ClassFacts::from_facts_forwarding(outputs, None)
    }

    /// [`ClassFacts::from_facts`] where `forwarded` is the rule-side constant of the input an
    /// identity op forwards: that `Arc` is the class's constant rather than a new conversion
    /// of the same IR value. Frozen Keras graphs read every weight through an `Identity`
    /// (`ReadVariableOp`), which made a second rule-side copy of every weight (ResNet50:
    /// 100 MB).
    fn from_facts_forwarding(mut outputs: Vec<Fact>, forwarded: Option<Arc<Tensor>>) -> ClassFacts {
        outputs.iter_mut().for_each(complete_partial);
        let constant = match outputs.as_slice() {
            [f] if f.value.is_some() && forwarded.is_some() => forwarded,
            [f] => f.value.as_ref().and_then(|t| Tensor::try_from(t).ok()).map(Arc::new),
            _ => None,
        };
        ClassFacts { outputs, constant }
    }
}

impl ClassData for ClassFacts {
    fn dtype(&self) -> Option<DType> {
        self.single()?.dtype.and_then(|d| DType::try_from(d).ok())
    }

    fn shape(&self) -> Option<Vec<Option<usize>>> {
        let dims = self.single()?.shape.dims()?;
        Some(dims.iter().map(|d| d.known().map(|n| n as usize)).collect())
    }

    fn constant(&self) -> Option<Arc<Tensor>> {
        self.constant.clone()
    }
}

/// A shape tensor whose every element is known (`Shape` of a static tensor) becomes a
/// value: inference keeps such values as `partial` dims, but rules need `is_const`.
fn complete_partial(f: &mut Fact) {
    if f.value.is_some() {
        return;
    }
    let (Some(dims), Some(dtype)) = (&f.partial, f.dtype) else { return };
    let Some(values) = dims.iter().map(|d| d.known().map(|n| n as i64)).collect::<Option<Vec<i64>>>() else { return };
    let shape: Vec<usize> = match f.shape.dims() {
        Some([]) if values.len() == 1 => vec![],
        Some([_]) => vec![values.len()],
        _ => return,
    };
    if let Ok(t) = ir::Tensor::from_i64s(dtype, &shape, values) {
        f.value = Some(t);
        f.partial = None;
    }
}

/// The analysis: TensorFlow's shape functions, and the importer's facts for seeded nodes.
#[derive(Clone, Default)]
pub struct TfAnalysis {
    registry: Arc<ShapeRegistry>,
    hints: HashMap<Node, Vec<Fact>>,
}

impl TfAnalysis {
    pub fn new(registry: Arc<ShapeRegistry>) -> TfAnalysis {
        TfAnalysis { registry, hints: HashMap::new() }
    }

    /// Records what the importer knows about `node`'s outputs; [`Analysis::make`] merges it
    /// in when the node is added. Call before adding the node.
    pub fn hint(&mut self, node: Node, facts: Vec<Fact>) {
        self.hints.insert(node, facts);
    }

    /// Drops the hints once seeding is over (rules never build seeded nodes again).
    pub fn clear_hints(&mut self) {
        self.hints = HashMap::new();
    }
}

/// Ops that forward their input unchanged: folded whatever the size, since the result
/// shares the input's storage.
const IDENTITY_OPS: &[&str] = &["Identity", "StopGradient", "Snapshot", "PreventGradient"];

/// Ops that only relabel their input's shape: folded whatever the size too, so a weight an
/// einsum rule reshapes (`[256, 4, 64]` to `[256, 256]`) stays a constant the matmul rules
/// take as `batchedMatmul` weights instead of a `loadConstantND` and a `reshapeStatic`.
const VIEW_OPS: &[&str] = &["Reshape", "ExpandDims", "Squeeze"];

/// TF facts of a TF node from its children's facts: folding when every input is a constant
/// (small, as in `ir::infer`), else the op's shape function, else nothing.
fn tf_facts(registry: &ShapeRegistry, op: &str, attrs: &super::lang::Attrs, inputs: &[Fact]) -> Vec<Fact> {
    let attrs = super::bridge::ir_attrs(attrs);
    if !inputs.is_empty() && ir::eval::is_foldable(op) {
        if let Some(values) = inputs.iter().map(|f| f.value.clone()).collect::<Option<Vec<_>>>() {
            let total: usize = values.iter().map(|t| t.len()).sum();
            if IDENTITY_OPS.contains(&op) || VIEW_OPS.contains(&op) || total <= ir::infer::FOLD_LIMIT {
                if let Ok(Some(out)) = eval_op(op, &attrs, &values) {
                    return out.into_iter().map(Fact::constant).collect();
                }
            }
        }
    }
    let Some(f) = registry.get(op) else { return vec![] };
    // Declared output dtypes (from the OpDef, as the importer does) for `InferCtx::out_dtype`.
    let outputs = ir::opdefs::lookup(op)
        .and_then(|d| ir::opdefs::expand_args(&d.outputs, &attrs))
        .map(|ds| ds.into_iter().map(|d| Fact::new(d, ir::Shape::Unknown)).collect())
        .unwrap_or_default();
    let node = ir::Node { name: String::new(), op: op.to_string(), attrs, device: String::new(), outputs };
    f(&InferCtx { node: &node, inputs }).unwrap_or_default()
}

/// Merges `b` into `a`; true when `a` learned something. Values are never compared element
/// by element: a known value stays, an unknown one is taken from `b`.
fn merge_fact(a: &mut Fact, b: &Fact) -> bool {
    let mut changed = false;
    if a.dtype.is_none() && b.dtype.is_some() {
        a.dtype = b.dtype;
        changed = true;
    }
    if let Ok(s) = a.shape.merge(&b.shape) {
        if s != a.shape {
            a.shape = s;
            changed = true;
        }
    }
    if a.value.is_none() && b.value.is_some() {
        a.value = b.value.clone();
        a.partial = None;
        changed = true;
    }
    if a.partial.is_none() && a.value.is_none() && b.partial.is_some() {
        a.partial = b.partial.clone();
        changed = true;
    }
    changed
}

/// Merges `b` into `a`; true when `a` changed.
fn merge_facts(a: &mut Vec<Fact>, b: &[Fact]) -> bool {
    if b.is_empty() {
        return false;
    }
    if a.is_empty() {
        *a = b.to_vec();
        return true;
    }
    if a.len() != b.len() {
        // Two known tuples of different arity: not the same value, keep `a`'s view.
        return false;
    }
    let mut changed = false;
    for (x, y) in a.iter_mut().zip(b) {
        changed |= merge_fact(x, y);
    }
    changed
}

impl Analysis<Node> for TfAnalysis {
    type Data = ClassFacts;

    fn make(egraph: &mut EGraph<Node, Self>, enode: &Node, _id: Id) -> ClassFacts {
        let child = |id: Id| egraph[id].data.single().cloned().unwrap_or_else(Fact::unknown);
        let forwarded = match enode {
            Node::Tf { op, args, .. } if args.len() == 1 && IDENTITY_OPS.contains(&&**op) => egraph[args[0]].data.constant.clone(),
            _ => None,
        };
        let mut facts = match enode {
            Node::Input(spec) => {
                let shape = match &spec.shape {
                    Some(dims) => ir::Shape::Ranked(dims.iter().map(|d| d.map_or(ir::Dim::Unknown, |n| ir::Dim::Known(n as u64))).collect()),
                    None => ir::Shape::Unknown,
                };
                vec![Fact::new(Some(spec.dtype.into()), shape)]
            }
            Node::Const(t) => {
                // The rule-side tensor is the class's constant as is. The IR value (for
                // folding) is the importer's when seeded, else converted if small enough to
                // fold: weights are not copied for nothing.
                let mut f = match egraph.analysis.hints.get(enode).and_then(|h| h.first()) {
                    Some(h) => h.clone(),
                    None => match ir::Tensor::try_from(&**t) {
                        Ok(v) if v.len() <= ir::infer::FOLD_LIMIT => Fact::constant(v),
                        _ => Fact::new(None, ir::Shape::from_usize(&t.shape)),
                    },
                };
                f.dtype = Some(t.dtype.into());
                return ClassFacts { outputs: vec![f], constant: Some(t.clone()) };
            }
            Node::Tf { op, attrs, args } => {
                let inputs: Vec<Fact> = args.iter().map(|&a| child(a)).collect();
                tf_facts(&egraph.analysis.registry, op, attrs, &inputs)
            }
            Node::Proj { index, arg } => {
                egraph[arg[0]].data.outputs.get(*index as usize).cloned().into_iter().collect()
            }
            Node::Nn { .. } | Node::Custom { .. } => vec![],
        };
        if let Some(hint) = egraph.analysis.hints.get(enode) {
            if facts.len() == hint.len() {
                for (f, h) in facts.iter_mut().zip(hint) {
                    let mut h = h.clone();
                    let _ = merge_fact(&mut h, f);
                    *f = h;
                }
            } else {
                facts = hint.clone();
            }
        }
        ClassFacts::from_facts_forwarding(facts, forwarded)
    }

    fn merge(&mut self, a: &mut ClassFacts, b: ClassFacts) -> DidMerge {
        let mut merged_b = b.outputs.clone();
        let changed_a = merge_facts(&mut a.outputs, &b.outputs);
        let changed_b = merge_facts(&mut merged_b, &a.outputs);
        let mut changed_a = changed_a;
        if a.constant.is_none() && b.constant.is_some() {
            a.constant = b.constant.clone();
            changed_a = true;
        }
        a.outputs.iter_mut().for_each(complete_partial);
        if a.constant.is_none() && a.outputs.len() == 1 && a.outputs[0].value.is_some() {
            *a = ClassFacts::from_facts(std::mem::take(&mut a.outputs));
            changed_a = true;
        }
        let changed_b = changed_b || (b.constant.is_none() && a.constant.is_some());
        DidMerge(changed_a, changed_b)
    }

    /// A class with a known value gets the `Const` node.
    fn modify(egraph: &mut EGraph<Node, Self>, id: Id) {
        let Some(t) = egraph[id].data.constant.clone() else { return };
        if egraph[id].nodes.iter().any(|n| matches!(n, Node::Const(_))) {
            return;
        }
        let c = egraph.add(Node::Const(t));
        egraph.union(id, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::value::Value;

    fn eg() -> EGraph<Node, TfAnalysis> {
        EGraph::new(TfAnalysis::new(Arc::new(ShapeRegistry::tensorflow())))
    }

    #[test]
    fn shape_arithmetic_folds_to_a_constant() {
        // Shape(x) of a [2, 3] input, then Prod over axis 0: 6 (computed by hand).
        let mut g = eg();
        let x = g.add(Node::input("x", DType::Float32, Some(vec![Some(2), Some(3)])));
        let shape = g.add(Node::tf("Shape", vec![("out_type", Value::DType(DType::Int32))], vec![x]));
        let axis = g.add(Node::Const(Arc::new(Tensor::scalar_i32(0))));
        let prod = g.add(Node::tf("Prod", vec![("keep_dims", Value::Bool(false)), ("Tidx", Value::DType(DType::Int32))], vec![shape, axis]));
        g.rebuild();
        assert_eq!(g[shape].data.constant(), Some(Arc::new(Tensor::from_i64(DType::Int32, vec![2], vec![2, 3]))));
        assert_eq!(g[prod].data.constant(), Some(Arc::new(Tensor::from_i64(DType::Int32, vec![], vec![6]))));
        // The folded class holds the constant node itself.
        let six = g.lookup(Node::Const(Arc::new(Tensor::from_i64(DType::Int32, vec![], vec![6])))).unwrap();
        assert_eq!(g.find(six), g.find(prod));
    }

    #[test]
    fn tf_shape_functions_give_shapes_and_unknown_dims_stay_unknown() {
        let mut g = eg();
        let x = g.add(Node::input("x", DType::Float32, Some(vec![None, Some(4)])));
        let w = g.add(Node::Const(Arc::new(Tensor::from_f32(vec![4, 5], vec![0.0; 20]))));
        let mm = g.add(Node::tf("MatMul", vec![("transpose_a", Value::Bool(false)), ("transpose_b", Value::Bool(false))], vec![x, w]));
        g.rebuild();
        assert_eq!(g[mm].data.shape(), Some(vec![None, Some(5)]));
        assert_eq!(g[mm].data.dtype(), Some(DType::Float32));
        assert_eq!(g[mm].data.constant(), None);
    }

    #[test]
    fn hints_from_the_importer_win_and_keep_symbolic_dims() {
        let mut g = eg();
        let spec = Node::input("x", DType::Float32, Some(vec![None, Some(4)]));
        let sym = ir::Shape::Ranked(vec![ir::Dim::Sym("x:0.0".into()), ir::Dim::Known(4)]);
        g.analysis.hint(spec.clone(), vec![Fact::new(Some(ir::DType::F32), sym.clone())]);
        let x = g.add(spec);
        assert_eq!(g[x].data.single().unwrap().shape, sym);
    }

    #[test]
    fn an_identity_of_a_weight_shares_its_constant() {
        let mut g = eg();
        let w = Arc::new(Tensor::from_f32(vec![3, 3, 16, 16], (0..2304).map(|i| i as f32).collect()));
        let c = g.add(Node::Const(w.clone()));
        let id = g.add(Node::tf("Identity", vec![("T", Value::DType(DType::Float32))], vec![c]));
        g.rebuild();
        let shared = g[id].data.constant().expect("the identity's class is the weight");
        assert!(Arc::ptr_eq(&shared, &w), "the weight was copied");
    }

    #[test]
    fn tuples_project_their_outputs() {
        let mut g = eg();
        let x = g.add(Node::input("x", DType::Float32, Some(vec![Some(2), Some(10)])));
        let k = g.add(Node::Const(Arc::new(Tensor::scalar_i32(3))));
        let topk = g.add(Node::tf("TopKV2", vec![("sorted", Value::Bool(true))], vec![x, k]));
        let idx = g.add(Node::Proj { index: 1, arg: [topk] });
        g.rebuild();
        assert_eq!(g[topk].data.outputs.len(), 2);
        assert_eq!(g[topk].data.shape(), None, "a tuple has no single shape");
        assert_eq!(g[idx].data.shape(), Some(vec![Some(2), Some(3)]));
        assert_eq!(g[idx].data.dtype(), Some(DType::Int32));
    }
}
