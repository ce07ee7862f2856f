//! Shape functions of list ops: a TF2 `TensorList` (a `variant`) and a TF1 `TensorArray` (a
//! `resource` handle plus its `flow` float) are typed as the tensor that holds them,
//! preallocated: dtype the element dtype, shape `[num_elements, ...element_shape]`. This is the
//! importer's whole part in converting lists (`docs/architecture.md`, "Lists are preallocated
//! tensors"); the translations into layers are rules (`rules/lists.rules`).
//!
//! The element shape comes from the op (`element_shape` input or attribute) or, where TF left
//! it unknown (`tf.TensorArray` without `element_shape`), from the attribute
//! [`ELEMENT_SHAPE_ATTR`] that `ir::lists` sets from the items the graph writes. A TF1
//! array's handle and flow get the same fact: both stand for the array tensor, and the rules
//! read the flow (the current contents) only.

use super::{invalid, InferCtx, ShapeError, ShapeRegistry};
use crate::ir::attr::Attr;
use crate::ir::dtype::DType;
use crate::ir::graph::Fact;
use crate::ir::shape::{Dim, Shape};

type R = Result<Vec<Fact>, ShapeError>;

/// Set on a list's producer (`TensorListReserve`, `TensorArrayV3`) whose element shape TF left
/// unknown: the element shape found from the items written into it (`ir::lists`).
pub const ELEMENT_SHAPE_ATTR: &str = "_mlrewrite_element_shape";

