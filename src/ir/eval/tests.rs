//! Expected values are NumPy/TensorFlow semantics worked by hand for these small inputs.

use super::*;
use crate::ir::attr::Attr;

fn ev(op: &str, attrs: &Attrs, inputs: &[Tensor]) -> Vec<Tensor> {
    eval_op(op, attrs, inputs).unwrap().unwrap_or_else(|| panic!("{op} not evaluated"))
}

fn v32(v: &[i32]) -> Tensor {
    Tensor::vector(v.to_vec())
}

#[test]
fn shape_strided_slice_pack_reshape_chain() {
    // The transformer pattern: batch = shape(x)[0]; reshape(y, [batch, 16, 4, 8]).
    let x = Tensor::from_vec(&[1, 16, 32], vec![0f32; 512]).unwrap();
    let shape = ev("Shape", &Attrs::new(), &[x.clone()]).remove(0);
    assert_eq!(shape, v32(&[1, 16, 32]));
    let attrs = Attrs::new().with("shrink_axis_mask", Attr::I(1));
    let batch = ev("StridedSlice", &attrs, &[shape, v32(&[0]), v32(&[1]), v32(&[1])]).remove(0);
    assert_eq!(batch, Tensor::scalar(1i32));
    let packed = ev(
        "Pack",
        &Attrs::new().with("axis", Attr::I(0)),
        &[batch, Tensor::scalar(16i32), Tensor::scalar(4i32), Tensor::scalar(8i32)],
    )
    .remove(0);
    assert_eq!(packed, v32(&[1, 16, 4, 8]));
    let r = ev("Reshape", &Attrs::new(), &[x, packed]).remove(0);
    assert_eq!(r.shape(), &[1, 16, 4, 8]);
}

#[test]
fn strided_slice_masks() {
    let x = Tensor::vector((0..10).collect::<Vec<i32>>());
    // x[::-3] = [9, 6, 3, 0]
    let a = Attrs::new().with("begin_mask", Attr::I(1)).with("end_mask", Attr::I(1));
    assert_eq!(ev("StridedSlice", &a, &[x.clone(), v32(&[0]), v32(&[0]), v32(&[-3])]).remove(0), v32(&[9, 6, 3, 0]));
    // x[2:-2:2] = [2, 4, 6]
    assert_eq!(ev("StridedSlice", &Attrs::new(), &[x.clone(), v32(&[2]), v32(&[-2]), v32(&[2])]).remove(0), v32(&[2, 4, 6]));
    // x[tf.newaxis, 1:3] has shape [1, 2]
    let a = Attrs::new().with("new_axis_mask", Attr::I(1));
    let r = ev("StridedSlice", &a, &[x.clone(), v32(&[0, 1]), v32(&[0, 3]), v32(&[1, 1])]).remove(0);
    assert_eq!(r.shape(), &[1, 2]);
    // Out-of-range shrink index is an error, not a panic.
    let a = Attrs::new().with("shrink_axis_mask", Attr::I(1));
    assert!(eval_op("StridedSlice", &a, &[x, v32(&[10]), v32(&[11]), v32(&[1])]).is_err());
}

#[test]
fn arithmetic_broadcasts_and_keeps_dtype() {
    let a = Tensor::from_vec(&[2, 1], vec![7i32, -7]).unwrap();
    let b = v32(&[2, -2]);
    // floor division: 7//2=3, 7//-2=-4, -7//2=-4, -7//-2=3 (Python semantics, as TF FloorDiv)
    assert_eq!(ev("FloorDiv", &Attrs::new(), &[a.clone(), b.clone()]).remove(0), Tensor::from_vec(&[2, 2], vec![3i32, -4, -4, 3]).unwrap());
    // FloorMod: 7%2=1, 7%-2=-1, -7%2=1, -7%-2=-1
    assert_eq!(ev("FloorMod", &Attrs::new(), &[a.clone(), b.clone()]).remove(0), Tensor::from_vec(&[2, 2], vec![1i32, -1, 1, -1]).unwrap());
    assert_eq!(ev("Mul", &Attrs::new(), &[a.clone(), b]).remove(0).dtype(), DType::I32);
    assert!(eval_op("FloorDiv", &Attrs::new(), &[a, v32(&[0])]).is_err());
    let f = Tensor::vector(vec![1.5f32, 3.0]);
    assert_eq!(ev("RealDiv", &Attrs::new(), &[f.clone(), Tensor::scalar(2f32)]).remove(0), Tensor::vector(vec![0.75f32, 1.5]));
    assert_eq!(eval_op("Add", &Attrs::new(), &[f, v32(&[1, 2])]).unwrap_err().to_string(), "Add: operands are float32 and int32");
}

