//! Recurrent layers on `[Seq, Batch, inputVectorSize, 1, 1]` sequences: unidirectional and
//! bidirectional LSTM, GRU and the simple RNN, with the proto's clipping of pre-activations
//! to [-50, 50]. Optional inputs are the initial states; outputs are the output sequence (or
//! last step) followed by the final states, as many as the layer names.

use super::activation::scalar_fn;
use crate::kbail;
use crate::proto::coreml::{
    activation_params::NonlinearityType as N, ActivationParams, ActivationSigmoid, ActivationTanh,
    BiDirectionalLstmLayerParams, GruLayerParams, LstmParams, LstmWeightParams, SimpleRecurrentLayerParams,
    UniDirectionalLstmLayerParams, WeightParams,
};
use crate::run::float::Float;
use crate::run::util::{from_vec, values};
use crate::run::weights::decode_len;
use crate::run::KernelError;
use ndarray::{Array2, ArrayD};

type Act<T> = Box<dyn Fn(T) -> T + Send + Sync>;

fn acts<T: Float>(given: &[ActivationParams], defaults: &[ActivationParams]) -> Result<Vec<Act<T>>, KernelError> {
    let list = if given.is_empty() { defaults } else { given };
    if list.len() != defaults.len() {
        kbail!("expects {} activations, got {}", defaults.len(), list.len());
    }
    list.iter().map(scalar_fn::<T>).collect()
}

fn sigmoid() -> ActivationParams {
    ActivationParams { nonlinearity_type: Some(N::Sigmoid(ActivationSigmoid {})) }
}
fn tanh() -> ActivationParams {
    ActivationParams { nonlinearity_type: Some(N::Tanh(ActivationTanh {})) }
}

/// A sequence `[S, B, I, (1, 1)]` as S matrices `[B, I]`.
fn steps<T: Float>(x: &ArrayD<T>, input_size: usize) -> Result<(usize, usize, Vec<Array2<T>>), KernelError> {
    let s = x.shape();
    if s.len() < 3 || s[2] != input_size || s[3..].iter().any(|&d| d != 1) {
        kbail!("input must be [Seq, Batch, {input_size}, 1, 1], got {:?}", s);
    }
    let (seq, batch) = (s[0], s[1]);
    let v = values(x);
    let mut out = Vec::with_capacity(seq);
    for t in 0..seq {
        let chunk = v[t * batch * input_size..(t + 1) * batch * input_size].to_vec();
        out.push(Array2::from_shape_vec((batch, input_size), chunk).map_err(|e| KernelError(e.to_string()))?);
    }
    Ok((seq, batch, out))
}

/// An initial state input `[1, B, H, 1, 1]`, or zeros.
fn state<T: Float>(ins: &[&ArrayD<T>], i: usize, batch: usize, h: usize) -> Result<Array2<T>, KernelError> {
    match ins.get(i) {
        None => Ok(Array2::zeros((batch, h))),
        Some(a) => {
            if a.len() != batch * h {
                kbail!("initial state {i} has shape {:?}, expected [1, {batch}, {h}, 1, 1]", a.shape());
            }
            Array2::from_shape_vec((batch, h), values(a).into_owned()).map_err(|e| KernelError(e.to_string()))
        }
    }
}

fn matrix<T: Float>(w: Option<&WeightParams>, what: &str, rows: usize, cols: usize) -> Result<Array2<T>, KernelError> {
    let v = decode_len::<T>(w, what, rows * cols)?;
    Array2::from_shape_vec((rows, cols), v).map_err(|e| KernelError(e.to_string()))
}

fn vector<T: Float>(w: Option<&WeightParams>, what: &str, n: usize, present: bool) -> Result<Vec<T>, KernelError> {
    if present {
        decode_len(w, what, n)
    } else {
        Ok(vec![T::zero(); n])
    }
}