pub fn register_all_ops(r: &mut ShapeRegistry) {
    r.register("TensorListReserve", reserve);
    r.register("TensorListFromTensor", |cx: &InferCtx<'_>| list(cx, cx.shape(0)?.clone()));
    for op in ["TensorListSetItem", "TensorListScatterIntoExistingList"] {
        r.register(op, |cx: &InferCtx<'_>| list(cx, cx.shape(0)?.clone()));
    }
    r.register("TensorListStack", |cx: &InferCtx<'_>| list(cx, stacked(cx, 0, Some(2))?));
    r.register("TensorListGetItem", |cx: &InferCtx<'_>| list(cx, element(cx, 0, Some(2))?));
    r.register("TensorListGather", |cx: &InferCtx<'_>| list(cx, gathered(cx, 0, 1, Some(2))?));
    r.register("TensorListLength", |cx: &InferCtx<'_>| length(cx, 0));
    r.register("TensorListElementShape", |cx: &InferCtx<'_>| {
        let rank = cx.shape(0)?.rank().map(|r| r.saturating_sub(1));
        let dtype = cx.attrs().opt_type("shape_type")?.unwrap_or(DType::I32);
        Ok(vec![Fact::new(Some(dtype), rank.map_or(Shape::Unknown, |r| Shape::known(&[r as u64])))])
    });
    r.register("TensorArrayV3", tensor_array);
    for op in ["TensorArrayWriteV3", "TensorArrayScatterV3"] {
        r.register(op, |cx: &InferCtx<'_>| Ok(vec![without_value(cx.input(3)?)]));
    }
    r.register("TensorArrayReadV3", |cx: &InferCtx<'_>| array(cx, element(cx, 2, None)?));
    r.register("TensorArrayGatherV3", |cx: &InferCtx<'_>| array(cx, gathered(cx, 2, 1, None)?));
    r.register("TensorArraySizeV3", |cx: &InferCtx<'_>| length(cx, 1));
}

/// The fact without its value (a list's contents are never folded).
fn without_value(f: &Fact) -> Fact {
    Fact::new(f.dtype, f.shape.clone())
}

/// One output of the list's element dtype.
fn list(cx: &InferCtx<'_>, shape: Shape) -> R {
    Ok(vec![Fact::new(Some(cx.attrs().get_type("element_dtype")?), shape)])
}

/// One output of the array's `dtype`.
fn array(cx: &InferCtx<'_>, shape: Shape) -> R {
    Ok(vec![Fact::new(Some(cx.attrs().get_type("dtype")?), shape)])
}

/// The element shape an op states: its `element_shape` input (`-1` or a `-1` dim: unknown).
fn stated_element(cx: &InferCtx<'_>, input: Option<usize>) -> Result<Shape, ShapeError> {
    if let Some(Attr::Shape(s)) = cx.attrs().get(ELEMENT_SHAPE_ATTR) {
        return Ok(s.clone());
    }
    match input {
        Some(i) => match cx.ints(i)? {
            Some(v) if cx.shape(i)?.rank() == Some(0) => Ok(if v.first().is_some_and(|&d| d < 0) { Shape::Unknown } else { Shape::scalar() }),
            Some(v) => Ok(Shape::Ranked(v.into_iter().map(Dim::from_tf).collect())),
            None => Ok(Shape::Unknown),
        },
        None => match cx.attrs().get("element_shape") {
            Some(Attr::Shape(s)) => Ok(s.clone()),
            _ => Ok(Shape::Unknown),
        },
    }
}

/// `[n, ...element]`.
fn prepend(n: Dim, element: &Shape) -> Shape {
    match element.dims() {
        Some(d) => Shape::Ranked(std::iter::once(n).chain(d.iter().cloned()).collect()),
        None => Shape::Unknown,
    }
}

fn reserve(cx: &InferCtx<'_>) -> R {
    let n = match cx.int_scalar(1)? {
        Some(n) if n >= 0 => Dim::Known(n as u64),
        Some(n) => return Err(invalid(format!("num_elements is {n}: a list of unknown length cannot be preallocated"))),
        None => Dim::Unknown,
    };
    list(cx, prepend(n, &stated_element(cx, Some(0))?))
}

fn tensor_array(cx: &InferCtx<'_>) -> R {
    let n = match cx.int_scalar(0)? {
        Some(n) if n >= 0 => Dim::Known(n as u64),
        Some(n) => return Err(invalid(format!("size is {n}"))),
        None => Dim::Unknown,
    };
    let f = Fact::new(Some(cx.attrs().get_type("dtype")?), prepend(n, &stated_element(cx, None)?));
    Ok(vec![f.clone(), f])
}

/// The list tensor (input `l`) with its element shape filled from `element_shape` where the
/// list's own fact does not know it.
fn stacked(cx: &InferCtx<'_>, l: usize, es: Option<usize>) -> Result<Shape, ShapeError> {
    let have = cx.shape(l)?;
    if have.rank().is_some() {
        return Ok(have.clone());
    }
    let n = cx.attrs().opt_int("num_elements")?.map_or(Dim::Unknown, Dim::from_tf);
    Ok(prepend(n, &stated_element(cx, es)?))
}

/// One element of list `l`: its shape without the leading axis.
fn element(cx: &InferCtx<'_>, l: usize, es: Option<usize>) -> Result<Shape, ShapeError> {
    match cx.shape(l)?.dims() {
        Some([]) => Err(invalid("the list tensor has rank 0")),
        Some(d) => Ok(Shape::Ranked(d[1..].to_vec())),
        // A list of unknown shape: the element shape the reader states (input or attribute).
        None => stated_element(cx, es),
    }
}

/// The elements of list `l` at `indices`: `indices.shape + element`.
fn gathered(cx: &InferCtx<'_>, l: usize, indices: usize, es: Option<usize>) -> Result<Shape, ShapeError> {
    let e = element(cx, l, es)?;
    match (cx.shape(indices)?.dims(), e.dims()) {
        (Some(i), Some(d)) => Ok(Shape::Ranked(i.iter().chain(d).cloned().collect())),
        _ => Ok(Shape::Unknown),
    }
}

/// The length of list `l`: an int32 scalar, a constant where the list's length is known.
fn length(cx: &InferCtx<'_>, l: usize) -> R {
    match cx.shape(l)?.dim(0).and_then(Dim::known) {
        Some(n) => Ok(vec![Fact::constant(crate::ir::tensor::Tensor::scalar(n as i32))]),
        None => Ok(vec![Fact::new(Some(DType::I32), Shape::scalar())]),
    }
}