#[test]
fn array_ops() {
    let x = Tensor::from_vec(&[2, 3], vec![1i32, 2, 3, 4, 5, 6]).unwrap();
    let t = ev("Transpose", &Attrs::new(), &[x.clone(), v32(&[1, 0])]).remove(0);
    assert_eq!(t, Tensor::from_vec(&[3, 2], vec![1i32, 4, 2, 5, 3, 6]).unwrap());
    let c = ev("ConcatV2", &Attrs::new(), &[x.clone(), x.clone(), Tensor::scalar(-1i32)]).remove(0);
    assert_eq!(c.shape(), &[2, 6]);
    let g = ev("GatherV2", &Attrs::new(), &[x.clone(), v32(&[2, 0]), Tensor::scalar(1i32)]).remove(0);
    assert_eq!(g, Tensor::from_vec(&[2, 2], vec![3i32, 1, 6, 4]).unwrap());
    assert!(eval_op("GatherV2", &Attrs::new(), &[x.clone(), v32(&[3]), Tensor::scalar(1i32)]).is_err());
    let p = ev("Prod", &Attrs::new(), &[x.clone(), v32(&[0, 1])]).remove(0);
    assert_eq!(p, Tensor::scalar(720i32));
    let s = ev("Sum", &Attrs::new().with("keep_dims", Attr::B(true)), &[x.clone(), v32(&[1])]).remove(0);
    assert_eq!(s, Tensor::from_vec(&[2, 1], vec![6i32, 15]).unwrap());
    let f = ev("Fill", &Attrs::new(), &[v32(&[2, 2]), Tensor::scalar(0.5f32)]).remove(0);
    assert_eq!(f, Tensor::from_vec(&[2, 2], vec![0.5f32; 4]).unwrap());
    let r = ev("Range", &Attrs::new().with("Tidx", Attr::Type(DType::I32)), &[Tensor::scalar(0i32), Tensor::scalar(7i32), Tensor::scalar(3i32)]).remove(0);
    assert_eq!(r, v32(&[0, 3, 6]));
    let e = ev("ExpandDims", &Attrs::new(), &[x.clone(), Tensor::scalar(-1i32)]).remove(0);
    assert_eq!(e.shape(), &[2, 3, 1]);
    let sq = ev("Squeeze", &Attrs::new(), &[e]).remove(0);
    assert_eq!(sq, x);
    let cast = ev("Cast", &Attrs::new().with("DstT", Attr::Type(DType::F32)), &[x.clone()]).remove(0);
    assert_eq!(cast.dtype(), DType::F32);
    let tile = ev("Tile", &Attrs::new(), &[v32(&[1, 2]), v32(&[3])]).remove(0);
    assert_eq!(tile, v32(&[1, 2, 1, 2, 1, 2]));
    let sl = ev("Slice", &Attrs::new(), &[x.clone(), v32(&[1, 1]), v32(&[-1, 2])]).remove(0);
    assert_eq!(sl, Tensor::from_vec(&[1, 2], vec![5i32, 6]).unwrap());
    let parts = ev("Split", &Attrs::new().with("num_split", Attr::I(3)), &[Tensor::scalar(1i32), x.clone()]);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[2], Tensor::from_vec(&[2, 1], vec![3i32, 6]).unwrap());
    assert_eq!(eval_op("NoSuchOp", &Attrs::new(), &[x]).unwrap(), None);
    assert!(is_foldable("StridedSlice") && !is_foldable("Conv2D"));
}