/// `x W^T + h R^T + b`, clipped to [-50, 50].
fn pre<T: Float>(x: &Array2<T>, w: &Array2<T>, h: &Array2<T>, r: &Array2<T>, b: &[T]) -> Array2<T> {
    let mut z = x.dot(&w.t()) + h.dot(&r.t());
    let lim = T::from_f64(50.0);
    for mut row in z.rows_mut() {
        for (v, &bb) in row.iter_mut().zip(b) {
            *v = (*v + bb).max_nan(-lim).min_nan(lim);
        }
    }
    z
}

/// Stacks per-step `[B, H]` outputs into `[S, B, H, 1, 1]` (with the input's trailing rank).
fn stack_out<T: Float>(ys: &[Array2<T>], rank: usize) -> Result<ArrayD<T>, KernelError> {
    let (b, h) = ys.first().map(|a| a.dim()).unwrap_or((0, 0));
    let mut v = Vec::with_capacity(ys.len() * b * h);
    for y in ys {
        v.extend(y.iter().copied());
    }
    let mut shape = vec![ys.len(), b, h];
    shape.resize(rank.max(3), 1);
    from_vec(shape, v)
}

struct Lstm<T: Float> {
    w: [Array2<T>; 4],
    r: [Array2<T>; 4],
    b: [Vec<T>; 4],
    p: [Vec<T>; 3],
    f: Act<T>,
    g: Act<T>,
    h_act: Act<T>,
    params: LstmParams,
    hidden: usize,
}

impl<T: Float> Lstm<T> {
    fn new(w: &LstmWeightParams, params: LstmParams, activations: &[ActivationParams], i: usize, h: usize) -> Result<Self, KernelError> {
        let a = acts::<T>(activations, &[sigmoid(), tanh(), tanh()])?;
        let mut it = a.into_iter();
        let (f, g, h_act) = match (it.next(), it.next(), it.next()) {
            (Some(f), Some(g), Some(hh)) => (f, g, hh),
            _ => kbail!("LSTM needs three activations"),
        };
        let hb = params.has_bias_vectors;
        let mut bf = vector(w.forget_gate_bias_vector.as_ref(), "forgetGateBiasVector", h, hb)?;
        if params.forget_bias {
            for v in &mut bf {
                *v += T::one();
            }
        }
        let pp = params.has_peephole_vectors;
        Ok(Lstm {
            w: [
                matrix(w.input_gate_weight_matrix.as_ref(), "inputGateWeightMatrix", h, i)?,
                matrix(w.forget_gate_weight_matrix.as_ref(), "forgetGateWeightMatrix", h, i)?,
                matrix(w.block_input_weight_matrix.as_ref(), "blockInputWeightMatrix", h, i)?,
                matrix(w.output_gate_weight_matrix.as_ref(), "outputGateWeightMatrix", h, i)?,
            ],
            r: [
                matrix(w.input_gate_recursion_matrix.as_ref(), "inputGateRecursionMatrix", h, h)?,
                matrix(w.forget_gate_recursion_matrix.as_ref(), "forgetGateRecursionMatrix", h, h)?,
                matrix(w.block_input_recursion_matrix.as_ref(), "blockInputRecursionMatrix", h, h)?,
                matrix(w.output_gate_recursion_matrix.as_ref(), "outputGateRecursionMatrix", h, h)?,
            ],
            b: [
                vector(w.input_gate_bias_vector.as_ref(), "inputGateBiasVector", h, hb)?,
                bf,
                vector(w.block_input_bias_vector.as_ref(), "blockInputBiasVector", h, hb)?,
                vector(w.output_gate_bias_vector.as_ref(), "outputGateBiasVector", h, hb)?,
            ],
            p: [
                vector(w.input_gate_peephole_vector.as_ref(), "inputGatePeepholeVector", h, pp)?,
                vector(w.forget_gate_peephole_vector.as_ref(), "forgetGatePeepholeVector", h, pp)?,
                vector(w.output_gate_peephole_vector.as_ref(), "outputGatePeepholeVector", h, pp)?,
            ],
            f,
            g,
            h_act,
            params,
            hidden: h,
        })
    }

