//! Lists before import: the checks and the one fact the shape functions cannot find locally.
//! GraphDef to GraphDef, after function calls are flattened and Keras loops fused.
//!
//! A list becomes a preallocated tensor (`ir::infer::lists`, `rules/lists.rules`), so a list
//! that grows (`TensorListPushBack`, `TensorListResize`, an `EmptyTensorList`, a TF1
//! `TensorArrayV3` with `dynamic_size`) has no size to preallocate: [`refuse_growing`] names the
//! node. A `tf.TensorArray` made without `element_shape` is a `TensorListReserve` of element
//! shape `-1` (a `TensorArrayV3` of unknown shape) although TensorFlow knows the shape where
//! the list is read after the loop (`TensorListStack`'s `element_shape`, `TensorArrayGatherV3`'s
//! attribute): [`resolve_element_shapes`] follows the list from its producer through writes,
//! identities and loops (input k to output k) to those readers and records the shape they agree
//! on in [`ELEMENT_SHAPE_ATTR`], which the producer's shape function reads.

use super::infer::lists::ELEMENT_SHAPE_ATTR;
use super::tensor::Tensor;
use crate::proto::tensorflow::attr_value::Value;
use crate::proto::tensorflow::{tensor_shape_proto, AttrValue, GraphDef, NodeDef, TensorShapeProto};
use std::collections::{HashMap, HashSet};

/// Ops that grow or shrink a list: it has no fixed size to preallocate.
pub const GROWING_OPS: &[&str] = &["TensorListPushBack", "TensorListPopBack", "TensorListPushBackBatch", "TensorListResize", "EmptyTensorList"];

/// A list that cannot be a preallocated tensor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node `{node}` ({op}){place}: {why}")]
pub struct ListError {
    pub node: String,
    pub op: String,
    /// ` in function `F`` for a node of a function body, else empty.
    pub place: String,
    pub why: String,
}

/// Refuses a growing list anywhere in the graph or its function library.
pub fn refuse_growing(gd: &GraphDef) -> Result<(), ListError> {
    let top = gd.node.iter().map(|n| (n, String::new()));
    let functions = gd.library.iter().flat_map(|l| &l.function).flat_map(|f| {
        let name = f.signature.as_ref().map_or(String::new(), |s| s.name.clone());
        f.node_def.iter().map(move |n| (n, format!(" in function `{name}`")))
    });
    for (n, place) in top.chain(functions) {
        let dynamic = n.op == "TensorArrayV3" && matches!(n.attr.get("dynamic_size").and_then(|a| a.value.as_ref()), Some(Value::B(true)));
        if GROWING_OPS.contains(&n.op.as_str()) || dynamic {
            return Err(ListError {
                node: n.name.clone(),
                op: n.op.clone(),
                place,
                why: "the list grows (dynamic size or push/pop/resize), so its maximum length is unknown; \
                      lists convert only as preallocated tensors of a fixed length"
                    .into(),
            });
        }
    }
    Ok(())
}

/// Records on each list producer of unknown element shape the shape its readers state; a
/// producer whose element shape TF left unknown (a `-1` constant, an unknown attribute) and no
/// reader states is refused naming it: its tensor cannot be allocated.
pub fn resolve_element_shapes(gd: &mut GraphDef) -> Result<(), ListError> {
    let by_name: HashMap<&str, &NodeDef> = gd.node.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut consumers: HashMap<(&str, usize), Vec<(&NodeDef, usize)>> = HashMap::new();
    for n in &gd.node {
        for (slot, i) in n.input.iter().filter(|i| !i.starts_with('^')).enumerate() {
            let (src, k) = split_ref(i);
            consumers.entry((src, k)).or_default().push((n, slot));
        }
    }
    let mut found: Vec<(String, Vec<i64>)> = Vec::new();
    for n in &gd.node {
        // `Some(true)`: TF says the shape is unknown; `Some(false)`: computed by the graph,
        // which inference may still fold.
        let unknown = match n.op.as_str() {
            "TensorListReserve" => match n.input.first().and_then(|i| const_ints(&by_name, i)) {
                Some(v) => v.iter().any(|&d| d < 0).then_some(true),
                None => Some(false),
            },
            "TensorArrayV3" => shape_attr(n, "element_shape").is_none().then_some(true),
            _ => None,
        };
        let Some(stated_unknown) = unknown else { continue };
        // The list's values: (node, output) pairs reached from the producer.
        let mut seen: HashSet<(&str, usize)> = HashSet::new();
        let mut todo: Vec<(&str, usize)> = vec![(n.name.as_str(), 0)];
        if n.op == "TensorArrayV3" {
            todo.push((n.name.as_str(), 1));
        }
        let mut shapes: Vec<Vec<i64>> = Vec::new();
        while let Some(v) = todo.pop() {
            if !seen.insert(v) {
                continue;
            }
            for &(c, slot) in consumers.get(&v).map_or(&[][..], |v| &v[..]) {
                match (c.op.as_str(), slot) {
                    ("Identity", 0) | ("TensorListSetItem", 0) | ("TensorListScatterIntoExistingList", 0) => todo.push((c.name.as_str(), 0)),
                    ("TensorArrayWriteV3", 3) | ("TensorArrayScatterV3", 3) => todo.push((c.name.as_str(), 0)),
                    ("While" | "StatelessWhile", k) => todo.push((c.name.as_str(), k)),
                    ("TensorListStack" | "TensorListGetItem" | "TensorListGather", 0) => {
                        let es = c.input.get(if c.op == "TensorListGetItem" || c.op == "TensorListGather" { 2 } else { 1 });
                        if let Some(v) = es.and_then(|i| const_ints(&by_name, i)).filter(|v| v.iter().all(|&d| d >= 0)) {
                            shapes.push(v);
                        }
                    }
                    ("TensorArrayGatherV3" | "TensorArrayReadV3", _) => {
                        if let Some(s) = shape_attr(c, "element_shape") {
                            shapes.push(s);
                        }
                    }
                    _ => {}
                }
            }
        }
        match shapes.first() {
            Some(first) if shapes.iter().all(|s| s == first) => found.push((n.name.clone(), first.clone())),
            // Readers stating different shapes: TF would fail at run time.
            Some(_) => return Err(refusal(n, "the readers of this list state different element shapes")),
            None if stated_unknown => {
                return Err(refusal(
                    n,
                    "its element shape is unknown (no `element_shape`, and no read after it states one), \
                     so its tensor cannot be preallocated; give the TensorArray an `element_shape`",
                ))
            }
            None => {}
        }
    }
    for (name, shape) in found {
        if let Some(n) = gd.node.iter_mut().find(|n| n.name == name) {
            let dim = shape.iter().map(|&size| tensor_shape_proto::Dim { size, ..Default::default() }).collect();
            let value = Value::Shape(TensorShapeProto { dim, unknown_rank: false });
            n.attr.insert(ELEMENT_SHAPE_ATTR.into(), AttrValue { value: Some(value) });
        }
    }
    Ok(())
}

