//! Conversions between the importer's IR values (`ir::{DType, Tensor, Attr, Fact}`) and the
//! rule language's [`Value`]s, and the hook that turns `infer` items into shape functions of
//! `ir::ShapeRegistry`. This is the one place that knows both sides.

use super::ast::{AttrPat, Clause, Item};
use super::compile::{eval, lit_value, Bindings};
use super::functions::ClassFacts;
use super::value::{DType, Tensor, Value};
use super::RuleSet;
use crate::ir;
use ordered_float::OrderedFloat;
use std::sync::Arc;

/// The rule-language dtype of an IR dtype (`None` for dtypes rules cannot name).
pub fn dtype_from_ir(d: ir::DType) -> Option<DType> {
    Some(match d {
        ir::DType::F16 => DType::Float16,
        ir::DType::F32 => DType::Float32,
        ir::DType::F64 => DType::Float64,
        ir::DType::I8 => DType::Int8,
        ir::DType::I16 => DType::Int16,
        ir::DType::I32 => DType::Int32,
        ir::DType::I64 => DType::Int64,
        ir::DType::U8 => DType::UInt8,
        ir::DType::Bool => DType::Bool,
        ir::DType::String => DType::String,
        _ => return None,
    })
}

pub fn dtype_to_ir(d: DType) -> ir::DType {
    match d {
        DType::Float16 => ir::DType::F16,
        DType::Float32 => ir::DType::F32,
        DType::Float64 => ir::DType::F64,
        DType::Int8 => ir::DType::I8,
        DType::Int16 => ir::DType::I16,
        DType::Int32 => ir::DType::I32,
        DType::Int64 => ir::DType::I64,
        DType::UInt8 => ir::DType::U8,
        DType::Bool => ir::DType::Bool,
        DType::String => ir::DType::String,
    }
}

/// A constant as rules see it (floats as f32, integers as i64, bools).
pub fn tensor_from_ir(t: &ir::Tensor) -> Option<Tensor> {
    let dtype = dtype_from_ir(t.dtype())?;
    let shape = t.shape().to_vec();
    if dtype == DType::Bool {
        let v = t.to_i64_vec()?;
        return Some(Tensor { dtype, shape, data: super::value::TensorData::Bool(v.into_iter().map(|x| x != 0).collect()) });
    }
    if dtype.is_float() {
        let v = t.to_f64_vec()?;
        return Some(Tensor { dtype, shape, data: super::value::TensorData::Float(v.into_iter().map(|x| OrderedFloat(x as f32)).collect()) });
    }
    Some(Tensor::from_i64(dtype, shape, t.to_i64_vec()?))
}

/// A TF attribute as a rule value (`None` for functions and placeholders).
pub fn value_from_attr(a: &ir::Attr) -> Option<Value> {
    use ir::Attr::*;
    let shape = |s: &ir::Shape| -> Value {
        match s.dims() {
            Some(ds) => Value::List(ds.iter().map(|d| Value::Int(match d { ir::Dim::Known(n) => *n as i64, _ => -1 })).collect()),
            None => Value::List(vec![]),
        }
    };
    Some(match a {
        S(b) => Value::Str(String::from_utf8_lossy(b).into_owned()),
        I(i) => Value::Int(*i),
        F(f) => Value::float(f.0 as f64),
        B(b) => Value::Bool(*b),
        Type(d) => Value::DType(dtype_from_ir(*d)?),
        Shape(s) => shape(s),
        Tensor(t) => Value::Tensor(Arc::new(tensor_from_ir(t)?)),
        ListS(v) => Value::List(v.iter().map(|b| Value::Str(String::from_utf8_lossy(b).into_owned())).collect()),
        ListI(v) => Value::ints(v.iter().copied()),
        ListF(v) => Value::List(v.iter().map(|f| Value::float(f.0 as f64)).collect()),
        ListB(v) => Value::List(v.iter().map(|b| Value::Bool(*b)).collect()),
        ListType(v) => Value::List(v.iter().map(|d| dtype_from_ir(*d).map(Value::DType)).collect::<Option<_>>()?),
        ListShape(v) => Value::List(v.iter().map(shape).collect()),
        _ => return None,
    })
}

/// Facts of a node's inputs, addressed by input index as e-class ids.
struct InputFacts<'a>(&'a [ir::Fact]);

impl ClassFacts for InputFacts<'_> {
    fn dtype(&self, class: egg::Id) -> Option<DType> {
        self.0.get(usize::from(class))?.dtype.and_then(dtype_from_ir)
    }
    fn shape(&self, class: egg::Id) -> Option<Vec<Option<usize>>> {
        let dims = self.0.get(usize::from(class))?.shape.dims()?;
        Some(dims.iter().map(|d| match d { ir::Dim::Known(n) => Some(*n as usize), _ => None }).collect())
    }
    fn constant(&self, class: egg::Id) -> Option<Arc<Tensor>> {
        self.0.get(usize::from(class))?.value.as_ref().and_then(tensor_from_ir).map(Arc::new)
    }
}