    /// Runs over `xs` (in the given direction); returns per-position outputs and final states.
    fn run(&self, xs: &[Array2<T>], reverse: bool, mut h: Array2<T>, mut c: Array2<T>) -> (Vec<Array2<T>>, Array2<T>, Array2<T>) {
        let n = xs.len();
        let mut ys = vec![Array2::zeros(h.dim()); n];
        let clip = T::from_f32(if self.params.cell_clip_threshold == 0.0 { 50.0 } else { self.params.cell_clip_threshold });
        let one = T::one();
        for k in 0..n {
            let t = if reverse { n - 1 - k } else { k };
            let x = &xs[t];
            let mut gi = pre(x, &self.w[0], &h, &self.r[0], &self.b[0]);
            let mut gf = pre(x, &self.w[1], &h, &self.r[1], &self.b[1]);
            let gz = pre(x, &self.w[2], &h, &self.r[2], &self.b[2]);
            let mut go = pre(x, &self.w[3], &h, &self.r[3], &self.b[3]);
            let (bsz, hs) = h.dim();
            let mut c_new = Array2::zeros((bsz, hs));
            for bb in 0..bsz {
                for j in 0..self.hidden {
                    let cp = c[[bb, j]];
                    let i_t = (self.f)(gi[[bb, j]] + self.p[0][j] * cp);
                    let f_t = (self.f)(gf[[bb, j]] + self.p[1][j] * cp);
                    let z_t = (self.g)(gz[[bb, j]]);
                    let mut ct = if self.params.coupled_input_and_forget_gate {
                        cp * (one - i_t) + i_t * z_t
                    } else {
                        cp * f_t + i_t * z_t
                    };
                    ct = ct.max_nan(-clip).min_nan(clip);
                    c_new[[bb, j]] = ct;
                    gi[[bb, j]] = i_t;
                    gf[[bb, j]] = f_t;
                }
            }
            for bb in 0..bsz {
                for j in 0..self.hidden {
                    let o_t = (self.f)(go[[bb, j]] + self.p[2][j] * c_new[[bb, j]]);
                    go[[bb, j]] = o_t;
                    h[[bb, j]] = (self.h_act)(c_new[[bb, j]]) * o_t;
                }
            }
            c = c_new;
            ys[t] = h.clone();
        }
        (ys, h, c)
    }
}

fn seq_or_last<T: Float>(ys: &[Array2<T>], last: &Array2<T>, sequence: bool, rank: usize) -> Result<ArrayD<T>, KernelError> {
    if sequence {
        stack_out(ys, rank)
    } else {
        stack_out(std::slice::from_ref(last), rank)
    }
}

fn take_outputs<T: Float>(mut all: Vec<ArrayD<T>>, n_out: usize) -> Result<Vec<ArrayD<T>>, KernelError> {
    if n_out == 0 || n_out > all.len() {
        kbail!("names {n_out} outputs; this layer has 1 to {}", all.len());
    }
    all.truncate(n_out);
    Ok(all)
}

pub fn uni_lstm<T: Float>(p: &UniDirectionalLstmLayerParams, ins: &[&ArrayD<T>], n_out: usize) -> Result<Vec<ArrayD<T>>, KernelError> {
    super::arity(ins, 1, 3)?;
    let (i, h) = (p.input_vector_size as usize, p.output_vector_size as usize);
    let params = p.params.unwrap_or_default();
    let Some(w) = &p.weight_params else { kbail!("weightParams is missing") };
    let lstm = Lstm::<T>::new(w, params, &p.activations, i, h)?;
    let (_, batch, xs) = steps(ins[0], i)?;
    let (ys, hf, cf) = lstm.run(&xs, p.reverse_input, state(ins, 1, batch, h)?, state(ins, 2, batch, h)?);
    let rank = ins[0].ndim();
    let y = seq_or_last(&ys, &hf, params.sequence_output, rank)?;
    take_outputs(vec![y, stack_out(&[hf], rank)?, stack_out(&[cf], rank)?], n_out)
}

