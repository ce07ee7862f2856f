#!/usr/bin/env python3
"""Generate reference cases for mlrewrite's Core ML Neural Network interpreter (`src/run`).

Each case is a tiny Neural Network model built with coremltools' `NeuralNetworkBuilder`
(or, where the builder has no helper, by setting the spec fields directly), written to
`tests/fixtures/layers/CASE.mlmodel` (`coremltools.utils.save_spec`), with
`tests/fixtures/layers/CASE.npz` holding the inputs (keyed by model input name) and the
EXPECTED outputs (keyed by model output name).

The expected outputs are computed INDEPENDENTLY of Core ML (coremltools cannot run models on
Linux): with numpy, following the semantics written in the comments of coremltools'
`mlmodel/format/NeuralNetwork.proto`; a few references are cross-checked against TensorFlow
inside this script (convolution, pooling). Where the proto leaves a detail open, the case
avoids it (e.g. epsilon placement is made irrelevant at the case's tolerance) or says in its
description which convention it assumes.

Array conventions (the interpreter must follow them):
- every array is float32, as Core ML Neural Network blobs are (indices are float too);
- `rank5_mapping: true` cases use the legacy RANK5_ARRAY_MAPPING: inputs and outputs are given
  in the shape declared in the model description (rank 1 `[C]` or rank 3 `[C, H, W]`); the
  layers see them as `[1, 1, C, 1, 1]` / `[1, 1, C, H, W]`;
- `rank5_mapping: false` cases use EXACT_ARRAY_MAPPING: arrays have exactly the declared shape
  (recurrent layers get explicit rank-5 `[Seq, Batch, C, 1, 1]` inputs).

`tests/fixtures/layers/manifest.json` lists every case: name, layer kinds (the
`NeuralNetworkLayer` oneof names, read back from the saved spec), description, rtol, atol,
rank5_mapping, specification version, inputs and outputs with shapes, and for custom layers
the class names.

Usage: /tmp/tfvenv/bin/python tools/make_layer_fixtures.py [--out tests/fixtures/layers]
       [--only CASE ...]
"""
import argparse
import math
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_io import save_json, save_npz, seed_of  # noqa: E402

import coremltools  # noqa: E402
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402
from coremltools.proto import NeuralNetwork_pb2 as NN  # noqa: E402

CASES = {}
F32 = np.float32


def case(name, description, rtol=1e-4, atol=1e-5, compare=None):
    """Register `build(rng) -> (builder, inputs, outputs)`; arrays are float64 or float32.
    `compare="distribution"`: the expected outputs are numpy samples of the layer's
    distribution, compared as distributions (random layers)."""

    def register(build):
        assert name not in CASES, name
        CASES[name] = dict(build=build, description=description, rtol=rtol, atol=atol, compare=compare)
        return build

    return register


def net(inputs, outputs, rank5=False):
    """A builder whose model description declares exactly the shapes of the given arrays."""
    return NeuralNetworkBuilder(
        [(k, datatypes.Array(*np.shape(v))) for k, v in inputs.items()],
        [(k, datatypes.Array(*np.shape(v))) for k, v in outputs.items()],
        disable_rank5_shape_mapping=not rank5,
        use_float_arraytype=True,
    )