fn bind_attr(p: &AttrPat, v: &Value, mut env: Bindings) -> Option<Bindings> {
    match p {
        AttrPat::Wildcard(_) => Some(env),
        AttrPat::Var(id) => match DType::from_name(&id.name) {
            Some(d) => (*v == Value::DType(d)).then_some(env),
            None => match env.get(&id.name) {
                Some(prev) => prev.loose_eq(v).then_some(env),
                None => {
                    env.0.push((id.name.clone(), v.clone()));
                    Some(env)
                }
            },
        },
        AttrPat::Lit(l, _) => lit_value(l).loose_eq(v).then_some(env),
        AttrPat::List(items, _) => match v {
            Value::List(vs) if vs.len() == items.len() => items.iter().zip(vs).try_fold(env, |e, (p, v)| bind_attr(p, v, e)),
            _ => None,
        },
    }
}

/// Registers a shape function for every `infer` item of the rule set (replacing Rust's for
/// the same op: rules are data the user controls). An `infer` whose attribute patterns or
/// guards do not hold for a node leaves that node's outputs unknown.
pub fn register_infers(set: &RuleSet, registry: &mut ir::ShapeRegistry) {
    for (_, item) in set.items() {
        let Item::Infer(inf) = item else { continue };
        let inf = inf.clone();
        let op = inf.op.name.clone();
        registry.register(&op, move |cx| {
            let unknown = || Ok(vec![ir::Fact::unknown(); inf.outputs.len()]);
            let facts = InputFacts(cx.inputs);
            let mut env = Bindings::default();
            for (i, name) in inf.inputs.iter().enumerate() {
                env.0.push((name.name.clone(), Value::Class(egg::Id::from(i))));
            }
            for ap in &inf.attrs {
                let Some(v) = cx.attrs().get(&ap.name.name).and_then(value_from_attr) else { return unknown() };
                match bind_attr(&ap.value, &v, env) {
                    Some(e) => env = e,
                    None => return unknown(),
                }
            }
            for c in &inf.clauses {
                match c {
                    Clause::Where(gs) => {
                        if !gs.iter().all(|g| matches!(eval(g, &env, &facts), Ok(Value::Bool(true)))) {
                            return unknown();
                        }
                    }
                    Clause::Let(n, e) => match eval(e, &env, &facts) {
                        Ok(v) => env.0.push((n.name.clone(), v)),
                        Err(_) => return unknown(),
                    },
                }
            }
            inf.outputs
                .iter()
                .map(|(d, s)| {
                    let dtype = match eval(d, &env, &facts) {
                        Ok(Value::DType(d)) => Some(dtype_to_ir(d)),
                        _ => None,
                    };
                    let shape = match eval(s, &env, &facts) {
                        Ok(Value::List(ds)) => ir::Shape::Ranked(
                            ds.iter().map(|d| match d.as_int() { Some(n) if n >= 0 => ir::Dim::Known(n as u64), _ => ir::Dim::Unknown }).collect(),
                        ),
                        _ => ir::Shape::Unknown,
                    };
                    Ok(ir::Fact::new(dtype, shape))
                })
                .collect()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::LoadOptions;

    #[test]
    fn attrs_convert() {
        assert_eq!(value_from_attr(&ir::Attr::ListI(vec![1, 2])), Some(Value::ints([1, 2])));
        assert_eq!(value_from_attr(&ir::Attr::Type(ir::DType::F32)), Some(Value::DType(DType::Float32)));
        let t = ir::Tensor::from_vec(&[2], vec![1.5f32, 2.0]).unwrap();
        let r = tensor_from_ir(&t).unwrap();
        assert_eq!((r.shape.clone(), r.get_f64(0)), (vec![2], Some(1.5)));
    }

    #[test]
    fn infer_items_become_shape_functions() {
        let set = RuleSet::load(&LoadOptions::default()).unwrap();
        let mut reg = ir::ShapeRegistry::empty();
        register_infers(&set, &mut reg);
        // std custom.rules: MatrixDeterminant of [4, 3, 3] is [4] (one determinant per matrix).
        let node = ir::Node {
            name: "det".into(),
            op: "MatrixDeterminant".into(),
            attrs: ir::Attrs::default(),
            device: String::new(),
            outputs: vec![ir::Fact::unknown()],
        };
        let input = ir::Fact::new(Some(ir::DType::F32), ir::Shape::from_usize(&[4, 3, 3]));
        let f = reg.get("MatrixDeterminant").expect("registered");
        let out = f(&ir::InferCtx { node: &node, inputs: &[input] }).unwrap();
        assert_eq!(out, vec![ir::Fact::new(Some(ir::DType::F32), ir::Shape::from_usize(&[4]))]);
    }
}
