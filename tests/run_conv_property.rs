//! Property test: the interpreter's im2col convolution equals a direct seven-loop
//! convolution written from the proto's definition (groups, stride, dilation, valid padding
//! amounts or same padding in both asymmetry modes), on random shapes and values.

use mlrewrite::proto::coreml::{
    border_amounts::EdgeSizes, convolution_layer_params::ConvolutionPaddingType as Pad, BorderAmounts,
    ConvolutionLayerParams, SamePadding, ValidPadding, WeightParams,
};
use mlrewrite::run::layers::conv::convolution;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Setup {
    groups: usize,
    cin_g: usize,
    cout_g: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
    pad: Option<[usize; 4]>, // None = same padding
    top_left: bool,
    seed: u64,
}

fn setup() -> impl Strategy<Value = Setup> {
    (1usize..3, 1usize..3, 1usize..3, 1usize..8, 1usize..8, [1usize..4, 1usize..4], [1usize..3, 1usize..3], [1usize..3, 1usize..3])
        .prop_flat_map(|(groups, cin_g, cout_g, h, w, k, s, d)| {
            (Just((groups, cin_g, cout_g, h, w, k, s, d)), proptest::option::of([0usize..3, 0usize..3, 0usize..3, 0usize..3]), any::<bool>(), any::<u64>())
        })
        .prop_filter_map("kernel must fit", |((groups, cin_g, cout_g, h, w, k, s, d), pad, top_left, seed)| {
            let keff = [(k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1];
            if let Some(p) = pad {
                if h + p[0] + p[1] < keff[0] || w + p[2] + p[3] < keff[1] {
                    return None;
                }
            }
            Some(Setup { groups, cin_g, cout_g, h, w, k, s, d, pad, top_left, seed })
        })
}

/// Deterministic pseudo-random values in [-1, 1) (xorshift).
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

fn direct(st: &Setup, x: &[f64], wt: &[f64], pads: [usize; 4], oh: usize, ow: usize) -> Vec<f64> {
    let cout = st.groups * st.cout_g;
    let mut y = vec![0.0; cout * oh * ow];
    for o in 0..cout {
        let g = o / st.cout_g;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = 0.0;
                for ci in 0..st.cin_g {
                    let c = g * st.cin_g + ci;
                    for ky in 0..st.k[0] {
                        for kx in 0..st.k[1] {
                            let iy = (oy * st.s[0] + ky * st.d[0]) as isize - pads[0] as isize;
                            let ix = (ox * st.s[1] + kx * st.d[1]) as isize - pads[2] as isize;
                            if iy >= 0 && ix >= 0 && (iy as usize) < st.h && (ix as usize) < st.w {
                                acc += x[(c * st.h + iy as usize) * st.w + ix as usize]
                                    * wt[((o * st.cin_g + ci) * st.k[0] + ky) * st.k[1] + kx];
                            }
                        }
                    }
                }
                y[(o * oh + oy) * ow + ox] = acc;
            }
        }
    }
    y
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn im2col_convolution_equals_direct_loops(st in setup()) {
        let (cin, cout) = (st.groups * st.cin_g, st.groups * st.cout_g);
        let x = values(cin * st.h * st.w, st.seed);
        let wt = values(cout * st.cin_g * st.k[0] * st.k[1], st.seed.wrapping_add(1));
        let keff = [(st.k[0] - 1) * st.d[0] + 1, (st.k[1] - 1) * st.d[1] + 1];
        // Expected output size and padding, from the proto's ValidPadding / SamePadding text.
        let (pads, oh, ow, padding) = match st.pad {
            Some(p) => {
                let oh = (st.h + p[0] + p[1] - keff[0]) / st.s[0] + 1;
                let ow = (st.w + p[2] + p[3] - keff[1]) / st.s[1] + 1;
                let e = |a: usize, b: usize| EdgeSizes { start_edge_size: a as u64, end_edge_size: b as u64 };
                let v = ValidPadding { padding_amounts: Some(BorderAmounts { border_amounts: vec![e(p[0], p[1]), e(p[2], p[3])] }) };
                (p, oh, ow, Pad::Valid(v))
            }
            None => {
                let (oh, ow) = (st.h.div_ceil(st.s[0]), st.w.div_ceil(st.s[1]));
                let th = ((oh - 1) * st.s[0] + keff[0]).saturating_sub(st.h);
                let tw = ((ow - 1) * st.s[1] + keff[1]).saturating_sub(st.w);
                let (top, left) = if st.top_left { (th - th / 2, tw - tw / 2) } else { (th / 2, tw / 2) };
                ([top, th - top, left, tw - left], oh, ow, Pad::Same(SamePadding { asymmetry_mode: st.top_left as i32 }))
            }
        };
        let p = ConvolutionLayerParams {
            output_channels: cout as u64,
            kernel_channels: st.cin_g as u64,
            n_groups: st.groups as u64,
            kernel_size: st.k.iter().map(|&v| v as u64).collect(),
            stride: st.s.iter().map(|&v| v as u64).collect(),
            dilation_factor: st.d.iter().map(|&v| v as u64).collect(),
            weights: Some(WeightParams { float_value: wt.iter().map(|&v| v as f32).collect(), ..Default::default() }),
            convolution_padding_type: Some(padding),
            ..Default::default()
        };
        // f64 run with weights rounded to f32 as stored; the reference uses the same rounding.
        let wt32: Vec<f64> = wt.iter().map(|&v| v as f32 as f64).collect();
        let input = ArrayD::from_shape_vec(IxDyn(&[1, cin, st.h, st.w]), x.clone()).unwrap();
        let got = convolution(&p, &[&input]).unwrap();
        prop_assert_eq!(got.shape(), &[1, cout, oh, ow]);
        let want = direct(&st, &x, &wt32, pads, oh, ow);
        for (g, w) in got.iter().zip(&want) {
            prop_assert!((g - w).abs() < 1e-12, "got {} want {}", g, w);
        }
    }
}