def randn(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(F32)


def pos(rng, *shape, lo=0.5, hi=2.0):
    return rng.uniform(lo, hi, shape).astype(F32)


def f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def erf(x):
    return np.vectorize(math.erf)(x)


# ================================================================ numpy references


def same_pads(size, k_eff, stride, top_left_heavy=False):
    """SamePadding of NeuralNetwork.proto: out = ceil(in/stride), total split by asymmetryMode."""
    out = -(-size // stride)
    total = max(0, (out - 1) * stride + k_eff - size)
    small = total // 2
    return (total - small, small) if top_left_heavy else (small, total - small)


def conv2d(x, w, b, stride=(1, 1), dilation=(1, 1), pads=(0, 0, 0, 0), groups=1):
    """x [N, C, H, W]; w [O, C/groups, kH, kW] (the proto layout); pads (top, bottom, left, right)."""
    x, w = f64(x, w)
    n, c, _, _ = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[1]), (pads[2], pads[3])))
    hp, wp = xp.shape[2:]
    keh, kew = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    ho, wo = (hp - keh) // stride[0] + 1, (wp - kew) // stride[1] + 1
    y = np.zeros((n, o, ho, wo))
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * og:(g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dilation[0], j * dilation[1]
                patch = xs[:, :, r0:r0 + stride[0] * (ho - 1) + 1:stride[0],
                           c0:c0 + stride[1] * (wo - 1) + 1:stride[1]]
                y[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if b is not None:
        y += np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return y


def deconv2d(x, w, b, stride, groups=1, crop=(0, 0, 0, 0), out_hw=None):
    """Transposed convolution. w [C_in, C_out/groups, kH, kW] (the proto layout).

    The full output ((H-1)*s + k) is cropped by `crop` (top, bottom, left, right); with
    `out_hw`, the first out_hw rows/columns after the top/left crop are kept.
    """
    x, w = f64(x, w)
    n, cin, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = cin // groups
    full = np.zeros((n, og * groups, (h - 1) * stride[0] + kh, (wd - 1) * stride[1] + kw))
    for g in range(groups):
        for ci in range(g * cg, (g + 1) * cg):
            for i in range(h):
                for j in range(wd):
                    full[:, g * og:(g + 1) * og, i * stride[0]:i * stride[0] + kh,
                         j * stride[1]:j * stride[1] + kw] += (
                        x[:, ci, i, j][:, None, None, None] * w[ci][None])
    t, bt, l, r = crop
    y = full[:, :, t:full.shape[2] - bt, l:full.shape[3] - r]
    if out_hw is not None:
        y = y[:, :, :out_hw[0], :out_hw[1]]
    if b is not None:
        y = y + np.asarray(b, np.float64).reshape(1, -1, 1, 1)
    return y


def pool2d(x, kind, k, stride, pads=(0, 0, 0, 0), exclude_padding=True, out_hw=None):
    """Max/average/L2 pooling over [.., H, W]; pads (top, bottom, left, right).

    Windows are clipped to the padded input (only matters for includeLastPixel overhang).
    Average: divide by the window's cells inside the padded input, or inside the unpadded
    input when `exclude_padding`.
    """
    (x,) = f64(x)
    h, w = x.shape[-2:]
    t, bt, l, r = pads
    hp, wp = h + t + bt, w + l + r
    if out_hw is None:
        out_hw = ((hp - k[0]) // stride[0] + 1, (wp - k[1]) // stride[1] + 1)
    y = np.zeros(x.shape[:-2] + tuple(out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            r0, c0 = i * stride[0], j * stride[1]  # window start in padded coordinates
            r1, c1 = min(r0 + k[0], hp), min(c0 + k[1], wp)
            # the part of the window inside the real input
            a0, a1 = max(r0 - t, 0), min(r1 - t, h)
            b0, b1 = max(c0 - l, 0), min(c1 - l, w)
            win = x[..., a0:a1, b0:b1]
            if kind == "MAX":
                y[..., i, j] = win.max(axis=(-2, -1))
            elif kind == "L2":
                y[..., i, j] = np.sqrt((win ** 2).sum(axis=(-2, -1)))
            else:
                count = (a1 - a0) * (b1 - b0) if exclude_padding else (r1 - r0) * (c1 - c0)
                y[..., i, j] = win.sum(axis=(-2, -1)) / count
    return y


def conv3d(x, w, b, stride=(1, 1, 1), dilation=(1, 1, 1), pads=(0,) * 6, groups=1):
    """x [N, C, D, H, W]; w [O, C/groups, kD, kH, kW] (the proto layout); pads (front, back,
    top, bottom, left, right)."""
    x, w = f64(x, w)
    o, cg = w.shape[:2]
    k = w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), pads[0:2], pads[2:4], pads[4:6]))
    keff = [(k[a] - 1) * dilation[a] + 1 for a in range(3)]
    out = [(xp.shape[2 + a] - keff[a]) // stride[a] + 1 for a in range(3)]
    y = np.zeros((x.shape[0], o, *out))
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * og:(g + 1) * og]
        for i in range(k[0]):
            for j in range(k[1]):
                for m in range(k[2]):
                    s0 = [t * dilation[a] for a, t in enumerate((i, j, m))]
                    patch = xs[:, :, s0[0]:s0[0] + stride[0] * (out[0] - 1) + 1:stride[0],
                               s0[1]:s0[1] + stride[1] * (out[1] - 1) + 1:stride[1],
                               s0[2]:s0[2] + stride[2] * (out[2] - 1) + 1:stride[2]]
                    y[:, g * og:(g + 1) * og] += np.einsum("ncdhw,oc->nodhw", patch, ws[:, :, i, j, m])
    if b is not None:
        y += np.asarray(b, np.float64).reshape(1, -1, 1, 1, 1)
    return y


def deconv3d(x, w, b, stride, dilation=(1, 1, 1), groups=1, crop=(0,) * 6, out_dhw=None):
    """Transposed 3-D convolution. w [C_in, C_out/groups, kD, kH, kW] (the proto layout).

    The full output ((D-1)*s + (k-1)*dil + 1) is cropped by `crop` (front, back, top, bottom,
    left, right); with `out_dhw`, the first out_dhw cells after the front/top/left crop are
    kept (zero-filled past the full output).
    """
    x, w = f64(x, w)
    n, cin = x.shape[:2]
    dims = x.shape[2:]
    og = w.shape[1]
    k = w.shape[2:]
    cg = cin // groups
    full_dims = [(dims[a] - 1) * stride[a] + (k[a] - 1) * dilation[a] + 1 for a in range(3)]
    full = np.zeros((n, og * groups, *full_dims))
    for g in range(groups):
        for ci in range(g * cg, (g + 1) * cg):
            for i in range(k[0]):
                for j in range(k[1]):
                    for m in range(k[2]):
                        s0 = [t * dilation[a] for a, t in enumerate((i, j, m))]
                        full[:, g * og:(g + 1) * og,
                             s0[0]:s0[0] + stride[0] * (dims[0] - 1) + 1:stride[0],
                             s0[1]:s0[1] + stride[1] * (dims[1] - 1) + 1:stride[1],
                             s0[2]:s0[2] + stride[2] * (dims[2] - 1) + 1:stride[2]] += (
                            x[:, ci][:, None] * w[ci, :, i, j, m][None, :, None, None, None])
    y = full[:, :, crop[0]:full_dims[0] - crop[1], crop[2]:full_dims[1] - crop[3],
             crop[4]:full_dims[2] - crop[5]]
    if out_dhw is not None:
        want = np.zeros(y.shape[:2] + tuple(out_dhw))
        keep = [min(out_dhw[a], y.shape[2 + a]) for a in range(3)]
        want[:, :, :keep[0], :keep[1], :keep[2]] = y[:, :, :keep[0], :keep[1], :keep[2]]
        y = want
    if b is not None:
        y = y + np.asarray(b, np.float64).reshape(1, -1, 1, 1, 1)
    return y


def pool3d(x, kind, k, stride, pads=(0,) * 6, exclude_padding=True):
    """Max/average pooling over [.., D, H, W]; pads (front, back, top, bottom, left, right).
    Average divides by the window's cells inside the padded input, or inside the unpadded
    input when `exclude_padding`."""
    (x,) = f64(x)
    dims = x.shape[-3:]
    padded = [dims[a] + pads[2 * a] + pads[2 * a + 1] for a in range(3)]
    out = [(padded[a] - k[a]) // stride[a] + 1 for a in range(3)]
    y = np.zeros(x.shape[:-3] + tuple(out))
    for idx in np.ndindex(*out):
        lo = [idx[a] * stride[a] - pads[2 * a] for a in range(3)]  # window start in the input
        hi = [lo[a] + k[a] for a in range(3)]
        d0 = [max(lo[a], 0) for a in range(3)]
        d1 = [min(hi[a], dims[a]) for a in range(3)]
        win = x[..., d0[0]:d1[0], d0[1]:d1[1], d0[2]:d1[2]]
        if kind == "MAX":
            y[(...,) + idx] = win.max(axis=(-3, -2, -1))
        else:
            count = np.prod([d1[a] - d0[a] for a in range(3)]) if exclude_padding else np.prod(
                [min(hi[a], dims[a] + pads[2 * a + 1]) - max(lo[a], -pads[2 * a]) for a in range(3)])
            y[(...,) + idx] = win.sum(axis=(-3, -2, -1)) / count
    return y


def same_pads3(dims, k_eff, stride):
    """SAME padding of the 3-D layers: the odd cell at the back/bottom/right."""
    return sum((same_pads(dims[a], k_eff[a], stride[a]) for a in range(3)), ())


def bilinear_1d_weights(grid, size):
    lo = np.clip(np.floor(grid).astype(int), 0, size - 1)
    hi = np.minimum(lo + 1, size - 1)
    frac = grid - lo
    return lo, hi, frac


def bilinear(x, grid_h, grid_w):
    """Sample x [.., H, W] at fractional grid coordinates (already clipped to [0, X-1])."""
    (x,) = f64(x)
    h, w = x.shape[-2:]
    lo_h, hi_h, fh = bilinear_1d_weights(np.asarray(grid_h, np.float64), h)
    lo_w, hi_w, fw = bilinear_1d_weights(np.asarray(grid_w, np.float64), w)
    rows = x[..., lo_h, :] * (1 - fh)[:, None] + x[..., hi_h, :] * fh[:, None]
    return rows[..., lo_w] * (1 - fw) + rows[..., hi_w] * fw


def upsample_grid(xin, xout, mode):
    """LinearUpsampleMode grid of UpsampleLayerParams (NeuralNetwork.proto)."""
    i = np.arange(xout, dtype=np.float64)
    if mode == "DEFAULT":
        g = i * ((xin - xin / xout) / (xout - 1) if xout > 1 else 0.0)
    elif mode == "ALIGN_CORNERS_TRUE":
        g = i * ((xin - 1) / (xout - 1) if xout > 1 else 0.0)
    else:  # ALIGN_CORNERS_FALSE
        s = xin / xout
        g = i * s + 0.5 * s - 0.5
    return np.minimum(xin - 1, np.maximum(0, g))


def resize_grid(x, n, method):
    """SamplingMode grid of ResizeBilinearLayerParams (NeuralNetwork.proto)."""
    if method == "STRICT_ALIGN_ENDPOINTS_MODE":
        return np.linspace(0, x - 1, n)
    if method == "ALIGN_ENDPOINTS_MODE":
        return np.full(n, (x - 1) / 2) if n == 1 else np.linspace(0, x - 1, n)
    if method == "UPSAMPLE_MODE":
        return np.minimum(x - 1, np.linspace(0, x - x / n, n))
    spacing = max(1, x - 1) / n  # ROI_ALIGN_MODE
    start = 0.5 * spacing
    return np.minimum(x - 1, np.linspace(start, start + (n - 1) * spacing, n))


def depth_to_space(x, bs, pixel_shuffle=False):
    """ReorganizeDataLayerParams DEPTH_TO_SPACE / PIXEL_SHUFFLE on [C, H, W]."""
    c, h, w = x.shape
    co = c // (bs * bs)
    if pixel_shuffle:
        y = x.reshape(co, bs, bs, h, w).transpose(0, 3, 1, 4, 2)
    else:
        y = x.reshape(bs, bs, co, h, w).transpose(2, 3, 0, 4, 1)
    return y.reshape(co, h * bs, w * bs)


def space_to_depth(x, bs):
    c, h, w = x.shape
    y = x.reshape(c, h // bs, bs, w // bs, bs).transpose(2, 4, 0, 1, 3)
    return y.reshape(c * bs * bs, h // bs, w // bs)


# The proto's own example, so the reference cannot drift from the documented layout.
_ex = np.arange(1, 17, dtype=np.float64).reshape(8, 1, 2)
assert (depth_to_space(_ex, 2) == np.array(
    [[[1, 5, 2, 6], [9, 13, 10, 14]], [[3, 7, 4, 8], [11, 15, 12, 16]]])).all()
assert (depth_to_space(_ex, 2, True) == np.array(
    [[[1, 3, 2, 4], [5, 7, 6, 8]], [[9, 11, 10, 12], [13, 15, 14, 16]]])).all()
assert (space_to_depth(depth_to_space(_ex, 2), 2) == _ex).all()


def lstm_ref(x, h0, c0, W, R, b, peep=None, forget_bias=False, reverse=False,
             clip=50000.0):
    """LSTMParams equations; gate order i, f, o, z (the builder's order). x [T, B, I]."""
    x, h0, c0 = f64(x, h0, c0)
    W = [np.asarray(m, np.float64) for m in W]
    R = [np.asarray(m, np.float64) for m in R]
    b = [np.asarray(v, np.float64) for v in b]
    if forget_bias:
        b[1] = b[1] + 1.0
    p = [np.zeros_like(b[0])] * 3 if peep is None else [np.asarray(v, np.float64) for v in peep]
    h, c = h0, c0
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    ys = []

    def pre(k, xt):
        return np.clip(xt @ W[k].T + h @ R[k].T + b[k], -50, 50)

    for t in steps:
        xt = x[t]
        i = sigmoid(pre(0, xt) + p[0] * c)
        f = sigmoid(pre(1, xt) + p[1] * c)
        z = np.tanh(pre(3, xt))
        c = np.clip(c * f + i * z, -clip, clip)
        o = sigmoid(pre(2, xt) + p[2] * c)
        h = np.tanh(c) * o
        ys.append(h)
    return np.stack(ys), h, c


def gru_ref(x, h0, Wx, Wh, b):
    """GRULayerParams equations; gate order z, r, o; f = sigmoid, g = tanh. x [T, B, I]."""
    x, h = f64(x, h0)
    Wx = [np.asarray(m, np.float64) for m in Wx]
    Wh = [np.asarray(m, np.float64) for m in Wh]
    b = [np.asarray(v, np.float64) for v in b]
    ys = []
    for xt in x:
        z = sigmoid(np.clip(xt @ Wx[0].T + h @ Wh[0].T + b[0], -50, 50))
        r = sigmoid(np.clip(xt @ Wx[1].T + h @ Wh[1].T + b[1], -50, 50))
        o = np.tanh(np.clip(xt @ Wx[2].T + (h * r) @ Wh[2].T + b[2], -50, 50))
        h = (1 - z) * o + z * h
        ys.append(h)
    return np.stack(ys)


# ================================================================ convolution


def conv_case(rng, c, o, hw, k, stride=(1, 1), dilation=(1, 1), groups=1, border="valid",
              pads=(0, 0, 0, 0), top_left=False, bias=True, rank5=False):
    x = randn(rng, 1, c, *hw)
    w = randn(rng, o, c // groups, *k, scale=1 / math.sqrt(c // groups * k[0] * k[1]))
    b = randn(rng, o, scale=0.3) if bias else None
    if border == "same":
        keh, kew = (k[0] - 1) * dilation[0] + 1, (k[1] - 1) * dilation[1] + 1
        pads = same_pads(hw[0], keh, stride[0], top_left) + same_pads(hw[1], kew, stride[1], top_left)
    y = conv2d(x, w, b, stride, dilation, pads, groups)
    xin, yout = (x[0], y[0]) if rank5 else (x, y)
    nb = net({"x": xin}, {"y": yout}, rank5=rank5)
    nb.add_convolution(
        "conv", kernel_channels=c // groups, output_channels=o, height=k[0], width=k[1],
        stride_height=stride[0], stride_width=stride[1], border_mode=border, groups=groups,
        W=w.transpose(2, 3, 1, 0), b=b, has_bias=bias, input_name="x", output_name="y",
        dilation_factors=list(dilation), padding_top=pads[0] if border == "valid" else 0,
        padding_bottom=pads[1] if border == "valid" else 0,
        padding_left=pads[2] if border == "valid" else 0,
        padding_right=pads[3] if border == "valid" else 0,
        same_padding_asymmetry_mode="TOP_LEFT_HEAVY" if top_left else "BOTTOM_RIGHT_HEAVY",
    )
    return nb, {"x": xin}, {"y": yout}


@case("conv_valid_bias", "convolution 3x3 valid, stride 1, with bias, input [1,3,6,6]")
def _(rng):
    return conv_case(rng, 3, 4, (6, 6), (3, 3))


@case("conv_groups_dilation", "grouped convolution (2 groups), dilation 2, valid, no bias")
def _(rng):
    return conv_case(rng, 4, 6, (7, 7), (3, 3), dilation=(2, 2), groups=2, bias=False)


@case("conv_same_stride2_bottom_right",
      "convolution same padding, stride 2 on even size (odd total padding): BOTTOM_RIGHT_HEAVY")
def _(rng):
    return conv_case(rng, 3, 4, (6, 6), (3, 3), stride=(2, 2), border="same")


@case("conv_same_stride2_top_left",
      "convolution same padding, stride 2 on even size: TOP_LEFT_HEAVY puts the odd row on top")
def _(rng):
    return conv_case(rng, 3, 4, (6, 6), (3, 3), stride=(2, 2), border="same", top_left=True)


@case("conv_same_dilated", "convolution same padding with dilation 2 (effective kernel 5)")
def _(rng):
    return conv_case(rng, 2, 3, (6, 7), (3, 3), dilation=(2, 2), border="same")


@case("conv_custom_padding",
      "convolution valid with paddingAmounts top 1 bottom 2 left 0 right 1, kernel 2x3, stride 1x2")
def _(rng):
    return conv_case(rng, 3, 2, (5, 6), (2, 3), stride=(1, 2), pads=(1, 2, 0, 1))


@case("conv_depthwise", "depthwise convolution: nGroups = C = 4, kernelChannels 1, multiplier 2, same")
def _(rng):
    return conv_case(rng, 4, 8, (5, 5), (3, 3), groups=4, border="same")


@case("conv_rank5_mapping", "convolution 3x3 same on a rank-5-mapped [C,H,W] input")
def _(rng):
    return conv_case(rng, 3, 5, (5, 6), (3, 3), border="same", rank5=True)


def deconv_case(rng, cin, cout, hw, k, stride, groups=1, border="valid", output_shape=None,
                bias=True):
    x = randn(rng, 1, cin, *hw)
    w = randn(rng, cin, cout // groups, *k, scale=1 / math.sqrt(cin * k[0] * k[1] / groups))
    b = randn(rng, cout, scale=0.3) if bias else None
    if output_shape is not None:
        y = deconv2d(x, w, b, stride, groups, out_hw=output_shape)
    elif border == "same":
        # SamePadding with deconvolution: H_out = H_in * stride; the crop is the same-padding
        # split of (H-1)*s + k - H*s, BOTTOM_RIGHT_HEAVY.
        crop = []
        for d in range(2):
            total = (hw[d] - 1) * stride[d] + k[d] - hw[d] * stride[d]
            crop += [total // 2, total - total // 2]
        y = deconv2d(x, w, b, stride, groups, crop=tuple(crop))
    else:
        y = deconv2d(x, w, b, stride, groups)
    nb = net({"x": x}, {"y": y})
    nb.add_convolution(
        "deconv", kernel_channels=cin, output_channels=cout, height=k[0], width=k[1],
        stride_height=stride[0], stride_width=stride[1], border_mode=border, groups=groups,
        W=w.transpose(2, 3, 0, 1), b=b, has_bias=bias, is_deconv=True,
        output_shape=output_shape, input_name="x", output_name="y")
    return nb, {"x": x}, {"y": y}


@case("deconv_valid_stride2_groups", "deconvolution 3x3 stride 2, 2 groups, valid, bias")
def _(rng):
    return deconv_case(rng, 4, 6, (3, 4), (3, 3), (2, 2), groups=2)


@case("deconv_same_stride2", "deconvolution 3x3 stride 2, same padding: H_out = 2 H_in "
      "(the extra last row/column of the full output is cropped)")
def _(rng):
    return deconv_case(rng, 3, 2, (3, 4), (3, 3), (2, 2), border="same")


@case("deconv_output_shape", "deconvolution 3x3 stride 2 with outputShape [2H, 2W] (one less "
      "than the full output: the last row/column is dropped, as TF conv2d_transpose SAME)")
def _(rng):
    return deconv_case(rng, 3, 2, (3, 4), (3, 3), (2, 2), output_shape=(6, 8))


# ================================================================ 3-D convolution and pooling


def conv3d_case(rng, n, c, o, dims, k, stride=(1, 1, 1), dilation=(1, 1, 1), groups=1,
                border="valid", pads=(0,) * 6, bias=True):
    x = randn(rng, n, c, *dims)
    w = randn(rng, o, c // groups, *k, scale=1 / math.sqrt(c // groups * np.prod(k)))
    b = randn(rng, o, scale=0.3) if bias else None
    if border == "same":
        pads = same_pads3(dims, [(k[a] - 1) * dilation[a] + 1 for a in range(3)], stride)
    y = conv3d(x, w, b, stride, dilation, pads, groups)
    nb = net({"x": x}, {"y": y})
    custom = dict(zip(["padding_front", "padding_back", "padding_top", "padding_bottom",
                       "padding_left", "padding_right"], pads)) if border == "custom" else {}
    nb.add_convolution3d(
        "conv3d", input_channels=c, output_channels=o, depth=k[0], height=k[1], width=k[2],
        W=w, b=b, has_bias=bias, groups=groups, stride_depth=stride[0],
        stride_height=stride[1], stride_width=stride[2], dilation_depth=dilation[0],
        dilation_height=dilation[1], dilation_width=dilation[2], padding_mode=border,
        input_name="x", output_name="y", **custom)
    return nb, {"x": x}, {"y": y}


@case("conv3d_valid_bias", "convolution3d 2x3x3 valid, stride 1, bias, batch 2, input [2,3,4,5,6]")
def _(rng):
    return conv3d_case(rng, 2, 3, 4, (4, 5, 6), (2, 3, 3))


@case("conv3d_same_stride2", "convolution3d SAME 3x3x3 stride 2 on [3, 8, 7] (the proto's "
      "example: even depth padding, odd height padding at the bottom)")
def _(rng):
    return conv3d_case(rng, 1, 3, 2, (3, 8, 7), (3, 3, 3), stride=(2, 2, 2), border="same")


@case("conv3d_custom_padding", "convolution3d CUSTOM padding front 1 back 0 top 2 bottom 1 "
      "left 0 right 2, strides 1x2x3, kernel 2x2x3")
def _(rng):
    return conv3d_case(rng, 1, 2, 3, (3, 5, 7), (2, 2, 3), stride=(1, 2, 3), border="custom",
                       pads=(1, 0, 2, 1, 0, 2))


@case("conv3d_dilation_same", "convolution3d SAME with dilation 2x1x3 (effective kernel 5x3x7), "
      "strides 1x2x1")
def _(rng):
    return conv3d_case(rng, 1, 2, 3, (6, 5, 8), (3, 3, 3), stride=(1, 2, 1), dilation=(2, 1, 3),
                       border="same")


@case("conv3d_groups", "convolution3d with 2 groups (4 -> 6 channels), valid, no bias")
def _(rng):
    return conv3d_case(rng, 1, 4, 6, (3, 4, 5), (2, 2, 2), groups=2, bias=False)


@case("conv3d_depthwise", "convolution3d depthwise: nGroups = C = 3, 2 outputs per channel, SAME")
def _(rng):
    return conv3d_case(rng, 2, 3, 6, (3, 4, 4), (3, 3, 3), groups=3, border="same")


def deconv3d_case(rng, cin, cout, dims, k, stride, dilation=(1, 1, 1), groups=1, border="valid",
                  pads=(0,) * 6, output_shape=None, bias=True):
    x = randn(rng, 1, cin, *dims)
    w = randn(rng, cin, cout // groups, *k, scale=1 / math.sqrt(cin * np.prod(k) / groups))
    b = randn(rng, cout, scale=0.3) if bias else None
    crop = pads
    if border == "same":
        # SAME crops floor(excess / 2) before (TF's SAME conv3d padding) and the rest after.
        full = [(dims[a] - 1) * stride[a] + (k[a] - 1) * dilation[a] + 1 for a in range(3)]
        want = output_shape or [dims[a] * stride[a] for a in range(3)]
        crop = sum(((max(full[a] - want[a], 0) // 2, 0) for a in range(3)), ())
    elif output_shape is not None:
        crop = (pads[0], 0, pads[2], 0, pads[4], 0)
    y = deconv3d(x, w, b, stride, dilation, groups, crop,
                 output_shape or ([dims[a] * stride[a] for a in range(3)] if border == "same" else None))
    nb = net({"x": x}, {"y": y})
    custom = dict(zip(["padding_front", "padding_back", "padding_top", "padding_bottom",
                       "padding_left", "padding_right"], pads)) if border == "custom" else {}
    nb.add_convolution3d(
        "deconv3d", input_channels=cin, output_channels=cout, depth=k[0], height=k[1],
        width=k[2], W=w.transpose(1, 0, 2, 3, 4), b=b, has_bias=bias, groups=groups,
        stride_depth=stride[0], stride_height=stride[1], stride_width=stride[2],
        dilation_depth=dilation[0], dilation_height=dilation[1], dilation_width=dilation[2],
        is_deconv=True, output_shape=output_shape, padding_mode=border, input_name="x",
        output_name="y", **custom)
    return nb, {"x": x}, {"y": y}


@case("deconv3d_valid_stride2_groups", "convolution3d deconvolution 2x3x3 stride 2x2x1, 2 groups "
      "(4 -> 6 channels), valid: the full (in-1)*s + k output, bias")
def _(rng):
    return deconv3d_case(rng, 4, 6, (2, 3, 4), (2, 3, 3), (2, 2, 1), groups=2)


@case("deconv3d_same_output_shape", "convolution3d deconvolution 3x3x3 stride 2, SAME with "
      "outputShape [2D, 2H, 2W - 1] (TF conv3d_transpose SAME: floor(excess/2) cropped before)")
def _(rng):
    return deconv3d_case(rng, 3, 2, (2, 3, 4), (3, 3, 3), (2, 2, 2), border="same",
                         output_shape=[4, 6, 7])


@case("deconv3d_same_no_output_shape", "convolution3d deconvolution 2x3x4 stride 2x1x2, SAME "
      "without outputShape: out = in * stride")
def _(rng):
    return deconv3d_case(rng, 2, 3, (3, 3, 3), (2, 3, 4), (2, 1, 2), border="same", bias=False)


@case("deconv3d_custom_dilation", "convolution3d deconvolution CUSTOM crop front 1 back 0 top 0 "
      "bottom 2 left 1 right 1, dilation 1x2x1, stride 1x1x2")
def _(rng):
    return deconv3d_case(rng, 2, 2, (3, 3, 4), (2, 2, 3), (1, 1, 2), dilation=(1, 2, 1),
                         border="custom", pads=(1, 0, 0, 2, 1, 1))


def pool3d_case(rng, kind, dims, k, stride, border="valid", pads=(0,) * 6, exclude=True, n=1, c=2):
    x = randn(rng, n, c, *dims)
    if border == "same":
        pads = same_pads3(dims, k, stride)
    y = pool3d(x, kind, k, stride, pads, exclude)
    nb = net({"x": x}, {"y": y})
    custom = dict(zip(["custom_padding_front", "custom_padding_back", "custom_padding_top",
                       "custom_padding_bottom", "custom_padding_left", "custom_padding_right"],
                      pads)) if border == "custom" else {}
    nb.add_pooling3d("pool3d", "x", "y", kind, k[0], k[1], k[2], stride[0], stride[1], stride[2],
                     padding_mode=border, average_pooling_count_excludes_padding=exclude,
                     **custom)
    return nb, {"x": x}, {"y": y}


@case("pool3d_max_same", "pooling3d MAX 3x2x3 stride 2x2x2 SAME on [5, 6, 7], batch 2")
def _(rng):
    return pool3d_case(rng, "MAX", (5, 6, 7), (3, 2, 3), (2, 2, 2), border="same", n=2)


@case("pool3d_max_valid_stride_gt_kernel", "pooling3d MAX 2x2x2 stride 3x2x3 valid (cells skipped)")
def _(rng):
    return pool3d_case(rng, "MAX", (7, 5, 8), (2, 2, 2), (3, 2, 3))


@case("pool3d_avg_same_exclude", "pooling3d AVERAGE 3x3x3 stride 2 SAME, countExcludePadding "
      "(TF's AvgPool3D)")
def _(rng):
    return pool3d_case(rng, "AVERAGE", (4, 5, 6), (3, 3, 3), (2, 2, 2), border="same")


@case("pool3d_avg_custom_include", "pooling3d AVERAGE 2x3x2 CUSTOM padding 1,0 / 1,1 / 0,1, "
      "padded cells counted (countExcludePadding false)")
def _(rng):
    return pool3d_case(rng, "AVERAGE", (3, 4, 5), (2, 3, 2), (1, 2, 2), border="custom",
                       pads=(1, 0, 1, 1, 0, 1), exclude=False)


@case("pool3d_avg_custom_exclude", "pooling3d AVERAGE 2x3x2 CUSTOM padding 1,0 / 1,1 / 0,1, "
      "countExcludePadding: divide by the cells inside the input")
def _(rng):
    return pool3d_case(rng, "AVERAGE", (3, 4, 5), (2, 3, 2), (1, 2, 2), border="custom",
                       pads=(1, 0, 1, 1, 0, 1), exclude=True)


@case("global_pool3d", "globalPooling3d MAX and AVERAGE over D, H, W of [2, 3, 3, 4, 5]")
def _(rng):
    x = randn(rng, 2, 3, 3, 4, 5, scale=2.0)
    (xd,) = f64(x)
    outs = {"y_max": xd.max(axis=(2, 3, 4), keepdims=True),
            "y_avg": xd.mean(axis=(2, 3, 4), keepdims=True)}
    nb = net({"x": x}, outs)
    nb.add_global_pooling3d("gmax", "x", "y_max", "MAX")
    nb.add_global_pooling3d("gavg", "x", "y_avg", "AVERAGE")
    return nb, {"x": x}, outs


# ================================================================ dense layers


@case("inner_product_rank5", "innerProduct with bias on a rank-5-mapped vector [6] -> [4]")
def _(rng):
    x, W, b = randn(rng, 6), randn(rng, 4, 6, scale=0.4), randn(rng, 4)
    y = f64(W)[0] @ x + b
    nb = net({"x": x}, {"y": y}, rank5=True)
    nb.add_inner_product("ip", W, b, 6, 4, True, "x", "y")
    return nb, {"x": x}, {"y": y}


@case("inner_product_nobias", "innerProduct without bias, rank-2 input [2, 6] -> [2, 4]")
def _(rng):
    x, W = randn(rng, 2, 6), randn(rng, 4, 6, scale=0.4)
    y = f64(x)[0] @ W.T
    nb = net({"x": x}, {"y": y})
    nb.add_inner_product("ip", W, None, 6, 4, False, "x", "y")
    return nb, {"x": x}, {"y": y}


@case("inner_product_rank4", "innerProduct on rank 4 [2, 3, 2, 1] -> (2, 6) -> [2, 4, 1, 1]")
def _(rng):
    x, W, b = randn(rng, 2, 3, 2, 1), randn(rng, 4, 6, scale=0.4), randn(rng, 4)
    y = (f64(x)[0].reshape(2, 6) @ W.T + b).reshape(2, 4, 1, 1)
    nb = net({"x": x}, {"y": y})
    nb.add_inner_product("ip", W, b, 6, 4, True, "x", "y")
    return nb, {"x": x}, {"y": y}


@case("batched_matmul_transpose_b", "batchedMatmul of two inputs [2,3,4] x [2,5,4]^T")
def _(rng):
    a, b = randn(rng, 2, 3, 4), randn(rng, 2, 5, 4)
    y = f64(a)[0] @ np.swapaxes(f64(b)[0], -1, -2)
    nb = net({"a": a, "b": b}, {"y": y})
    nb.add_batched_mat_mul("bmm", ["a", "b"], "y", transpose_b=True)
    return nb, {"a": a, "b": b}, {"y": y}


@case("batched_matmul_transpose_a_broadcast",
      "batchedMatmul [2,1,4,3]^T x [3,4,5]: transposeA and batch broadcasting -> [2,3,3,5]")
def _(rng):
    a, b = randn(rng, 2, 1, 4, 3), randn(rng, 3, 4, 5)
    y = np.swapaxes(f64(a)[0], -1, -2) @ f64(b)[0]
    nb = net({"a": a, "b": b}, {"y": y})
    nb.add_batched_mat_mul("bmm", ["a", "b"], "y", transpose_a=True)
    return nb, {"a": a, "b": b}, {"y": y}


@case("batched_matmul_weights", "batchedMatmul with a weight matrix [4,5] and bias on [2,3,4]")
def _(rng):
    a, W, bias = randn(rng, 2, 3, 4), randn(rng, 4, 5), randn(rng, 5)
    y = f64(a)[0] @ W + bias
    nb = net({"a": a}, {"y": y})
    nb.add_batched_mat_mul("bmm", ["a"], "y", weight_matrix_rows=4, weight_matrix_columns=5,
                           W=W, bias=bias)
    return nb, {"a": a}, {"y": y}


# ================================================================ normalization


@case("batchnorm", "batchnorm with given mean/variance, epsilon 1e-3, on [2, 3, 2, 2]")
def _(rng):
    x = randn(rng, 2, 3, 2, 2)
    g, be, m, v = pos(rng, 3), randn(rng, 3), randn(rng, 3), pos(rng, 3)
    r = lambda a: np.asarray(a, np.float64).reshape(1, 3, 1, 1)  # noqa: E731
    y = r(g) * (x - r(m)) / np.sqrt(r(v) + 1e-3) + r(be)
    nb = net({"x": x}, {"y": y})
    nb.add_batchnorm("bn", 3, g, be, m, v, "x", "y", epsilon=1e-3)
    return nb, {"x": x}, {"y": y}


@case("instance_normalization", "batchnorm with computeMeanVar and instanceNormalization: "
      "per sample and channel over H, W; epsilon 1e-5 inside the square root")
def _(rng):
    x = randn(rng, 2, 3, 3, 4, scale=2.0) + 0.5
    g, be = pos(rng, 3), randn(rng, 3)
    r = lambda a: np.asarray(a, np.float64).reshape(1, 3, 1, 1)  # noqa: E731
    (xd,) = f64(x)
    mean = xd.mean(axis=(2, 3), keepdims=True)
    var = xd.var(axis=(2, 3), keepdims=True)
    y = r(g) * (xd - mean) / np.sqrt(var + 1e-5) + r(be)
    nb = net({"x": x}, {"y": y})
    nb.add_batchnorm("in", 3, g, be, None, None, "x", "y", compute_mean_var=True,
                     instance_normalization=True, epsilon=1e-5)
    return nb, {"x": x}, {"y": y}


@case("layer_normalization", "layerNormalization over the last axis ([4]) and over the last "
      "two axes ([3, 4]) of [2, 3, 4]")
def _(rng):
    x = randn(rng, 2, 3, 4, scale=2.0)
    g1, b1, g2, b2 = pos(rng, 4), randn(rng, 4), pos(rng, 3, 4), randn(rng, 3, 4)
    (xd,) = f64(x)

    def ln(axes, g, b):
        m = xd.mean(axis=axes, keepdims=True)
        v = xd.var(axis=axes, keepdims=True)
        return (xd - m) / np.sqrt(v + 1e-5) * g + b

    outs = {"y_last": ln((-1,), g1, b1), "y_last2": ln((-2, -1), g2, b2)}
    nb = net({"x": x}, outs)
    nb.add_layer_normalization("ln1", "x", "y_last", [4], g1, b1, eps=1e-5)
    nb.add_layer_normalization("ln2", "x", "y_last2", [3, 4], g2, b2, eps=1e-5)
    return nb, {"x": x}, outs


@case("mvn", "mvn on rank-5-mapped [2,3,4]: within channel (over H, W) with variance, and "
      "across channels mean only. epsilon 1e-9 so its placement does not matter",
      rtol=1e-4, atol=1e-4)
def _(rng):
    x = randn(rng, 2, 3, 4, scale=2.0) + 1.0
    (xd,) = f64(x)
    m = xd.mean(axis=(1, 2), keepdims=True)
    y1 = (xd - m) / np.sqrt(xd.var(axis=(1, 2), keepdims=True))
    y2 = xd - xd.mean()
    outs = {"y_within": y1, "y_across": y2}
    nb = net({"x": x}, outs, rank5=True)
    nb.add_mvn("mvn1", "x", "y_within", across_channels=False, normalize_variance=True,
               epsilon=1e-9)
    nb.add_mvn("mvn2", "x", "y_across", across_channels=True, normalize_variance=False,
               epsilon=1e-9)
    return nb, {"x": x}, outs


@case("l2_normalize", "l2normalize of a rank-5-mapped [2,3,4]: over C, H, W; epsilon 1e-6")
def _(rng):
    x = randn(rng, 2, 3, 4)
    (xd,) = f64(x)
    y = xd / np.sqrt((xd ** 2).sum() + 1e-6)
    nb = net({"x": x}, {"y": y}, rank5=True)
    nb.add_l2_normalize("l2", "x", "y", epsilon=1e-6)
    return nb, {"x": x}, {"y": y}


@case("lrn", "lrn across channels: localSize 3, alpha 0.3, beta 0.75, k 2, on [5, 2, 3]")
def _(rng):
    x = randn(rng, 5, 2, 3, scale=2.0)
    (xd,) = f64(x)
    sq = np.pad(xd ** 2, ((1, 1), (0, 0), (0, 0)))
    s = sq[:-2] + sq[1:-1] + sq[2:]
    y = xd / (2.0 + 0.3 / 3 * s) ** 0.75
    nb = net({"x": x}, {"y": y}, rank5=True)
    nb.add_lrn("lrn", "x", "y", alpha=0.3, beta=0.75, local_size=3, k=2.0)
    return nb, {"x": x}, {"y": y}


# ================================================================ activations

ACTIVATIONS = [
    # (case suffix, builder kind, params, numpy function, input scale)
    ("linear", "LINEAR", [0.5, -0.25], lambda x: 0.5 * x - 0.25),
    ("relu", "RELU", None, lambda x: np.maximum(x, 0)),
    ("leaky_relu", "LEAKYRELU", [0.1], lambda x: np.where(x >= 0, x, 0.1 * x)),
    ("thresholded_relu", "THRESHOLDEDRELU", 0.4, lambda x: np.where(x >= 0.4, x, 0.0)),
    ("tanh", "TANH", None, np.tanh),
    ("scaled_tanh", "SCALED_TANH", [1.7, 0.66], lambda x: 1.7 * np.tanh(0.66 * x)),
    ("sigmoid", "SIGMOID", None, sigmoid),
    ("sigmoid_hard", "SIGMOID_HARD", [0.25, 0.4],
     lambda x: np.minimum(np.maximum(0.25 * x + 0.4, 0), 1)),
    ("elu", "ELU", 0.7, lambda x: np.where(x >= 0, x, 0.7 * (np.exp(x) - 1))),
    ("softsign", "SOFTSIGN", None, lambda x: x / (1 + np.abs(x))),
    ("softplus", "SOFTPLUS", None, lambda x: np.log1p(np.exp(x))),
]


def _activation_case(kind, params, fn):
    def build(rng):
        x = randn(rng, 1, 3, 4, 5, scale=2.0)
        y = fn(f64(x)[0])
        nb = net({"x": x}, {"y": y})
        nb.add_activation("act", kind, "x", "y", params=params)
        return nb, {"x": x}, {"y": y}

    return build


for _suffix, _kind, _params, _fn in ACTIVATIONS:
    case(f"activation_{_suffix}", f"activation {_kind} with params {_params} on [1,3,4,5]")(
        _activation_case(_kind, _params, _fn))


@case("activation_prelu", "activation PReLU with one alpha per channel (axis -3) on [1,3,4,5]")
def _(rng):
    x = randn(rng, 1, 3, 4, 5)
    alpha = np.array([0.1, 0.25, -0.5], F32)
    y = np.where(x >= 0, x, alpha.reshape(3, 1, 1).astype(np.float64) * x)
    nb = net({"x": x}, {"y": y})
    nb.add_activation("act", "PRELU", "x", "y", params=alpha)
    return nb, {"x": x}, {"y": y}


@case("activation_parametric_softplus",
      "activation parametricSoftplus with per-channel alpha, beta on [1,3,4,5]")
def _(rng):
    x = randn(rng, 1, 3, 4, 5)
    a, b = np.array([0.5, 1.0, 2.0], F32), np.array([1.5, 1.0, 0.5], F32)
    y = a.reshape(3, 1, 1) * np.log1p(np.exp(b.reshape(3, 1, 1) * f64(x)[0]))
    nb = net({"x": x}, {"y": y})
    nb.add_activation("act", "PARAMETRICSOFTPLUS", "x", "y", params=[a, b])
    return nb, {"x": x}, {"y": y}


@case("gelu_modes", "gelu EXACT, TANH_APPROXIMATION and SIGMOID_APPROXIMATION on [2, 8]")
def _(rng):
    x = randn(rng, 2, 8, scale=2.0)
    (xd,) = f64(x)
    outs = {
        "y_exact": 0.5 * xd * (1 + erf(xd / math.sqrt(2))),
        "y_tanh": 0.5 * xd * (1 + np.tanh(math.sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3))),
        "y_sigmoid": xd * sigmoid(1.702 * xd),
    }
    nb = net({"x": x}, outs)
    nb.add_gelu("g1", "x", "y_exact", mode="EXACT")
    nb.add_gelu("g2", "x", "y_tanh", mode="TANH_APPROXIMATION")
    nb.add_gelu("g3", "x", "y_sigmoid", mode="SIGMOID_APPROXIMATION")
    return nb, {"x": x}, outs


@case("softmax_legacy", "softmax (legacy) over axis -3 of a rank-5-mapped [4, 2, 3]")
def _(rng):
    x = randn(rng, 4, 2, 3, scale=2.0)
    (xd,) = f64(x)
    e = np.exp(xd - xd.max(axis=0))
    y = e / e.sum(axis=0)
    nb = net({"x": x}, {"y": y}, rank5=True)
    nb.add_softmax("sm", "x", "y")
    return nb, {"x": x}, {"y": y}


@case("softmax_nd", "softmaxND with negative axis -2 on [2, 3, 4]")
def _(rng):
    x = randn(rng, 2, 3, 4, scale=2.0)
    (xd,) = f64(x)
    e = np.exp(xd - xd.max(axis=-2, keepdims=True))
    y = e / e.sum(axis=-2, keepdims=True)
    nb = net({"x": x}, {"y": y})
    nb.add_softmax_nd("sm", "x", "y", axis=-2)
    return nb, {"x": x}, {"y": y}


# ================================================================ pooling


def pool_case(rng, hw, kind, k, s, padding, exclude=True, pads=(0, 0, 0, 0), top_left=False,
              is_global=False):
    x = randn(rng, 1, 2, *hw)
    out_hw = None
    if is_global:
        k, s = hw, (1, 1)
    if padding == "SAME":
        pads = same_pads(hw[0], k[0], s[0], top_left) + same_pads(hw[1], k[1], s[1], top_left)
    elif padding == "INCLUDE_LAST_PIXEL":
        out_hw = []
        for d, p in ((0, pads[0]), (1, pads[2])):
            o = math.ceil((hw[d] + 2 * p - k[d]) / s[d]) + 1
            if p > 0 and (o - 1) * s[d] >= hw[d] + p:
                o -= 1
            out_hw.append(o)
    y = pool2d(x, kind, k, s, pads, exclude, out_hw)
    nb = net({"x": x}, {"y": y})
    nb.add_pooling("pool", k[0], k[1], s[0], s[1], kind, padding, "x", "y",
                   exclude_pad_area=exclude, is_global=is_global, padding_top=pads[0],
                   padding_bottom=pads[1], padding_left=pads[2], padding_right=pads[3],
                   same_padding_asymmetry_mode="TOP_LEFT_HEAVY" if top_left else "BOTTOM_RIGHT_HEAVY")
    return nb, {"x": x}, {"y": y}


@case("pool_max_valid", "max pooling 3x3 stride 2 valid on 7x7")
def _(rng):
    return pool_case(rng, (7, 7), "MAX", (3, 3), (2, 2), "VALID")


@case("pool_max_same_top_left", "max pooling 3x3 stride 2 same on 6x6, TOP_LEFT_HEAVY")
def _(rng):
    return pool_case(rng, (6, 6), "MAX", (3, 3), (2, 2), "SAME", top_left=True)


@case("pool_avg_same_exclude_padding", "average pooling 3x3 stride 2 same on 6x5, "
      "avgPoolExcludePadding true (divide by the count of real cells)")
def _(rng):
    return pool_case(rng, (6, 5), "AVERAGE", (3, 3), (2, 2), "SAME", exclude=True)


@case("pool_avg_same_include_padding", "average pooling 3x3 stride 2 same on 6x5, "
      "avgPoolExcludePadding false (divide by 9, padded zeros count)")
def _(rng):
    return pool_case(rng, (6, 5), "AVERAGE", (3, 3), (2, 2), "SAME", exclude=False)


@case("pool_avg_valid_padded", "average pooling 2x3 stride 1x2 valid with paddingAmounts "
      "top 1 bottom 1 left 2 right 0, avgPoolExcludePadding false")
def _(rng):
    return pool_case(rng, (5, 6), "AVERAGE", (2, 3), (1, 2), "VALID", exclude=False,
                     pads=(1, 1, 2, 0))


@case("pool_l2_valid", "L2 pooling 2x2 stride 2 valid on 6x6")
def _(rng):
    return pool_case(rng, (6, 6), "L2", (2, 2), (2, 2), "VALID")


@case("pool_global_avg", "global average pooling on [1, 2, 5, 6]")
def _(rng):
    return pool_case(rng, (5, 6), "AVERAGE", (1, 1), (1, 1), "VALID", is_global=True)


@case("pool_global_max", "global max pooling on [1, 2, 5, 6]")
def _(rng):
    return pool_case(rng, (5, 6), "MAX", (1, 1), (1, 1), "VALID", is_global=True)


@case("pool_max_include_last_pixel", "max pooling 3x3 stride 2 includeLastPixel padding 1 on "
      "6x6: H_out = ceil((6+2-3)/2)+1 = 4, the last window overhangs the padded input")
def _(rng):
    return pool_case(rng, (6, 6), "MAX", (3, 3), (2, 2), "INCLUDE_LAST_PIXEL", pads=(1, 1, 1, 1))


@case("pool_avg_include_last_pixel", "average pooling 3x3 stride 2 includeLastPixel padding 1 "
      "on 7x7 (no overhang), avgPoolExcludePadding true")
def _(rng):
    return pool_case(rng, (7, 7), "AVERAGE", (3, 3), (2, 2), "INCLUDE_LAST_PIXEL",
                     pads=(1, 1, 1, 1), exclude=True)


@case("pool_avg_include_last_pixel_overhang", "average pooling 3x3 stride 2 includeLastPixel "
      "padding 1 on 6x6 (last window overhangs the padded input), avgPoolExcludePadding false "
      "then true. Assumed, as PyTorch ceil_mode (which coremltools lowers to includeLastPixel): "
      "the window is clipped to the padded input and, without exclusion, divided by the cells "
      "it keeps there")
def _(rng):
    x = randn(rng, 1, 2, 6, 6)
    outs = {"y_count_padding": pool2d(x, "AVERAGE", (3, 3), (2, 2), (1, 1, 1, 1), False, (4, 4)),
            "y_exclude_padding": pool2d(x, "AVERAGE", (3, 3), (2, 2), (1, 1, 1, 1), True, (4, 4))}
    nb = net({"x": x}, outs)
    for out, exclude in (("y_count_padding", False), ("y_exclude_padding", True)):
        nb.add_pooling(out, 3, 3, 2, 2, "AVERAGE", "INCLUDE_LAST_PIXEL", "x", out,
                       exclude_pad_area=exclude, padding_top=1, padding_bottom=1,
                       padding_left=1, padding_right=1)
    return nb, {"x": x}, outs


# ================================================================ padding, upsample, resize


@case("padding_modes", "padding (legacy) constant 0.5, reflection, replication; top 1 "
      "bottom 2 left 2 right 0 on a rank-5-mapped [2, 3, 4]")
def _(rng):
    x = randn(rng, 2, 3, 4)
    p = ((0, 0), (1, 2), (2, 0))
    outs = {
        "y_constant": np.pad(f64(x)[0], p, constant_values=0.5),
        "y_reflect": np.pad(f64(x)[0], p, mode="reflect"),
        "y_replicate": np.pad(f64(x)[0], p, mode="edge"),
    }
    nb = net({"x": x}, outs, rank5=True)
    for mode, out in (("constant", "y_constant"), ("reflection", "y_reflect"),
                      ("replication", "y_replicate")):
        nb.add_padding(out, left=2, right=0, top=1, bottom=2, value=0.5, input_name="x",
                       output_name=out, padding_type=mode)
    return nb, {"x": x}, outs


@case("upsample_nearest", "upsample NN with integer factors [2, 3] on [1, 2, 3, 4]")
def _(rng):
    x = randn(rng, 1, 2, 3, 4)
    y = np.repeat(np.repeat(f64(x)[0], 2, axis=2), 3, axis=3)
    nb = net({"x": x}, {"y": y})
    nb.add_upsample("up", 2, 3, "x", "y", mode="NN")
    return nb, {"x": x}, {"y": y}


def _upsample_bilinear(rng, sh, sw, mode):
    x = randn(rng, 1, 2, 4, 4)
    ho, wo = int(math.floor(4 * sh)), int(math.floor(4 * sw))
    y = bilinear(x, upsample_grid(4, ho, mode), upsample_grid(4, wo, mode))
    nb = net({"x": x}, {"y": y})
    nb.add_upsample("up", sh, sw, "x", "y", mode="BILINEAR", linear_upsample_mode=mode)
    return nb, {"x": x}, {"y": y}


@case("upsample_bilinear_default", "upsample BILINEAR factor [2, 3], linearUpsampleMode "
      "DEFAULT: spacing (X_in - X_in/X_out)/(X_out - 1)")
def _(rng):
    return _upsample_bilinear(rng, 2, 3, "DEFAULT")


@case("upsample_bilinear_align_corners_true", "upsample BILINEAR factor 2, ALIGN_CORNERS_TRUE")
def _(rng):
    return _upsample_bilinear(rng, 2, 2, "ALIGN_CORNERS_TRUE")


@case("upsample_bilinear_align_corners_false",
      "upsample BILINEAR factor 2, ALIGN_CORNERS_FALSE (half-pixel centres)")
def _(rng):
    return _upsample_bilinear(rng, 2, 2, "ALIGN_CORNERS_FALSE")


@case("upsample_fractional_align_true", "upsample BILINEAR fractionalScalingFactor [1.5, 2.5] "
      "(4x4 -> 6x10), ALIGN_CORNERS_TRUE")
def _(rng):
    return _upsample_bilinear(rng, 1.5, 2.5, "ALIGN_CORNERS_TRUE")


@case("upsample_fractional_align_false", "upsample BILINEAR fractionalScalingFactor [1.5, 2.5] "
      "(4x4 -> 6x10), ALIGN_CORNERS_FALSE")
def _(rng):
    return _upsample_bilinear(rng, 1.5, 2.5, "ALIGN_CORNERS_FALSE")


@case("resize_bilinear_modes", "resizeBilinear [3, 4] -> [5, 7] with each SamplingMode: "
      "STRICT_ALIGN_ENDPOINTS, ALIGN_ENDPOINTS, UPSAMPLE, ROI_ALIGN")
def _(rng):
    x = randn(rng, 1, 2, 3, 4)
    modes = ["STRICT_ALIGN_ENDPOINTS_MODE", "ALIGN_ENDPOINTS_MODE", "UPSAMPLE_MODE",
             "ROI_ALIGN_MODE"]
    outs = {f"y_{m.lower().replace('_mode', '')}": bilinear(x, resize_grid(3, 5, m),
                                                          resize_grid(4, 7, m)) for m in modes}
    nb = net({"x": x}, outs)
    for m, out in zip(modes, outs):
        nb.add_resize_bilinear(out, "x", out, target_height=5, target_width=7, mode=m)
    return nb, {"x": x}, outs


@case("resize_bilinear_downscale", "resizeBilinear [4, 6] -> [1, 3], ALIGN_ENDPOINTS_MODE "
      "(N == 1 samples the centre)")
def _(rng):
    x = randn(rng, 1, 2, 4, 6)
    y = bilinear(x, resize_grid(4, 1, "ALIGN_ENDPOINTS_MODE"),
                 resize_grid(6, 3, "ALIGN_ENDPOINTS_MODE"))
    nb = net({"x": x}, {"y": y})
    nb.add_resize_bilinear("rs", "x", "y", target_height=1, target_width=3,
                           mode="ALIGN_ENDPOINTS_MODE")
    return nb, {"x": x}, {"y": y}


# ================================================================ unary and elementwise


@case("unary_legacy", "unary (legacy) sqrt, rsqrt (eps 1e-4), inverse (eps 1e-4), power 1.5, "
      "exp with scale 0.5 shift -1, log, abs, threshold 0.2 on a rank-5-mapped [2, 3, 4]")
def _(rng):
    x = pos(rng, 2, 3, 4, lo=0.2, hi=3.0)
    s = randn(rng, 2, 3, 4)
    xd, sd = f64(x, s)
    outs = {
        "y_sqrt": np.sqrt(xd), "y_rsqrt": 1 / np.sqrt(xd + 1e-4), "y_inverse": 1 / (xd + 1e-4),
        "y_power": xd ** 1.5, "y_exp": np.exp(0.5 * sd - 1), "y_log": np.log(xd),
        "y_abs": np.abs(sd), "y_threshold": np.maximum(0.2, sd),
    }
    nb = net({"x": x, "s": s}, outs, rank5=True)
    nb.add_unary("sqrt", "x", "y_sqrt", "sqrt")
    nb.add_unary("rsqrt", "x", "y_rsqrt", "rsqrt", epsilon=1e-4)
    nb.add_unary("inverse", "x", "y_inverse", "inverse", epsilon=1e-4)
    nb.add_unary("power", "x", "y_power", "power", alpha=1.5)
    nb.add_unary("exp", "s", "y_exp", "exp", scale=0.5, shift=-1.0)
    nb.add_unary("log", "x", "y_log", "log")
    nb.add_unary("abs", "s", "y_abs", "abs")
    nb.add_unary("threshold", "s", "y_threshold", "threshold", alpha=0.2)
    return nb, {"x": x, "s": s}, outs


@case("unary_nd_math", "ND unary layers: ceil, floor, round, sign, sin, cos, tan, tanh, erf, "
      "exp2, asinh on [2, 3, 4]")
def _(rng):
    x = randn(rng, 2, 3, 4, scale=1.3)
    (xd,) = f64(x)
    fns = {"ceil": np.ceil, "floor": np.floor, "round": np.round, "sign": np.sign,
           "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "erf": erf,
           "exp2": np.exp2, "asinh": np.arcsinh}
    outs = {f"y_{k}": fn(xd) for k, fn in fns.items()}
    nb = net({"x": x}, outs)
    for k in fns:
        getattr(nb, f"add_{k}")(k, "x", f"y_{k}")
    return nb, {"x": x}, outs


@case("elementwise_legacy_rank5", "legacy add/multiply/max/min/average with rank-5 "
      "broadcasting: [3,4,5] with [3] (-> [1,1,3,1,1]) and [1,4,5]; add and multiply with "
      "alpha on a single input")
def _(rng):
    a, c, s = randn(rng, 3, 4, 5), randn(rng, 3), randn(rng, 1, 4, 5)
    ad, cd, sd = f64(a, c, s)
    cb = cd.reshape(3, 1, 1)
    outs = {
        "y_add": ad + cb + sd, "y_mul": ad * sd, "y_max": np.maximum(ad, cb),
        "y_min": np.minimum(ad, sd), "y_ave": (ad + cb + sd) / 3, "y_add_alpha": ad + 0.75,
        "y_mul_alpha": ad * -1.5,
    }
    nb = net({"a": a, "c": c, "s": s}, outs, rank5=True)
    nb.add_elementwise("add", ["a", "c", "s"], "y_add", "ADD")
    nb.add_elementwise("mul", ["a", "s"], "y_mul", "MULTIPLY")
    nb.add_elementwise("max", ["a", "c"], "y_max", "MAX")
    nb.add_elementwise("min", ["a", "s"], "y_min", "MIN")
    nb.add_elementwise("ave", ["a", "c", "s"], "y_ave", "AVE")
    nb.add_elementwise("add_alpha", ["a"], "y_add_alpha", "ADD", alpha=0.75)
    nb.add_elementwise("mul_alpha", ["a"], "y_mul_alpha", "MULTIPLY", alpha=-1.5)
    return nb, {"a": a, "c": c, "s": s}, outs


@case("elementwise_legacy_exact_rank", "legacy add/multiply on rank-4 [2,3,4,5] with "
      "[2,3,1,1] and [2,1,4,5] (EXACT mapping)")
def _(rng):
    a, c, s = randn(rng, 2, 3, 4, 5), randn(rng, 2, 3, 1, 1), randn(rng, 2, 1, 4, 5)
    ad, cd, sd = f64(a, c, s)
    outs = {"y_add": ad + cd, "y_mul": ad * sd}
    nb = net({"a": a, "c": c, "s": s}, outs)
    nb.add_elementwise("add", ["a", "c"], "y_add", "ADD")
    nb.add_elementwise("mul", ["a", "s"], "y_mul", "MULTIPLY")
    return nb, {"a": a, "c": c, "s": s}, outs


@case("elementwise_broadcastable", "addBroadcastable, subtractBroadcastable, "
      "multiplyBroadcastable, divideBroadcastable, maxBroadcastable, minBroadcastable, "
      "powBroadcastable with numpy broadcasting of [2,3,4], [3,1] and [4]")
def _(rng):
    a, b, c = randn(rng, 2, 3, 4), randn(rng, 3, 1), randn(rng, 4)
    p = pos(rng, 2, 3, 4, lo=0.3, hi=2.0)
    d = (np.sign(randn(rng, 3, 1)) * pos(rng, 3, 1, lo=0.5, hi=2.0)).astype(F32)
    ad, bd, cd, pd, dd = f64(a, b, c, p, d)
    outs = {
        "y_add": ad + bd, "y_sub": bd - cd, "y_mul": ad * cd, "y_div": ad / dd,
        "y_max": np.maximum(ad, bd), "y_min": np.minimum(cd, ad), "y_pow": pd ** bd,
    }
    ins = {"a": a, "b": b, "c": c, "p": p, "d": d}
    nb = net(ins, outs)
    nb.add_add_broadcastable("add", ["a", "b"], "y_add")
    nb.add_subtract_broadcastable("sub", ["b", "c"], "y_sub")
    nb.add_multiply_broadcastable("mul", ["a", "c"], "y_mul")
    nb.add_divide_broadcastable("div", ["a", "d"], "y_div")
    nb.add_max_broadcastable("max", ["a", "b"], "y_max")
    nb.add_min_broadcastable("min", ["c", "a"], "y_min")
    nb.add_pow_broadcastable("pow", ["p", "b"], "y_pow")
    return nb, ins, outs


@case("comparisons", "greaterThan, greaterEqual, lessThan (with alpha, one input), "
      "lessEqual, equal, notEqual with broadcasting; outputs are 1.0 / 0.0")
def _(rng):
    a = np.round(randn(rng, 2, 3, 4, scale=1.5))
    b = np.round(randn(rng, 3, 1, scale=1.5))
    ad, bd = f64(a, b)
    outs = {
        "y_gt": ad > bd, "y_ge": ad >= bd, "y_lt_alpha": ad < 0.5, "y_le": ad <= bd,
        "y_eq": ad == bd, "y_ne": ad != bd,
    }
    outs = {k: v.astype(F32) for k, v in outs.items()}
    nb = net({"a": a, "b": b}, outs)
    nb.add_greater_than("gt", ["a", "b"], "y_gt")
    nb.add_greater_than("ge", ["a", "b"], "y_ge", use_greater_than_equal=True)
    nb.add_less_than("lt", ["a"], "y_lt_alpha", alpha=0.5)
    nb.add_less_than("le", ["a", "b"], "y_le", use_less_than_equal=True)
    nb.add_equal("eq", ["a", "b"], "y_eq")
    nb.add_not_equal("ne", ["a", "b"], "y_ne")
    return nb, {"a": a, "b": b}, outs


@case("logical", "logical and, or, xor (broadcast [2,3] with [3]) and not; 0.0 is false, "
      "1.0 is true")
def _(rng):
    a = (rng.random((2, 3)) > 0.5).astype(F32)
    b = np.array([1.0, 0.0, 1.0], F32)
    outs = {
        "y_and": np.logical_and(a, b), "y_or": np.logical_or(a, b),
        "y_xor": np.logical_xor(a, b), "y_not": np.logical_not(a),
    }
    outs = {k: v.astype(F32) for k, v in outs.items()}
    nb = net({"a": a, "b": b}, outs)
    nb.add_logical("and", ["a", "b"], "y_and", "AND")
    nb.add_logical("or", ["a", "b"], "y_or", "OR")
    nb.add_logical("xor", ["a", "b"], "y_xor", "XOR")
    nb.add_logical("not", ["a"], "y_not", "NOT")
    return nb, {"a": a, "b": b}, outs


@case("where_broadcastable", "whereBroadcastable(cond [3,1], x [2,3,4], y [4])")
def _(rng):
    cond = np.array([[1.0], [0.0], [1.0]], F32)
    x, y = randn(rng, 2, 3, 4), randn(rng, 4)
    out = np.where(cond != 0, f64(x)[0], f64(y)[0])
    ins = {"cond": cond, "x": x, "y": y}
    nb = net(ins, {"out": out})
    nb.add_where_broadcastable("where", ["cond", "x", "y"], "out")
    return nb, ins, {"out": out}


@case("clip", "clip to [-0.5, 0.7] on [2, 3, 4]")
def _(rng):
    x = randn(rng, 2, 3, 4)
    y = np.clip(f64(x)[0], -0.5, 0.7)
    nb = net({"x": x}, {"y": y})
    nb.add_clip("clip", "x", "y", min_value=-0.5, max_value=0.7)
    return nb, {"x": x}, {"y": y}


# ================================================================ reductions


@case("reduce_legacy", "reduce (legacy) SUM over C, AVG over HW, PROD over W, LOGSUM over CHW "
      "(sum of ln(x + 1e-6)), SUMSQUARE over H, L1 over W, L2 over HW, MAX over C, MIN over H, "
      "ARGMAX over W, on a rank-5-mapped [3, 4, 5] (positive values)")
def _(rng):
    x = pos(rng, 3, 4, 5, lo=0.5, hi=1.5)
    (xd,) = f64(x)
    ax = {"CHW": (0, 1, 2), "HW": (1, 2), "C": (0,), "H": (1,), "W": (2,)}
    specs = [("sum", "C", lambda v, a: v.sum(a, keepdims=True)),
             ("avg", "HW", lambda v, a: v.mean(a, keepdims=True)),
             ("prod", "W", lambda v, a: v.prod(a, keepdims=True)),
             ("logsum", "CHW", lambda v, a: np.log(v + 1e-6).sum(a, keepdims=True)),
             ("sumsquare", "H", lambda v, a: (v ** 2).sum(a, keepdims=True)),
             ("l1", "W", lambda v, a: np.abs(v).sum(a, keepdims=True)),
             ("l2", "HW", lambda v, a: np.sqrt((v ** 2).sum(a, keepdims=True))),
             ("max", "C", lambda v, a: v.max(a, keepdims=True)),
             ("min", "H", lambda v, a: v.min(a, keepdims=True)),
             ("argmax", "W", lambda v, a: np.expand_dims(v.argmax(a[0]), a[0]))]
    outs = {f"y_{m}": fn(xd, ax[a]) for m, a, fn in specs}
    nb = net({"x": x}, outs, rank5=True)
    for m, a, _fn in specs:
        nb.add_reduce(m, "x", f"y_{m}", axis=a, mode=m, epsilon=1e-6)
    return nb, {"x": x}, outs


@case("reduce_nd", "reduceSum axes [1] keepdims, reduceMean [-1] no keepdims, reduceMax "
      "[0, 2], reduceMin reduce_all, reduceProd [2], reduceL1 [1], reduceL2 [-1], reduceLogSum "
      "[1], reduceSumSquare [0] no keepdims, reduceLogSumExp [-1] on [2, 3, 4]")
def _(rng):
    x = pos(rng, 2, 3, 4, lo=0.3, hi=1.8)
    (xd,) = f64(x)
    specs = [
        ("sum", dict(axes=[1], keepdims=True), xd.sum(1, keepdims=True)),
        ("mean", dict(axes=[-1], keepdims=False), xd.mean(-1)),
        ("max", dict(axes=[0, 2], keepdims=True), xd.max((0, 2), keepdims=True)),
        ("min", dict(reduce_all=True, keepdims=False), np.array([xd.min()])),
        ("prod", dict(axes=[2], keepdims=True), xd.prod(2, keepdims=True)),
        ("l1", dict(axes=[1], keepdims=True), np.abs(xd).sum(1, keepdims=True)),
        ("l2", dict(axes=[-1], keepdims=True), np.sqrt((xd ** 2).sum(-1, keepdims=True))),
        ("logsum", dict(axes=[1], keepdims=True), np.log(xd.sum(1, keepdims=True))),
        ("sumsquare", dict(axes=[0], keepdims=False), (xd ** 2).sum(0)),
        ("logsumexp", dict(axes=[-1], keepdims=True),
         np.log(np.exp(xd).sum(-1, keepdims=True))),
    ]
    outs = {f"y_{m}": v for m, _kw, v in specs}
    nb = net({"x": x}, outs)
    for m, kw, _v in specs:
        getattr(nb, f"add_reduce_{m}")(m, "x", f"y_{m}", **kw)
    return nb, {"x": x}, outs


# ================================================================ shape manipulation


@case("concat_legacy", "concat (legacy) along C of rank-5-mapped [2,3,4] and [1,3,4]")
def _(rng):
    a, b = randn(rng, 2, 3, 4), randn(rng, 1, 3, 4)
    y = np.concatenate([a, b], 0)
    nb = net({"a": a, "b": b}, {"y": y}, rank5=True)
    nb.add_elementwise("concat", ["a", "b"], "y", "CONCAT")
    return nb, {"a": a, "b": b}, {"y": y}


@case("concat_sequence", "concat with sequenceConcat along axis -5 of [2,1,3,1,1] and "
      "[1,1,3,1,1]")
def _(rng):
    a, b = randn(rng, 2, 1, 3, 1, 1), randn(rng, 1, 1, 3, 1, 1)
    y = np.concatenate([a, b], 0)
    nb = net({"a": a, "b": b}, {"y": y})
    nb.add_elementwise("concat", ["a", "b"], "y", "SEQUENCE_CONCAT")
    return nb, {"a": a, "b": b}, {"y": y}


@case("concat_nd", "concatND along axis -2 of [2,3,4], [2,1,4], [2,2,4]")
def _(rng):
    a, b, c = randn(rng, 2, 3, 4), randn(rng, 2, 1, 4), randn(rng, 2, 2, 4)
    y = np.concatenate([a, b, c], -2)
    nb = net({"a": a, "b": b, "c": c}, {"y": y})
    nb.add_concat_nd("concat", ["a", "b", "c"], "y", axis=-2)
    return nb, {"a": a, "b": b, "c": c}, {"y": y}


@case("split_legacy", "split (legacy) of a rank-5-mapped [4, 2, 3] into 2 along C")
def _(rng):
    x = randn(rng, 4, 2, 3)
    outs = {"y0": x[:2], "y1": x[2:]}
    nb = net({"x": x}, outs, rank5=True)
    nb.add_split("split", "x", ["y0", "y1"])
    return nb, {"x": x}, outs


@case("split_nd", "splitND of [2, 4, 6]: 2 equal parts along axis 1, sizes [1, 2, 3] along -1")
def _(rng):
    x = randn(rng, 2, 4, 6)
    outs = {"a0": x[:, :2], "a1": x[:, 2:], "b0": x[..., :1], "b1": x[..., 1:3],
            "b2": x[..., 3:]}
    nb = net({"x": x}, outs)
    nb.add_split_nd("split_a", "x", ["a0", "a1"], axis=1, num_splits=2)
    nb.add_split_nd("split_b", "x", ["b0", "b1", "b2"], axis=-1, split_sizes=[1, 2, 3])
    return nb, {"x": x}, outs


@case("reshape_legacy", "reshape (legacy) of a rank-5-mapped [2,3,4] to [4,3,2] in "
      "CHANNEL_FIRST order and to [3,2,4] in CHANNEL_LAST order")
def _(rng):
    x = randn(rng, 2, 3, 4)
    y_first = x.reshape(4, 3, 2)
    # CHANNEL_LAST: flatten in H, W, C order, reshape to [H_out, W_out, C_out], permute to C, H, W
    y_last = x.transpose(1, 2, 0).reshape(2, 4, 3).transpose(2, 0, 1)
    outs = {"y_first": y_first, "y_last": y_last}
    nb = net({"x": x}, outs, rank5=True)
    nb.add_reshape("r1", "x", "y_first", (4, 3, 2), 0)
    nb.add_reshape("r2", "x", "y_last", (3, 2, 4), 1)
    return nb, {"x": x}, outs


@case("reshape_nd", "reshapeStatic [2,3,4] -> [4,6]; reshapeDynamic with the shape [3,2,4] as "
      "a second input; reshapeLike to the shape of a [6,4] input; rankPreservingReshape")
def _(rng):
    x, ref = randn(rng, 2, 3, 4), randn(rng, 6, 4)
    shape = np.array([3, 2, 4], F32)
    outs = {"y_static": x.reshape(4, 6), "y_dynamic": x.reshape(3, 2, 4),
            "y_like": x.reshape(6, 4), "y_rank": x.reshape(2, 4, 3)}
    ins = {"x": x, "shape": shape, "ref": ref}
    nb = net(ins, outs)
    nb.add_reshape_static("rs", "x", "y_static", [4, 6])
    nb.add_reshape_dynamic("rd", ["x", "shape"], "y_dynamic")
    nb.add_reshape_like("rl", ["x", "ref"], "y_like")
    nb.add_rank_preserving_reshape("rp", "x", "y_rank", [2, 4, 3])
    return nb, ins, outs


@case("flatten_legacy", "flatten (legacy) of a rank-5-mapped [2,3,4] in CHANNEL_FIRST and "
      "CHANNEL_LAST order -> [24, 1, 1]")
def _(rng):
    x = randn(rng, 2, 3, 4)
    outs = {"y_first": x.reshape(24, 1, 1), "y_last": x.transpose(1, 2, 0).reshape(24, 1, 1)}
    nb = net({"x": x}, outs, rank5=True)
    nb.add_flatten("f1", 0, "x", "y_first")
    nb.add_flatten("f2", 1, "x", "y_last")
    return nb, {"x": x}, outs


@case("flatten_to_2d", "flattenTo2D of [2,3,4] with axis 1 -> [2,12] and axis -1 -> [6,4]")
def _(rng):
    x = randn(rng, 2, 3, 4)
    outs = {"y_axis1": x.reshape(2, 12), "y_axis_m1": x.reshape(6, 4)}
    nb = net({"x": x}, outs)
    nb.add_flatten_to_2d("f1", "x", "y_axis1", axis=1)
    nb.add_flatten_to_2d("f2", "x", "y_axis_m1", axis=-1)
    return nb, {"x": x}, outs


@case("expand_squeeze", "expandDims axes [0, -1] on [3,4]; squeeze axes [1] and squeezeAll "
      "on [2,1,3,1]")
def _(rng):
    x, s = randn(rng, 3, 4), randn(rng, 2, 1, 3, 1)
    outs = {"y_expand": x.reshape(1, 3, 4, 1), "y_squeeze": s.reshape(2, 3, 1),
            "y_squeeze_all": s.reshape(2, 3)}
    nb = net({"x": x, "s": s}, outs)
    nb.add_expand_dims("e", "x", "y_expand", axes=[0, -1])
    nb.add_squeeze("s1", "s", "y_squeeze", axes=[1])
    nb.add_squeeze("s2", "s", "y_squeeze_all", squeeze_all=True)
    return nb, {"x": x, "s": s}, outs


@case("transpose", "transpose [2,3,4] with axes [2, 0, 1]")
def _(rng):
    x = randn(rng, 2, 3, 4)
    y = x.transpose(2, 0, 1)
    nb = net({"x": x}, {"y": y})
    nb.add_transpose("t", [2, 0, 1], "x", "y")
    return nb, {"x": x}, {"y": y}


@case("permute_legacy", "permute (legacy) of a rank-5-mapped [2,3,4] with axis [0,3,2,1] "
      "(over Seq, C, H, W): output [W, H, C] = [4, 3, 2]")
def _(rng):
    x = randn(rng, 2, 3, 4)
    y = x.transpose(2, 1, 0)
    nb = net({"x": x}, {"y": y}, rank5=True)
    nb.add_permute("p", (0, 3, 2, 1), "x", "y")
    return nb, {"x": x}, {"y": y}


@case("slice_legacy", "slice (legacy) of a rank-5-mapped [4,5,6]: channel 1:4:2, height 0:-1, "
      "width 2:6:3")
def _(rng):
    x = randn(rng, 4, 5, 6)
    outs = {"y_c": x[1:4:2], "y_h": x[:, 0:-1], "y_w": x[:, :, 2:6:3]}
    nb = net({"x": x}, outs, rank5=True)
    nb.add_slice("sc", "x", "y_c", "channel", 1, 4, 2)
    nb.add_slice("sh", "x", "y_h", "height", 0, -1, 1)
    nb.add_slice("sw", "x", "y_w", "width", 2, 6, 3)
    return nb, {"x": x}, outs


@case("slice_static", "sliceStatic of [4,5,6]: x[1:4:2, :, ::-2] with masks and a negative "
      "stride, and x[:3:2, 2, ::2] with a squeeze mask")
def _(rng):
    x = randn(rng, 4, 5, 6)
    outs = {"y_a": x[1:4:2, :, ::-2], "y_b": x[:3:2, 2, ::2]}
    nb = net({"x": x}, outs)
    nb.add_slice_static("sa", "x", "y_a", begin_ids=[1, 0, 0], end_ids=[4, 5, 0],
                        strides=[2, 1, -2], begin_masks=[False, True, True],
                        end_masks=[False, True, True])
    nb.add_slice_static("sb", "x", "y_b", begin_ids=[1, 2, 3], end_ids=[3, -3, 2],
                        strides=[2, 1, 2], begin_masks=[True, False, True],
                        end_masks=[False, False, True], squeeze_masks=[False, True, False])
    return nb, {"x": x}, outs


@case("slice_dynamic", "sliceDynamic of [4,5,6] with begin ids [1,0,2] as a second input, "
      "static end ids [3,5,6] and strides [1,2,1]")
def _(rng):
    x = randn(rng, 4, 5, 6)
    begin = np.array([1, 0, 2], F32)
    y = x[1:3, 0:5:2, 2:6]
    nb = net({"x": x, "begin": begin}, {"y": y})
    nb.add_slice_dynamic("sd", ["x", "begin"], "y", end_ids=[3, 5, 6], strides=[1, 2, 1],
                         begin_masks=[False] * 3, end_masks=[False] * 3)
    return nb, {"x": x, "begin": begin}, {"y": y}


@case("tile", "tile [2,3] with reps [2,3]")
def _(rng):
    x = randn(rng, 2, 3)
    y = np.tile(x, (2, 3))
    nb = net({"x": x}, {"y": y})
    nb.add_tile("tile", "x", "y", reps=[2, 3])
    return nb, {"x": x}, {"y": y}


# ================================================================ indexing


@case("gather", "gather along axis 1 of [3,4,5] with indices [[0, 3], [-1, 1]] (negative "
      "index allowed) -> [3,2,2,5]")
def _(rng):
    x = randn(rng, 3, 4, 5)
    idx = np.array([[0, 3], [-1, 1]], F32)
    y = np.take(x, idx.astype(int), axis=1)
    nb = net({"x": x, "idx": idx}, {"y": y})
    nb.add_gather("g", ["x", "idx"], "y", axis=1)
    return nb, {"x": x, "idx": idx}, {"y": y}


@case("gather_nd", "gatherND of [3,4,5] with indices [[2,1],[0,3]] -> [2,5]")
def _(rng):
    x = randn(rng, 3, 4, 5)
    idx = np.array([[2, 1], [0, 3]], F32)
    y = np.stack([x[2, 1], x[0, 3]])
    nb = net({"x": x, "idx": idx}, {"y": y})
    nb.add_gather_nd("g", ["x", "idx"], "y")
    return nb, {"x": x, "idx": idx}, {"y": y}


@case("gather_along_axis", "gatherAlongAxis of [3,4] with indices [3,2] along axis 1")
def _(rng):
    x = randn(rng, 3, 4)
    idx = np.array([[0, 3], [2, 2], [1, 0]], F32)
    y = np.take_along_axis(x, idx.astype(int), axis=1)
    nb = net({"x": x, "idx": idx}, {"y": y})
    nb.add_gather_along_axis("g", ["x", "idx"], "y", axis=1)
    return nb, {"x": x, "idx": idx}, {"y": y}


@case("scatter", "scatter along axis 0 of container [4,3] with indices [3, 1] and updates "
      "[2,3], modes SCATTER_UPDATE and SCATTER_ADD")
def _(rng):
    c, u = randn(rng, 4, 3), randn(rng, 2, 3)
    idx = np.array([3, 1], F32)
    y_update, y_add = c.copy(), c.astype(np.float64)
    y_update[[3, 1]] = u
    y_add[[3, 1]] += u
    ins = {"c": c, "idx": idx, "u": u}
    outs = {"y_update": y_update, "y_add": y_add}
    nb = net(ins, outs)
    nb.add_scatter("s1", ["c", "idx", "u"], "y_update", axis=0, mode="UPDATE")
    nb.add_scatter("s2", ["c", "idx", "u"], "y_add", axis=0, mode="ADD")
    return nb, ins, outs


@case("scatter_along_axis", "scatterAlongAxis along axis 0 of container [4,3] with indices [2,3] "
      "(distinct rows per column) and updates [2,3], modes SCATTER_UPDATE and SCATTER_ADD")
def _(rng):
    c, u = randn(rng, 4, 3), randn(rng, 2, 3)
    idx = np.array([[3, 0, 2], [1, 2, 0]], F32)
    y_update, y_add = c.copy(), c.astype(np.float64)
    for i in range(2):
        for j in range(3):
            y_update[int(idx[i, j]), j] = u[i, j]
            y_add[int(idx[i, j]), j] += u[i, j]
    ins = {"c": c, "idx": idx, "u": u}
    outs = {"y_update": y_update, "y_add": y_add}
    nb = net(ins, outs)
    nb.add_scatter_along_axis("s1", ["c", "idx", "u"], "y_update", axis=0, mode="UPDATE")
    nb.add_scatter_along_axis("s2", ["c", "idx", "u"], "y_add", axis=0, mode="ADD")
    return nb, ins, outs


@case("loop_break_continue", "loop of at most 10 iterations over a body that counts i += 1, "
      "breaks (loopBreak in a branch) when i > 3.5, skips the rest (loopContinue in a branch) when "
      "i < 1.5, then adds x to acc: acc = x0 + 2 x, i = 4")
def _(rng):
    x0, x = randn(rng, 3), randn(rng, 3)
    ins = {"x0": x0, "x": x}
    outs = {"acc": x0.astype(np.float64) + 2 * x.astype(np.float64), "i": np.array([4.0], F32)}
    nb = net(ins, outs)
    nb.add_load_constant_nd("i0", "i", constant_value=np.array([0.0], F32), shape=[1])
    nb.add_copy("acc0", "x0", "acc")
    loop = nb.add_loop("loop", max_iterations=10)
    body = NeuralNetworkBuilder(nn_spec=loop.loop.bodyNetwork, disable_rank5_shape_mapping=True)
    body.add_activation("inc", "LINEAR", "i", "i_next", params=[1.0, 1.0])
    body.add_copy("i_copy", "i_next", "i")
    body.add_greater_than("stop", ["i"], "stop_c", alpha=3.5)
    brk = body.add_branch("break_if", "stop_c")
    NeuralNetworkBuilder(nn_spec=brk.branch.ifBranch, disable_rank5_shape_mapping=True).add_loop_break("break")
    body.add_less_than("skip", ["i"], "skip_c", alpha=1.5)
    cont = body.add_branch("continue_if", "skip_c")
    NeuralNetworkBuilder(nn_spec=cont.branch.ifBranch, disable_rank5_shape_mapping=True).add_loop_continue("continue")
    body.add_add_broadcastable("add", ["acc", "x"], "acc_next")
    body.add_copy("acc_copy", "acc_next", "acc")
    return nb, ins, outs


@case("random_like_and_bernoulli", "randomNormalLike (mean 1, stdDev 2), randomUniformLike "
      "[-1, 3), randomBernoulliLike p 0.3 of a [2000] input, randomBernoulliStatic p 0.7 "
      "[40, 50], randomBernoulliDynamic p 0.2 of the shape [2000]; expected values are numpy "
      "samples of each distribution, compared as distributions", compare="distribution")
def _(rng):
    n = 2000
    x = randn(rng, n)
    shape = np.array([n], F32)
    outs = {"normal": rng.normal(1.0, 2.0, n), "uniform": rng.uniform(-1.0, 3.0, n),
            "bern_like": (rng.uniform(size=n) < 0.3).astype(F32),
            "bern_static": (rng.uniform(size=(40, 50)) < 0.7).astype(F32),
            "bern_dynamic": (rng.uniform(size=n) < 0.2).astype(F32)}
    ins = {"x": x, "shape": shape}
    nb = net(ins, outs)
    nb.add_random_normal_like("normal", "x", "normal", mean=1.0, stddev=2.0, seed=11)
    nb.add_random_uniform_like("uniform", "x", "uniform", minval=-1.0, maxval=3.0, seed=12)
    nb.add_random_bernoulli_like("bern_like", "x", "bern_like", prob=0.3, seed=13)
    nb.add_random_bernoulli_static("bern_static", "bern_static", output_shape=[40, 50], prob=0.7, seed=14)
    nb.add_random_bernoulli_dynamic("bern_dynamic", ["shape"], "bern_dynamic", prob=0.2, seed=15)
    return nb, ins, outs


@case("topk", "topK k=3 along axis -1 of [2,6] (values, indices), and bottom K k=2 along "
      "axis 0 of the same input")
def _(rng):
    x = randn(rng, 2, 6)
    order = np.argsort(-x, axis=-1, kind="stable")[:, :3]
    border = np.argsort(x, axis=0, kind="stable")[:2]
    outs = {"values": np.take_along_axis(x, order, -1), "indices": order.astype(F32),
            "bottom_values": np.take_along_axis(x, border, 0), "bottom_indices": border.astype(F32)}
    nb = net({"x": x}, outs)
    nb.add_topk("top", ["x"], ["values", "indices"], k=3, axis=-1)
    nb.add_topk("bottom", ["x"], ["bottom_values", "bottom_indices"], k=2, axis=0,
                use_bottom_k=True)
    return nb, {"x": x}, outs


@case("argmax_argmin", "argMax axis -1 removeDim on [2,3,4]; argMin axis 1 keeping the dim")
def _(rng):
    x = randn(rng, 2, 3, 4)
    outs = {"y_argmax": x.argmax(-1).astype(F32),
            "y_argmin": np.expand_dims(x.argmin(1), 1).astype(F32)}
    nb = net({"x": x}, outs)
    nb.add_argmax("amax", "x", "y_argmax", axis=-1, keepdims=False)
    nb.add_argmin("amin", "x", "y_argmin", axis=1, keepdims=True)
    return nb, {"x": x}, outs


@case("cumsum", "cumSum along axis 1 of [2,4,3]: plain, excludeFinalSum, reverse, and both")
def _(rng):
    x = randn(rng, 2, 4, 3)
    (xd,) = f64(x)
    cs = np.cumsum(xd, 1)
    rev = np.flip(np.cumsum(np.flip(xd, 1), 1), 1)
    outs = {"y_plain": cs, "y_exclusive": cs - xd, "y_reverse": rev,
            "y_reverse_exclusive": rev - xd}
    nb = net({"x": x}, outs)
    nb.add_cumsum("c1", ["x"], "y_plain", axis=1)
    nb.add_cumsum("c2", ["x"], "y_exclusive", axis=1, exclusive=True)
    nb.add_cumsum("c3", ["x"], "y_reverse", axis=1, reverse=True)
    nb.add_cumsum("c4", ["x"], "y_reverse_exclusive", axis=1, reverse=True, exclusive=True)
    return nb, {"x": x}, outs


@case("one_hot", "oneHot of indices [0, 2, -1, 3] with size 4, axis -1, on 5.0 off -1.0 "
      "(an out-of-range index gives all off values)")
def _(rng):
    idx = np.array([0, 2, -1, 3], F32)
    y = np.full((4, 4), -1.0)
    for r, i in enumerate(idx.astype(int)):
        if 0 <= i < 4:
            y[r, i] = 5.0
    nb = net({"idx": idx}, {"y": y})
    nb.add_one_hot("oh", ["idx"], "y", one_hot_vector_size=4, axis=-1, on_value=5.0,
                   off_value=-1.0)
    return nb, {"idx": idx}, {"y": y}


@case("matrix_band_part", "matrixBandPart numLower 1 numUpper 2 on [2,4,5]; and numLower -1 "
      "(keep all below) numUpper 0 (lower triangle)")
def _(rng):
    x = randn(rng, 2, 4, 5)
    m, n = np.arange(4)[:, None], np.arange(5)[None, :]
    outs = {"y_band": x * (((m - n) <= 1) & ((n - m) <= 2)), "y_lower": x * ((n - m) <= 0)}
    nb = net({"x": x}, outs)
    nb.add_matrix_band_part("b1", "x", "y_band", num_lower=1, num_upper=2)
    nb.add_matrix_band_part("b2", "x", "y_lower", num_lower=-1, num_upper=0)
    return nb, {"x": x}, outs


# ================================================================ constants and generators


@case("load_constant_legacy", "loadConstant (legacy, shape [2,3,4]) added to a rank-5-mapped "
      "input with elementwise ADD")
def _(rng):
    x, k = randn(rng, 2, 3, 4), randn(rng, 2, 3, 4)
    y = f64(x)[0] + k
    nb = net({"x": x}, {"y": y}, rank5=True)
    nb.add_load_constant("k", "k", k, [2, 3, 4])
    nb.add_elementwise("add", ["x", "k"], "y", "ADD")
    return nb, {"x": x}, {"y": y}


@case("load_constant_nd", "loadConstantND [2,3] added to the input with addBroadcastable")
def _(rng):
    x, k = randn(rng, 2, 3), randn(rng, 2, 3)
    y = f64(x)[0] + k
    nb = net({"x": x}, {"y": y})
    nb.add_load_constant_nd("k", "k", k, [2, 3])
    nb.add_add_broadcastable("add", ["x", "k"], "y")
    return nb, {"x": x}, {"y": y}


@case("fill", "fillLike (2.5, shape of the [2,3] input); fillStatic [2,3] of -1.0 added to "
      "the input")
def _(rng):
    x = randn(rng, 2, 3)
    outs = {"y_like": np.full((2, 3), 2.5), "y_static": f64(x)[0] - 1.0}
    nb = net({"x": x}, outs)
    nb.add_fill_like("fl", "x", "y_like", value=2.5)
    nb.add_fill_static("fs", "filled", [2, 3], value=-1.0)
    nb.add_add_broadcastable("add", ["x", "filled"], "y_static")
    return nb, {"x": x}, outs


@case("range", "rangeStatic(start 1, end 5, step 1.5) added to a [3] input; rangeDynamic with "
      "end 7 as an input, start 2, step 2 -> [2, 4, 6]")
def _(rng):
    x = randn(rng, 3)
    end = np.array([7.0], F32)
    outs = {"y_static": f64(x)[0] + np.arange(1, 5, 1.5), "y_dynamic": np.arange(2, 7, 2)}
    nb = net({"x": x, "end": end}, outs)
    nb.add_range_static("rs", "r", end=5, start=1, step=1.5)
    nb.add_add_broadcastable("add", ["x", "r"], "y_static")
    nb.add_range_dynamic("rd", ["end"], "y_dynamic", start=2, step=2)
    return nb, {"x": x, "end": end}, outs


# ================================================================ embeddings


@case("embedding", "embedding (legacy) of indices [4,1,1,1] into 3 channels from a vocabulary "
      "of 5, with bias -> [4,3,1,1]")
def _(rng):
    idx = np.array([1, 4, 0, 1], F32).reshape(4, 1, 1, 1)
    W, b = randn(rng, 3, 5), randn(rng, 3)
    y = (W.T[idx.reshape(-1).astype(int)] + b).reshape(4, 3, 1, 1)
    nb = net({"idx": idx}, {"y": y})
    nb.add_embedding("emb", W, b, 5, 3, True, "idx", "y")
    return nb, {"idx": idx}, {"y": y}


@case("embedding_nd", "embeddingND of indices [2,3,1] into 4 values from a vocabulary of 6, "
      "no bias -> [2,3,4]")
def _(rng):
    idx = np.array([5, 0, 2, 2, 1, 3], F32).reshape(2, 3, 1)
    W = randn(rng, 4, 6)
    y = W.T[idx.reshape(2, 3).astype(int)]
    nb = net({"idx": idx}, {"y": y})
    nb.add_embedding_nd("emb", "idx", "y", vocab_size=6, embedding_size=4, W=W)
    return nb, {"idx": idx}, {"y": y}


# ================================================================ recurrent layers


def rnn_weights(rng, n, hidden, inp, scale=0.6):
    return ([randn(rng, hidden, hidden, scale=scale) for _ in range(n)],
            [randn(rng, hidden, inp, scale=scale) for _ in range(n)],
            [randn(rng, hidden, scale=0.3) for _ in range(n)])


def rank5_seq(a):
    """[T, B, C] -> [T, B, C, 1, 1] as recurrent layers see their blobs."""
    return a.reshape(a.shape + (1, 1))


@case("lstm_unidirectional", "uniDirectionalLSTM, hidden 3, input 4, sequence 5, batch 1, "
      "sequenceOutput, with biases and initial states; activations sigmoid, tanh, tanh")
def _(rng):
    T, H, I = 5, 3, 4
    Wh, Wx, b = rnn_weights(rng, 4, H, I)
    x, h0, c0 = randn(rng, T, 1, I), randn(rng, 1, 1, H, scale=0.5), randn(rng, 1, 1, H, scale=0.5)
    ys, h, c = lstm_ref(x, h0[0], c0[0], Wx, Wh, b)
    ins = {"x": rank5_seq(x), "h0": rank5_seq(h0), "c0": rank5_seq(c0)}
    outs = {"y": rank5_seq(ys), "h": rank5_seq(h[None]), "c": rank5_seq(c[None])}
    nb = net(ins, outs)
    nb.add_unilstm("lstm", Wh, Wx, b, H, I, ["x", "h0", "c0"], ["y", "h", "c"], output_all=True)
    return nb, ins, outs


@case("lstm_peephole_reverse", "uniDirectionalLSTM with peepholes, forgetBias, reverseInput and "
      "cell clip 1.0, final output only")
def _(rng):
    T, H, I = 4, 3, 2
    Wh, Wx, b = rnn_weights(rng, 4, H, I)
    peep = [randn(rng, H, scale=0.5) for _ in range(3)]
    x, h0, c0 = randn(rng, T, 1, I), np.zeros((1, 1, H), F32), np.zeros((1, 1, H), F32)
    ys, h, c = lstm_ref(x, h0[0], c0[0], Wx, Wh, b, peep=peep, forget_bias=True, reverse=True,
                        clip=1.0)
    ins = {"x": rank5_seq(x), "h0": rank5_seq(h0), "c0": rank5_seq(c0)}
    outs = {"y": rank5_seq(h[None]), "h": rank5_seq(h[None]), "c": rank5_seq(c[None])}
    nb = net(ins, outs)
    nb.add_unilstm("lstm", Wh, Wx, b, H, I, ["x", "h0", "c0"], ["y", "h", "c"], peep=peep,
                   output_all=False, forget_bias=True, cell_clip_threshold=1.0,
                   reverse_input=True)
    return nb, ins, outs


@case("lstm_bidirectional", "biDirectionalLSTM, hidden 2, input 3, sequence 4, sequenceOutput: "
      "y_t = [forward y_t, backward y aligned with x_t]")
def _(rng):
    T, H, I = 4, 2, 3
    Wh, Wx, b = rnn_weights(rng, 4, H, I)
    Whb, Wxb, bb = rnn_weights(rng, 4, H, I)
    x = randn(rng, T, 1, I)
    z = np.zeros((1, 1, H), F32)
    yf, hf, cf = lstm_ref(x, z[0], z[0], Wx, Wh, b)
    yb, hb, cb = lstm_ref(x, z[0], z[0], Wxb, Whb, bb, reverse=True)
    yb = yb[::-1]  # backward outputs aligned with the input positions
    y = np.concatenate([yf, yb], axis=-1)
    ins = {"x": rank5_seq(x), "h0": rank5_seq(z), "c0": rank5_seq(z), "h0_back": rank5_seq(z),
           "c0_back": rank5_seq(z)}
    outs = {"y": rank5_seq(y), "h": rank5_seq(hf[None]), "c": rank5_seq(cf[None]),
            "h_back": rank5_seq(hb[None]), "c_back": rank5_seq(cb[None])}
    nb = net(ins, outs)
    nb.add_bidirlstm("bilstm", Wh, Wx, b, Whb, Wxb, bb, H, I, list(ins), list(outs),
                     output_all=True)
    return nb, ins, outs


@case("gru", "GRU, hidden 3, input 2, sequence 4, sequenceOutput, activations sigmoid / tanh, "
      "with initial state (reset gate applied to y_{t-1} before R_o)")
def _(rng):
    T, H, I = 4, 3, 2
    Wh, Wx, b = rnn_weights(rng, 3, H, I)
    x, h0 = randn(rng, T, 1, I), randn(rng, 1, 1, H, scale=0.5)
    ys = gru_ref(x, h0[0], Wx, Wh, b)
    h = ys[-1]
    ins = {"x": rank5_seq(x), "h0": rank5_seq(h0)}
    outs = {"y": rank5_seq(ys), "h": rank5_seq(h[None])}
    nb = net(ins, outs)
    nb.add_gru("gru", Wh, Wx, b, H, I, ["x", "h0"], ["y", "h"], activation="TANH",
               inner_activation="SIGMOID", output_all=True)
    return nb, ins, outs


@case("simple_recurrent", "simpleRecurrent, hidden 3, input 2, sequence 4, tanh, "
      "sequenceOutput, with initial state")
def _(rng):
    T, H, I = 4, 3, 2
    W, R, b = randn(rng, H, I, scale=0.7), randn(rng, H, H, scale=0.7), randn(rng, H, scale=0.3)
    x, h0 = randn(rng, T, 1, I), randn(rng, 1, 1, H, scale=0.5)
    h = f64(h0)[0][0]
    ys = []
    for t in range(T):
        h = np.tanh(np.clip(f64(x)[0][t] @ W.T.astype(np.float64) + h @ R.T + b, -50, 50))
        ys.append(h)
    ins = {"x": rank5_seq(x), "h0": rank5_seq(h0)}
    outs = {"y": rank5_seq(np.stack(ys)), "h": rank5_seq(h[None])}
    nb = net(ins, outs)
    nb.add_simple_rnn("rnn", R, W, b, H, I, "TANH", ["x", "h0"], ["y", "h"], output_all=True)
    return nb, ins, outs


# ================================================================ legacy spatial helpers


@case("bias_scale", "bias with shape [C, H, W]; scale with per-channel [C] scale and [1, H, W] "
      "bias, on a rank-5-mapped [3, 2, 2]")
def _(rng):
    x = randn(rng, 3, 2, 2)
    bias, sc, sb = randn(rng, 3, 2, 2), randn(rng, 3), randn(rng, 1, 2, 2)
    outs = {"y_bias": f64(x)[0] + bias, "y_scale": f64(x)[0] * sc.reshape(3, 1, 1) + sb}
    nb = net({"x": x}, outs, rank5=True)
    nb.add_bias("bias", bias, "x", "y_bias", shape_bias=[3, 2, 2])
    nb.add_scale("scale", sc, sb, True, "x", "y_scale", shape_scale=[3], shape_bias=[1, 2, 2])
    return nb, {"x": x}, outs


@case("crop", "crop with one input (top 1, bottom 2, left 0, right 3 on [2,6,7]) and with "
      "two inputs (reference [2,3,4], offset [1, 2])")
def _(rng):
    x, ref = randn(rng, 2, 6, 7), randn(rng, 2, 3, 4)
    outs = {"y_amounts": x[:, 1:6 - 2, 0:7 - 3], "y_offset": x[:, 1:4, 2:6]}
    nb = net({"x": x, "ref": ref}, outs, rank5=True)
    nb.add_crop("c1", 0, 3, 1, 2, [0, 0], ["x"], "y_amounts")
    nb.add_crop("c2", 0, 0, 0, 0, [1, 2], ["x", "ref"], "y_offset")
    return nb, {"x": x, "ref": ref}, outs


@case("reorganize_data", "reorganizeData SPACE_TO_DEPTH (block 2, [2,4,4] -> [8,2,2]), "
      "DEPTH_TO_SPACE and PIXEL_SHUFFLE (block 2, [8,1,2] -> [2,2,4]), layouts as in the proto "
      "example")
def _(rng):
    x, d = randn(rng, 2, 4, 4), randn(rng, 8, 1, 2)
    xd, dd = f64(x, d)
    outs = {"y_s2d": space_to_depth(xd, 2), "y_d2s": depth_to_space(dd, 2),
            "y_shuffle": depth_to_space(dd, 2, pixel_shuffle=True)}
    # EXACT mapping: PIXEL_SHUFFLE needs specification version 5, which RANK5 mapping forbids.
    nb = net({"x": x, "d": d}, outs)
    nb.add_reorganize_data("s2d", "x", "y_s2d", "SPACE_TO_DEPTH", 2)
    nb.add_reorganize_data("d2s", "d", "y_d2s", "DEPTH_TO_SPACE", 2)
    nb.add_reorganize_data("ps", "d", "y_shuffle", "PIXEL_SHUFFLE", 2)
    return nb, {"x": x, "d": d}, outs


@case("sequence_repeat", "sequenceRepeat 3 times of a length-1 sequence [1,1,3,1,1] along axis "
      "-5 (as Keras RepeatVector converts; with Seq 1, tiling and repeating agree)")
def _(rng):
    x = randn(rng, 1, 1, 3, 1, 1)
    y = np.tile(x, (3, 1, 1, 1, 1))
    nb = net({"x": x}, {"y": y})
    nb.add_sequence_repeat("rep", 3, "x", "y")
    return nb, {"x": x}, {"y": y}


@case("dot", "dot product and cosine similarity of [2,5,1,1] vectors -> [2,1,1,1]")
def _(rng):
    a, b = randn(rng, 2, 5, 1, 1), randn(rng, 2, 5, 1, 1)
    ad, bd = f64(a, b)
    dot = (ad * bd).sum(axis=1, keepdims=True)
    cos = dot / (np.linalg.norm(ad, axis=1, keepdims=True) * np.linalg.norm(bd, axis=1, keepdims=True))
    outs = {"y_dot": dot, "y_cos": cos}
    nb = net({"a": a, "b": b}, outs)
    nb.add_elementwise("dot", ["a", "b"], "y_dot", "DOT")
    nb.add_elementwise("cos", ["a", "b"], "y_cos", "COS")
    return nb, {"a": a, "b": b}, outs


# ================================================================ further ND layers


@case("constant_pad", "constantPad of [2,3] with padAmounts [0,1, 2,0] and value 0.5 -> [3,5]")
def _(rng):
    x = randn(rng, 2, 3)
    y = np.pad(f64(x)[0], ((0, 1), (2, 0)), constant_values=0.5)
    nb = net({"x": x}, {"y": y})
    nb.add_constant_pad("pad", ["x"], "y", value=0.5, pad_amounts=[0, 1, 2, 0])
    return nb, {"x": x}, {"y": y}


@case("clamped_relu", "clampedReLU alpha 0.1 beta 1.5: min(beta, x) for x >= 0, "
      "min(beta, alpha x) below")
def _(rng):
    x = randn(rng, 2, 3, 4, scale=2.0)
    (xd,) = f64(x)
    y = np.where(xd >= 0, np.minimum(1.5, xd), np.minimum(1.5, 0.1 * xd))
    nb = net({"x": x}, {"y": y})
    nb.add_clamped_relu("crelu", "x", "y", alpha=0.1, beta=1.5)
    return nb, {"x": x}, {"y": y}


@case("stack", "stack of two [2,3] inputs along axis -2 -> [2,2,3]")
def _(rng):
    a, b = randn(rng, 2, 3), randn(rng, 2, 3)
    y = np.stack([a, b], axis=-2)
    nb = net({"a": a, "b": b}, {"y": y})
    nb.add_stack("stack", ["a", "b"], "y", axis=-2)
    return nb, {"a": a, "b": b}, {"y": y}


@case("broadcast_to", "broadcastToStatic [2,1,3] -> [2,4,3]; broadcastToLike the shape of a "
      "[4,2,4,3] input; broadcastToDynamic with the shape [3,2,4,3] as an input")
def _(rng):
    x, like = randn(rng, 2, 1, 3), randn(rng, 4, 2, 4, 3)
    shape = np.array([3, 2, 4, 3], F32)
    outs = {"y_static": np.broadcast_to(x, (2, 4, 3)), "y_like": np.broadcast_to(x, (4, 2, 4, 3)),
            "y_dynamic": np.broadcast_to(x, (3, 2, 4, 3))}
    ins = {"x": x, "like": like, "shape": shape}
    nb = net(ins, outs)
    nb.add_broadcast_to_static("bs", "x", "y_static", [2, 4, 3])
    nb.add_broadcast_to_like("bl", ["x", "like"], "y_like")
    nb.add_broadcast_to_dynamic("bd", ["x", "shape"], "y_dynamic")
    return nb, ins, outs


@case("slice_by_size", "sliceBySize of [2,5,3] along axis 1 from the begin index given as an "
      "input ([2]), size 2")
def _(rng):
    x, begin = randn(rng, 2, 5, 3), np.array([2.0], F32)
    y = x[:, 2:4]
    nb = net({"x": x, "begin": begin}, {"y": y})
    nb.add_slice_by_size("sbs", ["x", "begin"], "y", axis=1, size=2)
    return nb, {"x": x, "begin": begin}, {"y": y}


@case("reverse", "reverse of [2,3,4] along axes 0 and 2; reverseSeq with the proto's example "
      "(batch axis 0, sequence axis 1, lengths [2, 3])")
def _(rng):
    x = randn(rng, 2, 3, 4)
    data = np.arange(12, dtype=F32).reshape(2, 3, 2)
    lengths = np.array([2, 3], F32)
    expected_seq = data.copy()
    for b_, n in enumerate(lengths.astype(int)):
        expected_seq[b_, :n] = data[b_, :n][::-1]
    # the proto's own example output
    assert (expected_seq == np.array([[[2, 3], [0, 1], [4, 5]], [[10, 11], [8, 9], [6, 7]]])).all()
    outs = {"y_reverse": x[::-1, :, ::-1], "y_reverse_seq": expected_seq}
    ins = {"x": x, "data": data, "lengths": lengths}
    nb = net(ins, outs)
    nb.add_reverse("rev", "x", "y_reverse", reverse_dim=[True, False, True])
    nb.add_reverse_sequence("revseq", ["data", "lengths"], "y_reverse_seq", batch_axis=0,
                            seq_axis=1)
    return nb, ins, outs


@case("shape_and_fill_dynamic", "getShape of a [2,3,4] input -> [2,3,4] (as floats); "
      "fillDynamic of 1.5 with that shape; copy of the input")
def _(rng):
    x = randn(rng, 2, 3, 4)
    outs = {"y_shape": np.array([2, 3, 4], F32), "y_fill": np.full((2, 3, 4), 1.5),
            "y_copy": x}
    nb = net({"x": x}, outs)
    nb.add_get_shape("shape", "x", "y_shape")
    nb.add_fill_dynamic("fill", "y_shape", "y_fill", value=1.5)
    nb.add_copy("copy", "x", "y_copy")
    return nb, {"x": x}, outs


@case("argsort", "argSort of [2,5] along axis 1, ascending and descending (indices as floats)")
def _(rng):
    x = randn(rng, 2, 5)
    outs = {"y_ascending": np.argsort(x, axis=1, kind="stable").astype(F32),
            "y_descending": np.argsort(-x, axis=1, kind="stable").astype(F32)}
    nb = net({"x": x}, outs)
    nb.add_argsort("asc", "x", "y_ascending", axis=1, descending=False)
    nb.add_argsort("desc", "x", "y_descending", axis=1, descending=True)
    return nb, {"x": x}, outs


@case("triangular", "lowerTriangular k 0 and upperTriangular k 1 of [2,4,4], as numpy "
      "tril/triu")
def _(rng):
    x = randn(rng, 2, 4, 4)
    outs = {"y_lower": np.tril(x, 0), "y_upper": np.triu(x, 1)}
    nb = net({"x": x}, outs)
    nb.add_lower_triangular("lower", "x", "y_lower", k=0)
    nb.add_upper_triangular("upper", "x", "y_upper", k=1)
    return nb, {"x": x}, outs


@case("sliding_windows", "slidingWindows of [2,5,3] along axis 1, window 2, step 2 -> [2,2,2,3]")
def _(rng):
    x = randn(rng, 2, 5, 3)
    y = np.stack([x[:, 0:2], x[:, 2:4]], axis=1)
    nb = net({"x": x}, {"y": y})
    nb.add_sliding_windows("sw", "x", "y", axis=1, window_size=2, step=2)
    return nb, {"x": x}, {"y": y}


@case("floor_div_mod", "floorDivBroadcastable and modBroadcastable on positive operands "
      "(where floor division and every modulo convention agree), [2,3] with [3]")
def _(rng):
    a = pos(rng, 2, 3, lo=0.5, hi=9.0)
    b = pos(rng, 3, lo=0.7, hi=2.5)
    ad, bd = f64(a, b)
    outs = {"y_floordiv": np.floor(ad / bd), "y_mod": np.mod(ad, bd)}
    nb = net({"a": a, "b": b}, outs)
    nb.add_floor_div_broadcastable("fd", ["a", "b"], "y_floordiv")
    nb.add_mod_broadcastable("mod", ["a", "b"], "y_mod")
    return nb, {"a": a, "b": b}, outs


@case("trig_nd", "asin, acos, atan, sinh, cosh, atanh on (-0.9, 0.9) and acosh on (1.1, 3)")
def _(rng):
    x = rng.uniform(-0.9, 0.9, (2, 5)).astype(F32)
    c = rng.uniform(1.1, 3.0, (2, 5)).astype(F32)
    xd, cd = f64(x, c)
    fns = {"asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh,
           "cosh": np.cosh, "atanh": np.arctanh}
    outs = {f"y_{k}": fn(xd) for k, fn in fns.items()}
    outs["y_acosh"] = np.arccosh(cd)
    nb = net({"x": x, "c": c}, outs)
    for k in fns:
        getattr(nb, f"add_{k}")(k, "x", f"y_{k}")
    nb.add_acosh("acosh", "c", "y_acosh")
    return nb, {"x": x, "c": c}, outs


# ================================================================ custom layers


@case("custom_matrix_determinant", "custom layer (CustomLayerParams) className "
      "MatrixDeterminant, as coremltools' custom-op binding writes it for TF MatrixDeterminant "
      "(see ../shared/corpus/coremltools/matrix_det.custom.mlmodel); expected output is "
      "numpy.linalg.det, for an interpreter with that class registered", rtol=1e-3, atol=1e-4)
def _(rng):
    x = randn(rng, 4, 3, 3)
    y = np.linalg.det(f64(x)[0])
    nb = net({"x": x}, {"y": y})
    params = NN.CustomLayerParams()
    params.className = "MatrixDeterminant"
    params.description = "Determinant of each square matrix in the batch"
    nb.add_custom("MatrixDeterminant", ["x"], ["y"], custom_proto_spec=params)
    return nb, {"x": x}, {"y": y}


@case("custom_topk_parameters", "custom layer className CustomTopK with parameters k (int), "
      "axis (int) and sorted (bool), outputs values then indices; expected output is top-3 "
      "along the last axis, for an interpreter with that class registered")
def _(rng):
    x = randn(rng, 2, 6)
    order = np.argsort(-x, axis=-1, kind="stable")[:, :3]
    outs = {"values": np.take_along_axis(x, order, -1), "indices": order.astype(F32)}
    nb = net({"x": x}, outs)
    params = NN.CustomLayerParams()
    params.className = "CustomTopK"
    params.description = "Top K Custom layer"
    params.parameters["k"].intValue = 3
    params.parameters["axis"].intValue = -1
    params.parameters["sorted"].boolValue = True
    nb.add_custom("TopKV2", ["x"], ["values", "indices"], custom_proto_spec=params)
    return nb, {"x": x}, outs


@case("crop_resize_align_endpoints", "cropResize ALIGN_ENDPOINTS_MODE, normalized corners height "
      "first, 5-value boxes (batch index first) over a batch of 2, 3x4 target (and a 1-row box: "
      "ALIGN_ENDPOINTS samples its centre); expected values from TensorFlow's CropAndResize, "
      "whose sampling grid this mode is, on boxes inside the image")
def _(rng):
    import tensorflow as tf

    x = randn(rng, 2, 3, 5, 6)  # [B, C, H, W]
    boxes = np.array([[0.1, 0.2, 0.9, 0.7], [0.6, 0.5, 0.2, 0.0], [0.25, 0.3, 0.75, 0.3]], F32)
    ind = np.array([1, 0, 1], np.int32)
    want = tf.image.crop_and_resize(x.transpose(0, 2, 3, 1), boxes, ind, [3, 4]).numpy()
    rois = np.concatenate([ind[:, None].astype(F32), boxes], axis=1).reshape(3, 1, 5, 1, 1)
    outs = {"y": want.transpose(0, 3, 1, 2)[:, None]}  # [N, 1, C, 3, 4]
    inputs = {"x": x[None], "rois": rois}
    nb = net(inputs, outs)
    nb.add_crop_resize("crop", ["x", "rois"], "y", target_height=3, target_width=4,
                       mode="ALIGN_ENDPOINTS_MODE", normalized_roi=True)
    return nb, inputs, outs


@case("nms", "NonMaximumSuppression, batch 2, 8 centre-size boxes, 2 classes (a box scores its "
      "best class), IoU 0.4, score threshold 0.3, maxBoxes 5; batch 1 has every score below "
      "the threshold, so the layer reports its best box with count 1. Expected selection from "
      "TensorFlow's NMS on the same boxes as corners (scores distinct, away from the threshold)")
def _(rng):
    import tensorflow as tf

    b, n, c, m = 2, 8, 2, 5
    centres = rng.uniform(0.3, 0.7, (b, n, 2)) + rng.normal(0, 0.05, (b, n, 2))
    sizes = rng.uniform(0.2, 0.4, (b, n, 2))
    boxes = np.concatenate([centres, sizes], axis=-1).astype(F32)  # x, y, w, h
    scores = rng.uniform(0.0, 1.0, (b, n, c)).astype(F32)
    scores[1] *= 0.25
    out_boxes, out_scores = np.zeros((b, m, 4), F32), np.zeros((b, m, c), F32)
    out_idx, count = -np.ones((b, m), F32), np.zeros(b, F32)
    for k in range(b):
        x, y, w, h = boxes[k].T
        corners = np.stack([y - h / 2, x - w / 2, y + h / 2, x + w / 2], axis=1)
        best = scores[k].max(axis=1)
        sel = tf.image.non_max_suppression(corners, best, m, 0.4, score_threshold=0.3).numpy()
        if len(sel) == 0:
            sel = np.array([int(best.argmax())])
        out_boxes[k, :len(sel)], out_scores[k, :len(sel)] = boxes[k][sel], scores[k][sel]
        out_idx[k, :len(sel)], count[k] = sel, len(sel)
    assert count[0] > 1 and count[1] == 1
    inputs = {"boxes": boxes, "scores": scores}
    outs = {"out_boxes": out_boxes, "out_scores": out_scores, "out_indices": out_idx, "count": count}
    nb = net(inputs, outs)
    nb.add_nms("nms", ["boxes", "scores"], list(outs), iou_threshold=0.4, score_threshold=0.3,
               max_boxes=m, per_class_suppression=False)
    return nb, inputs, outs


# ================================================================ cross-checks and writing


def cross_check_with_tensorflow():
    """Check the numpy convolution and pooling references against TensorFlow's kernels."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = randn(rng, 1, 4, 7, 6)
    xt = x.transpose(0, 2, 3, 1)
    w1 = randn(rng, 5, 4, 3, 3)
    ours = conv2d(x, w1, None, (2, 1), (1, 1), same_pads(7, 3, 2) + same_pads(6, 3, 1))
    ref = tf.nn.conv2d(xt, w1.transpose(2, 3, 1, 0), strides=[2, 1], padding="SAME").numpy()
    assert np.allclose(ours, ref.transpose(0, 3, 1, 2), atol=1e-4), "conv2d reference"
    ours = conv2d(x, w1, None, (1, 1), (2, 2), (0, 0, 0, 0))
    ref = tf.nn.conv2d(xt, w1.transpose(2, 3, 1, 0), strides=1, padding="VALID",
                       dilations=2).numpy()
    assert np.allclose(ours, ref.transpose(0, 3, 1, 2), atol=1e-4), "dilated conv2d reference"
    wd = randn(rng, 4, 2, 3, 3)  # [C_in, C_out, kH, kW]
    ours = deconv2d(x, wd, None, (2, 2), crop=(0, 1, 0, 1))
    ref = tf.nn.conv2d_transpose(xt, wd.transpose(2, 3, 1, 0), [1, 14, 12, 2], strides=2,
                                 padding="SAME").numpy()
    assert np.allclose(ours, ref.transpose(0, 3, 1, 2), atol=1e-4), "deconv reference"
    x8 = randn(rng, 1, 8, 7, 6)
    wg = randn(rng, 6, 4, 3, 3)  # 2 groups of 4 input channels -> 3 outputs each
    ours = conv2d(x8, wg, None, (1, 1), (1, 1), (0, 0, 0, 0), groups=2)
    x8t = x8.transpose(0, 2, 3, 1)
    ref = np.concatenate([
        tf.nn.conv2d(x8t[..., 4 * g:4 * g + 4], wg[3 * g:3 * g + 3].transpose(2, 3, 1, 0),
                     strides=1, padding="VALID").numpy() for g in range(2)], axis=-1)
    assert np.allclose(ours, ref.transpose(0, 3, 1, 2), atol=1e-4), "grouped conv2d reference"
    for kind, tf_pool in (("MAX", tf.nn.max_pool2d), ("AVERAGE", tf.nn.avg_pool2d)):
        ours = pool2d(x, kind, (3, 3), (2, 2), same_pads(7, 3, 2) + same_pads(6, 3, 2), True)
        ref = tf_pool(xt, 3, 2, "SAME").numpy().transpose(0, 3, 1, 2)
        assert np.allclose(ours, ref, atol=1e-5), f"{kind} pooling reference"
    ours = bilinear(x, upsample_grid(7, 14, "ALIGN_CORNERS_FALSE"),
                    upsample_grid(6, 12, "ALIGN_CORNERS_FALSE"))
    ref = tf.image.resize(xt, [14, 12], "bilinear").numpy().transpose(0, 3, 1, 2)
    assert np.allclose(ours, ref, atol=1e-5), "bilinear half-pixel reference"
    ours = bilinear(x, resize_grid(7, 10, "STRICT_ALIGN_ENDPOINTS_MODE"),
                    resize_grid(6, 9, "STRICT_ALIGN_ENDPOINTS_MODE"))
    ref = tf.compat.v1.image.resize_bilinear(xt, [10, 9], align_corners=True).numpy()
    assert np.allclose(ours, ref.transpose(0, 3, 1, 2), atol=1e-5), "align-corners reference"
    # UPSAMPLE_MODE and the upsample layer's DEFAULT mode are TF's legacy ResizeBilinear
    # (align_corners=False, half_pixel_centers=False).
    ref = tf.compat.v1.image.resize_bilinear(xt, [10, 9]).numpy().transpose(0, 3, 1, 2)
    ours = bilinear(x, resize_grid(7, 10, "UPSAMPLE_MODE"), resize_grid(6, 9, "UPSAMPLE_MODE"))
    assert np.allclose(ours, ref, atol=1e-5), "UPSAMPLE_MODE reference"
    ref = tf.compat.v1.image.resize_bilinear(xt, [14, 18]).numpy().transpose(0, 3, 1, 2)
    ours = bilinear(x, upsample_grid(7, 14, "DEFAULT"), upsample_grid(6, 18, "DEFAULT"))
    assert np.allclose(ours, ref, atol=1e-5), "upsample DEFAULT reference"
    # 3-D: numpy conv3d / deconv3d / pool3d against TF (NDHWC, the CPU's only layout).
    x5 = randn(rng, 2, 3, 5, 6, 7)
    x5t = x5.transpose(0, 2, 3, 4, 1)
    w5 = randn(rng, 4, 3, 3, 2, 3)  # [O, C, kD, kH, kW]
    ours = conv3d(x5, w5, None, (2, 1, 2), (1, 1, 1), same_pads3((5, 6, 7), (3, 2, 3), (2, 1, 2)))
    ref = tf.nn.conv3d(x5t, w5.transpose(2, 3, 4, 1, 0), [1, 2, 1, 2, 1], "SAME").numpy()
    assert np.allclose(ours, ref.transpose(0, 4, 1, 2, 3), atol=1e-4), "conv3d reference"
    # Dilation: TF's CPU has no dilated Conv3D; the dilated kernel written out with zeros is.
    wz = np.zeros((4, 3, 5, 2, 5), F32)
    wz[:, :, ::2, :, ::2] = w5
    ours = conv3d(x5, w5, None, (1, 1, 1), (2, 1, 2))
    ref = tf.nn.conv3d(x5t, wz.transpose(2, 3, 4, 1, 0), [1] * 5, "VALID").numpy()
    assert np.allclose(ours, ref.transpose(0, 4, 1, 2, 3), atol=1e-4), "dilated conv3d reference"
    wd5 = randn(rng, 3, 2, 3, 3, 2)  # [C_in, C_out, kD, kH, kW]
    for pad, out in (("SAME", [10, 6, 13]), ("VALID", [11, 8, 15])):
        full = [(5 - 1) * 2 + 3, 6 - 1 + 3, (7 - 1) * 2 + 2]
        crop = sum(((max(full[a] - out[a], 0) // 2 if pad == "SAME" else 0, 0) for a in range(3)), ())
        ours = deconv3d(x5, wd5, None, (2, 1, 2), crop=crop, out_dhw=out)
        ref = tf.nn.conv3d_transpose(x5t, wd5.transpose(2, 3, 4, 1, 0), [2] + out + [2],
                                     [1, 2, 1, 2, 1], pad).numpy()
        assert np.allclose(ours, ref.transpose(0, 4, 1, 2, 3), atol=1e-4), f"deconv3d {pad} reference"
    for kind, tf_pool in (("MAX", tf.nn.max_pool3d), ("AVERAGE", tf.nn.avg_pool3d)):
        for pad in ("SAME", "VALID"):
            pads = same_pads3((5, 6, 7), (3, 2, 3), (2, 2, 1)) if pad == "SAME" else (0,) * 6
            ours = pool3d(x5, kind, (3, 2, 3), (2, 2, 1), pads, True)
            ref = tf_pool(x5t, [3, 2, 3], [2, 2, 1], pad).numpy().transpose(0, 4, 1, 2, 3)
            assert np.allclose(ours, ref, atol=1e-5), f"{kind} {pad} pooling3d reference"
    # LSTM: Keras LSTM (gates i, f, c, o; sigmoid / tanh) equals the proto's equations.
    T, H, I = 4, 3, 2
    Wh, Wx, b = rnn_weights(rng, 4, H, I)
    xs = randn(rng, 1, T, I)
    lstm = tf.keras.layers.LSTM(H, return_sequences=True)
    lstm.build((1, T, I))
    order = [0, 1, 3, 2]  # Keras i, f, c, o -> builder i, f, o, z
    lstm.set_weights([np.concatenate([Wx[k].T for k in order], 1),
                      np.concatenate([Wh[k].T for k in order], 1),
                      np.concatenate([b[k] for k in order])])
    ours, _, _ = lstm_ref(xs.transpose(1, 0, 2), np.zeros((1, H)), np.zeros((1, H)), Wx, Wh, b)
    ref = lstm(xs).numpy().transpose(1, 0, 2)
    assert np.allclose(ours, ref, atol=1e-5), "LSTM reference"
    # GRU: the proto applies the reset gate to y_{t-1} before R_o, Keras reset_after=False.
    Wh, Wx, b = rnn_weights(rng, 3, H, I)
    gru = tf.keras.layers.GRU(H, return_sequences=True, reset_after=False)
    gru.build((1, T, I))
    gru.set_weights([np.concatenate([m.T for m in Wx], 1), np.concatenate([m.T for m in Wh], 1),
                     np.concatenate(b)])
    ours = gru_ref(xs.transpose(1, 0, 2), np.zeros((1, H)), Wx, Wh, b)
    ref = gru(xs).numpy().transpose(1, 0, 2)
    assert np.allclose(ours, ref, atol=1e-5), "GRU reference"


# ---------------------------------------------------------------- control flow
# coremltools' own conversions of small TF2 control-flow graphs (`ct.convert(...,
# convert_to="neuralnetwork")`): loop, branch and copy layers reading and overwriting blobs of
# the enclosing network. Expected outputs are TensorFlow's, from the same concrete function.


class _Converted:
    """What `main` needs of a builder: the spec."""

    def __init__(self, spec):
        self.spec = spec


def _ct_convert(fn, inputs):
    import tensorflow as tf

    sig = [tf.TensorSpec(np.shape(v), tf.float32, name=k) for k, v in inputs.items()]
    concrete = tf.function(fn, autograph=False).get_concrete_function(*sig)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlmodel = coremltools.convert([concrete], source="tensorflow", convert_to="neuralnetwork")
    spec = mlmodel.get_spec()
    got = concrete(*[tf.constant(v) for v in inputs.values()])
    got = got if isinstance(got, (list, tuple)) else [got]
    names = [o.name for o in spec.description.output]
    assert len(names) == len(got), (names, got)
    outputs = {n: np.asarray(g.numpy(), F32) for n, g in zip(names, got)}
    # coremltools leaves loop outputs' shapes undeclared; the manifest declares every shape,
    # so the description gets TensorFlow's (the layers are coremltools' own).
    for o in spec.description.output:
        if not o.type.multiArrayType.shape:
            o.type.multiArrayType.shape.extend(outputs[o.name].shape)
    return _Converted(spec), outputs


@case("ct_while_counted", "coremltools' conversion of tf.while_loop(i < 3): acc = acc * 1.5 + x; a loop "
      "layer with a condition network and copy layers carrying i and acc; expected values from TensorFlow")
def _(rng):
    import tensorflow as tf

    def fn(x):
        def body(i, acc):
            return i + 1, acc * 1.5 + x

        return tf.while_loop(lambda i, acc: i < 3, body, [tf.constant(0), x])[1]

    inputs = {"x": randn(rng, 2, 3)}
    nb, outputs = _ct_convert(fn, inputs)
    return nb, inputs, outputs


@case("ct_while_data_dependent", "coremltools' conversion of a tf.while_loop whose trip count depends on "
      "the input (double acc until its sum exceeds 50), two loop variables; expected values from TensorFlow")
def _(rng):
    import tensorflow as tf

    def fn(x):
        def body(acc, n):
            return acc * 2.0 + 0.5, n + 1.0

        acc, n = tf.while_loop(lambda acc, n: tf.reduce_sum(acc) < 50.0, body, [tf.abs(x) + 0.1, tf.zeros([1])])
        return acc, n

    inputs = {"x": randn(rng, 4)}
    nb, outputs = _ct_convert(fn, inputs)
    return nb, inputs, outputs


@case("ct_nested_while", "coremltools' conversion of nested tf.while_loops (outer 3 times, inner 2 times): "
      "a loop layer inside a loop body; expected values from TensorFlow")
def _(rng):
    import tensorflow as tf

    def fn(x):
        def inner(j, a):
            return j + 1, a * 0.5 + 1.0

        def outer(i, acc):
            _, acc = tf.while_loop(lambda j, a: j < 2, inner, [tf.constant(0), acc])
            return i + 1, acc + x

        return tf.while_loop(lambda i, acc: i < 3, outer, [tf.constant(0), x])[1]

    inputs = {"x": randn(rng, 3)}
    nb, outputs = _ct_convert(fn, inputs)
    return nb, inputs, outputs


@case("ct_cond", "coremltools' conversion of tf.cond on the sign of sum(x) (taken both ways by two conds); "
      "expected values from TensorFlow")
def _(rng):
    import tensorflow as tf

    def fn(x):
        s = tf.reduce_sum(x)
        a = tf.cond(s > 0.0, lambda: x * 2.0, lambda: x - 1.0)
        b = tf.cond(s < 0.0, lambda: tf.exp(x), lambda: x + 3.0)
        return a, b

    inputs = {"x": np.abs(randn(rng, 5)) + 0.1}
    nb, outputs = _ct_convert(fn, inputs)
    return nb, inputs, outputs


def layer_kinds(spec):
    return [layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers]


def check_graph(name, spec, inputs, outputs):
    """Every layer input is a model input or an earlier layer's output; outputs are produced.
    Nested networks (branch, loop) see and define blobs of the whole model."""
    known = set(inputs)

    def walk(layers):
        for layer in layers:
            for i in layer.input:
                assert i in known, f"{name}: layer {layer.name} reads unknown blob {i}"
            kind = layer.WhichOneof("layer")
            if kind == "branch":
                walk(layer.branch.ifBranch.layers)
                walk(layer.branch.elseBranch.layers)
            elif kind == "loop":
                walk(layer.loop.conditionNetwork.layers)
                walk(layer.loop.bodyNetwork.layers)
            known.update(layer.output)

    walk(spec.neuralNetwork.layers)
    for o in outputs:
        assert o in known, f"{name}: output {o} is never produced"


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=root / "tests" / "fixtures" / "layers")
    ap.add_argument("--only", nargs="*", help="case names to regenerate (default: all)")
    ap.add_argument("--skip-tf-check", action="store_true",
                    help="do not cross-check the numpy references against TensorFlow")
    args = ap.parse_args()
    if not args.skip_tf_check:
        cross_check_with_tensorflow()
    args.out.mkdir(parents=True, exist_ok=True)

    manifest_path = args.out / "manifest.json"
    manifest = []
    total = 0
    for name, c in CASES.items():
        if args.only and name not in args.only:
            continue
        rng = np.random.default_rng(seed_of(name))
        nb, inputs, outputs = c["build"](rng)
        spec = nb.spec
        check_graph(name, spec, inputs, outputs)
        for k, v in outputs.items():
            assert np.all(np.isfinite(v)), f"{name}: non-finite expected output {k}"
        rank5 = spec.neuralNetwork.arrayInputShapeMapping == NN.RANK5_ARRAY_MAPPING
        assert not rank5 or spec.specificationVersion <= 3, f"{name}: RANK5 mapping needs v<=3"
        coremltools.utils.save_spec(spec, str(args.out / f"{name}.mlmodel"))
        arrays = {k: np.asarray(v, F32) for k, v in inputs.items()}
        arrays.update({k: np.asarray(v, F32) for k, v in outputs.items()})
        save_npz(args.out / f"{name}.npz", arrays)
        customs = [l.custom.className for l in spec.neuralNetwork.layers
                   if l.WhichOneof("layer") == "custom"]
        entry = {
            "name": name,
            "layers": sorted(set(layer_kinds(spec))),
            "description": c["description"],
            "rtol": c["rtol"],
            "atol": c["atol"],
            "rank5_mapping": bool(rank5),
            "specification_version": spec.specificationVersion,
            "inputs": [{"name": k, "shape": list(np.shape(v))} for k, v in inputs.items()],
            "outputs": [{"name": k, "shape": list(np.shape(v))} for k, v in outputs.items()],
        }
        if customs:
            entry["custom_classes"] = customs
        if c["compare"]:
            entry["compare"] = c["compare"]
        manifest.append(entry)
        total += sum((args.out / f"{name}.{e}").stat().st_size for e in ("mlmodel", "npz"))

    if args.only and manifest_path.exists():
        import json

        old = {e["name"]: e for e in json.loads(manifest_path.read_text())}
        old.update({e["name"]: e for e in manifest})
        manifest = [old[n] for n in CASES if n in old]
    save_json(manifest_path, manifest)

    kinds = sorted({k for e in manifest for k in e["layers"]})
    w = max(len(e["name"]) for e in manifest)
    for e in manifest:
        print(f"{e['name']:<{w}}  {'rank5' if e['rank5_mapping'] else 'exact'}  "
              f"v{e['specification_version']}  {','.join(e['layers'])}")
    print(f"{len(manifest)} cases, {len(kinds)} layer kinds, {total} bytes")
    print("layer kinds:", " ".join(kinds))


if __name__ == "__main__":
    main()