/// Bidirectional LSTM: output features are `[forward, backward]`; the backward output at
/// position t is the one after reading x_S..x_t (proto example).
pub fn bi_lstm<T: Float>(p: &BiDirectionalLstmLayerParams, ins: &[&ArrayD<T>], n_out: usize) -> Result<Vec<ArrayD<T>>, KernelError> {
    super::arity(ins, 1, 5)?;
    let (i, h) = (p.input_vector_size as usize, p.output_vector_size as usize);
    let params = p.params.unwrap_or_default();
    if p.weight_params.len() != 2 {
        kbail!("weightParams must hold 2 entries (forward, backward), got {}", p.weight_params.len());
    }
    let fwd = Lstm::<T>::new(&p.weight_params[0], params, &p.activations_forward_lstm, i, h)?;
    let bwd_acts = if p.activations_backward_lstm.is_empty() { &p.activations_forward_lstm } else { &p.activations_backward_lstm };
    let bwd = Lstm::<T>::new(&p.weight_params[1], params, bwd_acts, i, h)?;
    let (_, batch, xs) = steps(ins[0], i)?;
    let (yf, hf, cf) = fwd.run(&xs, false, state(ins, 1, batch, h)?, state(ins, 2, batch, h)?);
    let (yb, hb, cb) = bwd.run(&xs, true, state(ins, 3, batch, h)?, state(ins, 4, batch, h)?);
    let cat = |a: &Array2<T>, b: &Array2<T>| ndarray::concatenate(ndarray::Axis(1), &[a.view(), b.view()]).map_err(|e| KernelError(e.to_string()));
    let rank = ins[0].ndim();
    let y = if params.sequence_output {
        let steps: Vec<Array2<T>> = yf.iter().zip(&yb).map(|(a, b)| cat(a, b)).collect::<Result<_, _>>()?;
        stack_out(&steps, rank)?
    } else {
        // Last step of each direction: forward after x_S, backward after x_1 (both final states).
        stack_out(&[cat(&hf, &hb)?], rank)?
    };
    take_outputs(
        vec![y, stack_out(&[hf], rank)?, stack_out(&[cf], rank)?, stack_out(&[hb], rank)?, stack_out(&[cb], rank)?],
        n_out,
    )
}

pub fn gru<T: Float>(p: &GruLayerParams, ins: &[&ArrayD<T>], n_out: usize) -> Result<Vec<ArrayD<T>>, KernelError> {
    super::arity(ins, 1, 2)?;
    let (i, hs) = (p.input_vector_size as usize, p.output_vector_size as usize);
    let a = acts::<T>(&p.activations, &[sigmoid(), tanh()])?;
    let (f, g) = (&a[0], &a[1]);
    let hb = p.has_bias_vectors;
    let wz = matrix::<T>(p.update_gate_weight_matrix.as_ref(), "updateGateWeightMatrix", hs, i)?;
    let wr = matrix::<T>(p.reset_gate_weight_matrix.as_ref(), "resetGateWeightMatrix", hs, i)?;
    let wo = matrix::<T>(p.output_gate_weight_matrix.as_ref(), "outputGateWeightMatrix", hs, i)?;
    let rz = matrix::<T>(p.update_gate_recursion_matrix.as_ref(), "updateGateRecursionMatrix", hs, hs)?;
    let rr = matrix::<T>(p.reset_gate_recursion_matrix.as_ref(), "resetGateRecursionMatrix", hs, hs)?;
    let ro = matrix::<T>(p.output_gate_recursion_matrix.as_ref(), "outputGateRecursionMatrix", hs, hs)?;
    let bz = vector::<T>(p.update_gate_bias_vector.as_ref(), "updateGateBiasVector", hs, hb)?;
    let br = vector::<T>(p.reset_gate_bias_vector.as_ref(), "resetGateBiasVector", hs, hb)?;
    let bo = vector::<T>(p.output_gate_bias_vector.as_ref(), "outputGateBiasVector", hs, hb)?;
    let (_, batch, xs) = steps(ins[0], i)?;
    let mut h = state(ins, 1, batch, hs)?;
    let n = xs.len();
    let mut ys = vec![Array2::zeros((batch, hs)); n];
    for k in 0..n {
        let t = if p.reverse_input { n - 1 - k } else { k };
        let x = &xs[t];
        let z = pre(x, &wz, &h, &rz, &bz).mapv(f);
        let r = pre(x, &wr, &h, &rr, &br).mapv(f);
        let c = &h * &r;
        let o = pre(x, &wo, &c, &ro, &bo).mapv(g);
        h = (z.mapv(|v| T::one() - v) * &o) + &z * &h;
        ys[t] = h.clone();
    }
    let rank = ins[0].ndim();
    let y = seq_or_last(&ys, &h, p.sequence_output, rank)?;
    take_outputs(vec![y, stack_out(&[h], rank)?], n_out)
}