fn refusal(n: &NodeDef, why: &str) -> ListError {
    ListError { node: n.name.clone(), op: n.op.clone(), place: String::new(), why: why.into() }
}

/// A fully known shape attribute.
fn shape_attr(n: &NodeDef, attr: &str) -> Option<Vec<i64>> {
    match n.attr.get(attr)?.value.as_ref()? {
        Value::Shape(s) if !s.unknown_rank && s.dim.iter().all(|d| d.size >= 0) => Some(s.dim.iter().map(|d| d.size).collect()),
        _ => None,
    }
}

/// The integer values of input `i` when it is a `Const`.
fn const_ints(by_name: &HashMap<&str, &NodeDef>, i: &str) -> Option<Vec<i64>> {
    let n = by_name.get(split_ref(i).0)?;
    if n.op != "Const" {
        return None;
    }
    match n.attr.get("value")?.value.as_ref()? {
        Value::Tensor(t) => Tensor::from_proto(t).ok()?.to_i64_vec(),
        _ => None,
    }
}

fn split_ref(s: &str) -> (&str, usize) {
    match s.rsplit_once(':') {
        Some((n, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => (n, k.parse().unwrap_or(0)),
        _ => (s, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::{FunctionDef, FunctionDefLibrary, OpDef, TensorProto};

    fn node(name: &str, op: &str, inputs: &[&str]) -> NodeDef {
        NodeDef { name: name.into(), op: op.into(), input: inputs.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    fn int_const(name: &str, values: &[i32]) -> NodeDef {
        let mut n = node(name, "Const", &[]);
        let shape = TensorShapeProto { dim: vec![tensor_shape_proto::Dim { size: values.len() as i64, ..Default::default() }], unknown_rank: false };
        let t = TensorProto { dtype: 3, tensor_shape: Some(shape), int_val: values.to_vec(), ..Default::default() };
        n.attr.insert("value".into(), AttrValue { value: Some(Value::Tensor(Box::new(t))) });
        n
    }

    /// `Reserve(-1)` carried through a loop and stacked with element shape [3]: the reserve
    /// gets [3]; without the stack's shape it is refused naming the reserve.
    #[test]
    fn the_element_shape_comes_from_the_reader_after_the_loop() {
        let graph = |stack_shape: &[i32]| GraphDef {
            node: vec![
                int_const("es", &[-1]),
                int_const("n", &[4]),
                node("reserve", "TensorListReserve", &["es", "n"]),
                node("while", "StatelessWhile", &["n", "reserve"]),
                node("out", "Identity", &["while:1"]),
                int_const("stack_es", stack_shape),
                node("stack", "TensorListStack", &["out", "stack_es"]),
            ],
            ..Default::default()
        };
        let mut gd = graph(&[3]);
        resolve_element_shapes(&mut gd).unwrap();
        let attr = gd.node[2].attr.get(ELEMENT_SHAPE_ATTR).and_then(|a| a.value.clone());
        assert!(matches!(attr, Some(Value::Shape(s)) if s.dim.iter().map(|d| d.size).collect::<Vec<_>>() == vec![3]));
        let e = resolve_element_shapes(&mut graph(&[-1])).unwrap_err();
        assert_eq!((e.node.as_str(), e.op.as_str()), ("reserve", "TensorListReserve"), "{e}");
        assert!(e.to_string().contains("element shape is unknown"), "{e}");
    }

    #[test]
    fn a_growing_list_in_a_function_is_refused_naming_node_and_function() {
        let body = FunctionDef {
            signature: Some(OpDef { name: "body_fn".into(), ..Default::default() }),
            node_def: vec![node("push", "TensorListPushBack", &["l", "x"])],
            ..Default::default()
        };
        let gd = GraphDef { node: vec![node("x", "Placeholder", &[])], library: Some(FunctionDefLibrary { function: vec![body], ..Default::default() }), ..Default::default() };
        let e = refuse_growing(&gd).unwrap_err().to_string();
        assert!(e.contains("node `push` (TensorListPushBack) in function `body_fn`") && e.contains("grows"), "{e}");
    }
}
