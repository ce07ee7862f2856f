//! Shape functions of neural-network ops: convolutions, pooling, batch normalization,
//! bias, resizing, and the space/batch/depth rearrangements.

use super::{invalid, InferCtx, ShapeError, ShapeRegistry};
use crate::ir::graph::Fact;
use crate::ir::shape::{Dim, Shape};

type R = Result<Vec<Fact>, ShapeError>;

pub fn register_all_ops(r: &mut ShapeRegistry) {
    r.register("BiasAdd", |cx: &InferCtx<'_>| cx.one(cx.shape(0)?.clone()));
    r.register("Conv2D", |cx: &InferCtx<'_>| conv2d(cx, false));
    r.register("DepthwiseConv2dNative", |cx: &InferCtx<'_>| conv2d(cx, true));
    r.register("Conv2DBackpropInput", |cx: &InferCtx<'_>| cx.one(super::array::shape_from_tensor(cx, 0)?));
    for op in ["MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D"] {
        r.register(op, pool);
    }
    r.register("Conv3D", conv3d);
    r.register("CropAndResize", |cx: &InferCtx<'_>| {
        let n = cx.dims(1)?.and_then(|d| d.first().cloned()).unwrap_or(Dim::Unknown);
        let c = cx.dims(0)?.and_then(|d| d.get(3).cloned()).unwrap_or(Dim::Unknown);
        let size = cx.int_dims(3)?.filter(|s| s.len() == 2).unwrap_or_else(|| vec![Dim::Unknown; 2]);
        cx.one(Shape::Ranked(vec![n, size[0].clone(), size[1].clone(), c]))
    });
    for op in ["SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits"] {
        r.register(op, |cx: &InferCtx<'_>| {
            let logits = cx.shape(0)?.clone();
            let b = logits.dims().and_then(|d| d.first().cloned()).unwrap_or(Dim::Unknown);
            Ok(vec![Fact::new(cx.out_dtype(0), Shape::Ranked(vec![b])), Fact::new(cx.out_dtype(1), logits)])
        });
    }
    for op in ["NonMaxSuppression", "NonMaxSuppressionV3"] {
        r.register(op, |cx: &InferCtx<'_>| cx.one(Shape::unknown_dims(1)));
    }
    r.register("NonMaxSuppressionV5", |cx: &InferCtx<'_>| {
        Ok(vec![
            Fact::new(cx.out_dtype(0), Shape::unknown_dims(1)),
            Fact::new(cx.out_dtype(1), Shape::unknown_dims(1)),
            Fact::new(cx.out_dtype(2), Shape::scalar()),
        ])
    });
    for op in ["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"] {
        r.register(op, fused_batch_norm);
    }
    for op in ["ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea"] {
        r.register(op, resize);
    }
    r.register("SpaceToDepth", |cx: &InferCtx<'_>| depth_space(cx, true));
    r.register("DepthToSpace", |cx: &InferCtx<'_>| depth_space(cx, false));
    r.register("SpaceToBatchND", |cx: &InferCtx<'_>| space_batch(cx, true));
    r.register("BatchToSpaceND", |cx: &InferCtx<'_>| space_batch(cx, false));
}

/// Positions of (batch, spatial..., channel) for a data format.
fn layout(fmt: &str, rank: usize) -> Result<(usize, Vec<usize>, usize), ShapeError> {
    match fmt {
        "NHWC" | "NDHWC" | "NWC" => Ok((0, (1..rank - 1).collect(), rank - 1)),
        "NCHW" | "NCDHW" | "NCW" => Ok((0, (2..rank).collect(), 1)),
        other => Err(invalid(format!("data format {other} is not supported"))),
    }
}

/// TensorFlow's `GetWindowedOutputSize`: SAME is ceil(in / stride), VALID is
/// ceil((in - effective_window + 1) / stride), EXPLICIT adds the paddings first.
fn windowed(input: &Dim, window: u64, stride: u64, dilation: u64, padding: &str, pads: (i64, i64)) -> Result<Dim, ShapeError> {
    let Some(n) = input.known() else { return Ok(Dim::Unknown) };
    if stride == 0 || window == 0 || dilation == 0 {
        return Err(invalid(format!("window {window}, stride {stride}, dilation {dilation}: each must be at least 1")));
    }
    let eff = (window - 1).checked_mul(dilation).and_then(|e| e.checked_add(1)).ok_or_else(|| invalid("window too large"))?;
    let out = match padding {
        "SAME" => n.div_ceil(stride),
        "VALID" => {
            if n < eff {
                return Err(invalid(format!("window {eff} exceeds input size {n} with VALID padding")));
            }
            (n - eff + 1).div_ceil(stride)
        }
        "EXPLICIT" => {
            let padded = (n as i64).saturating_add(pads.0).saturating_add(pads.1);
            if padded < eff as i64 {
                return Err(invalid(format!("window {eff} exceeds padded size {padded}")));
            }
            (padded as u64 - eff) / stride + 1
        }
        other => return Err(invalid(format!("padding {other} is not supported"))),
    };
    Ok(Dim::Known(out))
}

/// TensorFlow's own op validation: every entry of `strides`, `dilations` and `ksize` is at
/// least 1 (checked whatever is known of the input, so a bad attribute never reaches a layer:
/// a dilation of 0 used to become a Core ML convolution with dilation 0).
fn at_least_one(attr: &str, values: &[i64]) -> Result<(), ShapeError> {
    match values.iter().find(|&&v| v < 1) {
        Some(v) => Err(invalid(format!("{attr} {values:?}: every entry must be at least 1, found {v}"))),
        None => Ok(()),
    }
}

fn conv2d(cx: &InferCtx<'_>, depthwise: bool) -> R {
    let fmt = cx.attrs().opt_str("data_format")?.unwrap_or("NHWC");
    let strides = cx.attrs().get_list_int("strides")?;
    let dil = cx.attrs().opt_list_int("dilations")?.unwrap_or_else(|| vec![1; 4]);
    at_least_one("strides", &strides)?;
    at_least_one("dilations", &dil)?;
    let padding = cx.attrs().get_str("padding")?;
    let explicit = cx.attrs().opt_list_int("explicit_paddings")?.unwrap_or_default();
    let (Some(x), Some(w)) = (cx.dims(0)?, cx.dims(1)?) else {
        return cx.one(Shape::unknown_dims(4));
    };
    if x.len() != 4 || w.len() != 4 || strides.len() != 4 || dil.len() != 4 {
        return Err(invalid("Conv2D needs rank-4 input and filter and 4 strides and dilations"));
    }
    let (nb, sp, ch) = layout(fmt, 4)?;
    if depthwise {
        merged(&x[ch], &w[2], "input channels")?;
    } else {
        grouped_channels(&x[ch], &w[2], &w[3])?;
    }
    let mut out = vec![Dim::Unknown; 4];
    out[nb] = x[nb].clone();
    out[ch] = if depthwise {
        match (x[ch].known().or(w[2].known()), w[3].known()) {
            (Some(c), Some(m)) => c.checked_mul(m).map_or(Dim::Unknown, Dim::Known),
            _ => Dim::Unknown,
        }
    } else {
        w[3].clone()
    };
    for (k, &ax) in sp.iter().enumerate() {
        let win = w[k].known();
        let pads = if padding == "EXPLICIT" {
            (*explicit.get(2 * ax).unwrap_or(&0), *explicit.get(2 * ax + 1).unwrap_or(&0))
        } else {
            (0, 0)
        };
        out[ax] = match win {
            Some(win) => windowed(&x[ax], win, strides[ax] as u64, dil[ax] as u64, padding, pads)?,
            None => Dim::Unknown,
        };
    }
    cx.one(Shape::Ranked(out))
}

/// `Conv3D`: NDHWC or NCDHW input, DHWIO filter, VALID or SAME.
fn conv3d(cx: &InferCtx<'_>) -> R {
    let fmt = cx.attrs().opt_str("data_format")?.unwrap_or("NDHWC");
    let strides = cx.attrs().get_list_int("strides")?;
    let dil = cx.attrs().opt_list_int("dilations")?.unwrap_or_else(|| vec![1; 5]);
    at_least_one("strides", &strides)?;
    at_least_one("dilations", &dil)?;
    let padding = cx.attrs().get_str("padding")?;
    let (Some(x), Some(w)) = (cx.dims(0)?, cx.dims(1)?) else { return cx.one(Shape::unknown_dims(5)) };
    if x.len() != 5 || w.len() != 5 || strides.len() != 5 || dil.len() != 5 {
        return Err(invalid("Conv3D needs rank-5 input and filter and 5 strides and dilations"));
    }
    let (nb, sp, ch) = layout(fmt, 5)?;
    merged(&x[ch], &w[3], "input channels")?;
    let mut out = vec![Dim::Unknown; 5];
    out[nb] = x[nb].clone();
    out[ch] = w[4].clone();
    for (k, &ax) in sp.iter().enumerate() {
        out[ax] = match w[k].known() {
            Some(win) => windowed(&x[ax], win, strides[ax] as u64, dil[ax] as u64, padding, (0, 0))?,
            None => Dim::Unknown,
        };
    }
    cx.one(Shape::Ranked(out))
}

/// TF's `Conv2D` shape check: the input's channels are a whole number `g` of filter input
/// channels (`g` > 1 is a grouped convolution, as Keras `Conv2D(groups=g)` writes it) and the
/// filter's output channels divide into those `g` groups.
fn grouped_channels(x_ch: &Dim, w_in: &Dim, w_out: &Dim) -> Result<(), ShapeError> {
    let (Some(c), Some(k)) = (x_ch.known(), w_in.known()) else { return Ok(()) };
    if k == 0 || c % k != 0 {
        return Err(invalid(format!("input channels {c} are not a multiple of the filter's input channels {k}")));
    }
    let groups = c / k;
    match w_out.known() {
        Some(o) if o % groups != 0 => {
            Err(invalid(format!("filter output channels {o} do not divide into {groups} groups ({c} input channels / {k})")))
        }
        _ => Ok(()),
    }
}

fn merged(a: &Dim, b: &Dim, what: &str) -> Result<Dim, ShapeError> {
    a.merge(b).ok_or_else(|| invalid(format!("{what}: {a} and {b} differ")))
}

fn pool(cx: &InferCtx<'_>) -> R {
    let fmt = cx.attrs().opt_str("data_format")?.unwrap_or("NHWC");
    let ksize = cx.attrs().get_list_int("ksize")?;
    let strides = cx.attrs().get_list_int("strides")?;
    at_least_one("ksize", &ksize)?;
    at_least_one("strides", &strides)?;
    let padding = cx.attrs().get_str("padding")?;
    let explicit = cx.attrs().opt_list_int("explicit_paddings")?.unwrap_or_default();
    let rank = if cx.node.op.ends_with("3D") { 5 } else { 4 };
    let Some(x) = cx.dims(0)? else { return cx.one(Shape::unknown_dims(rank)) };
    if x.len() != rank || ksize.len() != rank || strides.len() != rank {
        return Err(invalid(format!("pooling needs a rank-{rank} input and {rank} ksize and strides")));
    }
    let (_, sp, _) = layout(fmt, rank)?;
    let mut out = x.to_vec();
    for &ax in &sp {
        let pads = (*explicit.get(2 * ax).unwrap_or(&0), *explicit.get(2 * ax + 1).unwrap_or(&0));
        out[ax] = windowed(&x[ax], ksize[ax] as u64, strides[ax] as u64, 1, padding, pads)?;
    }
    cx.one(Shape::Ranked(out))
}

fn fused_batch_norm(cx: &InferCtx<'_>) -> R {
    let fmt = cx.attrs().opt_str("data_format")?.unwrap_or("NHWC");
    let x = cx.shape(0)?.clone();
    let mut c = cx.dims(1)?.and_then(|d| d.first().cloned()).unwrap_or(Dim::Unknown);
    if let Some(d) = x.dims() {
        if d.len() >= 2 {
            let (_, _, ch) = layout(fmt, d.len())?;
            c = merged(&c, &d[ch], "channels")?;
        }
    }
    let vec_c = Shape::Ranked(vec![c]);
    let mut out = vec![Fact::new(cx.out_dtype(0), x)];
    for k in 1..5 {
        out.push(Fact::new(cx.out_dtype(k), vec_c.clone()));
    }
    if cx.node.outputs.len() == 6 {
        // reserve_space_3: TensorFlow's shape function leaves it unknown too.
        out.push(Fact::new(cx.out_dtype(5), Shape::Unknown));
    }
    Ok(out)
}

fn resize(cx: &InferCtx<'_>) -> R {
    let Some(x) = cx.dims(0)? else { return cx.one(Shape::unknown_dims(4)) };
    if x.len() != 4 {
        return Err(invalid(format!("resize needs a rank-4 input, found rank {}", x.len())));
    }
    let size = cx.int_dims(1)?.unwrap_or_else(|| vec![Dim::Unknown; 2]);
    if size.len() != 2 {
        return Err(invalid("size must have 2 entries"));
    }
    cx.one(Shape::Ranked(vec![x[0].clone(), size[0].clone(), size[1].clone(), x[3].clone()]))
}

fn depth_space(cx: &InferCtx<'_>, to_depth: bool) -> R {
    let b = cx.attrs().get_int("block_size")?.max(1) as u64;
    let fmt = cx.attrs().opt_str("data_format")?.unwrap_or("NHWC");
    let Some(x) = cx.dims(0)? else { return cx.one(Shape::unknown_dims(4)) };
    if x.len() != 4 {
        return Err(invalid("needs a rank-4 input"));
    }
    let (_, sp, ch) = layout(fmt, 4)?;
    let mut out = x.to_vec();
    let map = |d: &Dim, f: &dyn Fn(u64) -> Option<u64>| d.known().and_then(f).map_or(Dim::Unknown, Dim::Known);
    let bb = b.checked_mul(b).ok_or_else(|| invalid("block_size too large"))?;
    for &ax in &sp {
        out[ax] = if to_depth { map(&x[ax], &|n| (n % b == 0).then(|| n / b)) } else { map(&x[ax], &|n| n.checked_mul(b)) };
    }
    out[ch] = if to_depth { map(&x[ch], &|n| n.checked_mul(bb)) } else { map(&x[ch], &|n| (n % bb == 0).then(|| n / bb)) };
    cx.one(Shape::Ranked(out))
}

fn space_batch(cx: &InferCtx<'_>, to_batch: bool) -> R {
    let Some(x) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    let (Some(block), Some(pads)) = (cx.ints(1)?, cx.ints(2)?) else { return cx.one(Shape::unknown_dims(x.len())) };
    let m = block.len();
    if pads.len() != 2 * m || x.len() < m + 1 {
        return Err(invalid("block_shape and paddings/crops do not fit the input"));
    }
    let prod: i64 = block.iter().fold(1i64, |a, &b| a.saturating_mul(b));
    let mut out = x.to_vec();
    out[0] = match x[0].known() {
        Some(n) if to_batch && prod > 0 => n.checked_mul(prod as u64).map_or(Dim::Unknown, Dim::Known),
        Some(n) if prod > 0 && n % prod as u64 == 0 => Dim::Known(n / prod as u64),
        _ => Dim::Unknown,
    };
    for i in 0..m {
        out[i + 1] = match x[i + 1].known() {
            Some(n) if to_batch => {
                let p = (n as i64).saturating_add(pads[2 * i]).saturating_add(pads[2 * i + 1]);
                if block[i] <= 0 || p % block[i] != 0 {
                    return Err(invalid(format!("padded size {p} is not a multiple of block {}", block[i])));
                }
                Dim::Known((p / block[i]) as u64)
            }
            Some(n) => Dim::from_tf((n as i64).saturating_mul(block[i]).saturating_sub(pads[2 * i]).saturating_sub(pads[2 * i + 1])),
            None => Dim::Unknown,
        };
    }
    cx.one(Shape::Ranked(out))
}