pub fn simple_rnn<T: Float>(p: &SimpleRecurrentLayerParams, ins: &[&ArrayD<T>], n_out: usize) -> Result<Vec<ArrayD<T>>, KernelError> {
    super::arity(ins, 1, 2)?;
    let (i, hs) = (p.input_vector_size as usize, p.output_vector_size as usize);
    let Some(act) = &p.activation else { kbail!("activation is missing") };
    let f = scalar_fn::<T>(act)?;
    let w = matrix::<T>(p.weight_matrix.as_ref(), "weightMatrix", hs, i)?;
    let r = matrix::<T>(p.recursion_matrix.as_ref(), "recursionMatrix", hs, hs)?;
    let b = vector::<T>(p.bias_vector.as_ref(), "biasVector", hs, p.has_bias_vector)?;
    let (_, batch, xs) = steps(ins[0], i)?;
    let mut h = state(ins, 1, batch, hs)?;
    let n = xs.len();
    let mut ys = vec![Array2::zeros((batch, hs)); n];
    for k in 0..n {
        let t = if p.reverse_input { n - 1 - k } else { k };
        h = pre(&xs[t], &w, &h, &r, &b).mapv(&f);
        ys[t] = h.clone();
    }
    let rank = ins[0].ndim();
    let y = seq_or_last(&ys, &h, p.sequence_output, rank)?;
    take_outputs(vec![y, stack_out(&[h], rank)?], n_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::ActivationLinear;

    #[test]
    fn simple_rnn_linear_accumulates_by_hand() {
        // Linear activation (alpha 1, beta 0), W = [1], R = [1], no bias: h_t = x_t + h_{t-1}.
        // x = [1, 2, 3] -> h = [1, 3, 6].
        let wp = |v: f32| Some(WeightParams { float_value: vec![v], ..Default::default() });
        let p = SimpleRecurrentLayerParams {
            input_vector_size: 1,
            output_vector_size: 1,
            activation: Some(ActivationParams { nonlinearity_type: Some(N::Linear(ActivationLinear { alpha: 1.0, beta: 0.0 })) }),
            sequence_output: true,
            weight_matrix: wp(1.0),
            recursion_matrix: wp(1.0),
            ..Default::default()
        };
        let x = ArrayD::from_shape_vec(ndarray::IxDyn(&[3, 1, 1, 1, 1]), vec![1.0f32, 2.0, 3.0]).unwrap();
        let out = simple_rnn(&p, &[&x], 2).unwrap();
        assert_eq!(out[0].iter().copied().collect::<Vec<_>>(), vec![1.0, 3.0, 6.0]);
        assert_eq!(out[1].iter().copied().collect::<Vec<_>>(), vec![6.0]);
    }
}
