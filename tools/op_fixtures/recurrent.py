"""Fused LSTM ops: BlockLSTM, BlockLSTMV2 (whole sequences) and LSTMBlockCell (one step), with
clipping on and off, peepholes, a forget bias, and non-zero initial states fed as inputs."""
import numpy as np
import tensorflow as tf

from . import case, normal, spec

T, B, NX, NH = 5, 2, 3, 4


def _weights(rng, scale=0.6):
    w = tf.constant(normal(rng, NX + NH, 4 * NH, scale=scale))
    b = tf.constant(normal(rng, 4 * NH, scale=0.5))
    peep = [tf.constant(normal(rng, NH, scale=0.5)) for _ in range(3)]
    return w, b, peep


def _states(rng):
    return [spec("x", normal(rng, T, B, NX, scale=1.5)), spec("c0", normal(rng, B, NH)), spec("h0", normal(rng, B, NH, scale=0.5))]


def _block_lstm(op, **attrs):
    def build(rng):
        w, b, (wci, wcf, wco) = _weights(rng, scale=attrs.pop("scale", 0.6))

        def fn(x, c0, h0):
            r = op(seq_len_max=tf.constant(T, tf.int64), x=x, cs_prev=c0, h_prev=h0, w=w, wci=wci, wcf=wcf, wco=wco, b=b, **attrs)
            return r.h
        return fn, _states(rng)
    return build


case("block_lstm_default", "BlockLSTM, forget_bias 1, cell_clip 3 (default), no peephole")(_block_lstm(tf.raw_ops.BlockLSTM))
case("block_lstm_clipping", "BlockLSTM with weights large enough that cell_clip 0.8 clips the cell state")(
    _block_lstm(tf.raw_ops.BlockLSTM, cell_clip=0.8, forget_bias=0.5, scale=2.0))
case("block_lstm_no_clip_peephole", "BlockLSTM with cell_clip 0 (off), peepholes, forget_bias 0")(
    _block_lstm(tf.raw_ops.BlockLSTM, cell_clip=0.0, forget_bias=0.0, use_peephole=True, scale=1.5))
case("block_lstm_v2", "BlockLSTMV2 (IFCO gates, no forget bias), cell_clip 0")(_block_lstm(tf.raw_ops.BlockLSTMV2))
case("block_lstm_v2_peephole", "BlockLSTMV2 with peepholes and cell_clip 1.5")(
    _block_lstm(tf.raw_ops.BlockLSTMV2, use_peephole=True, cell_clip=1.5, scale=1.5))


@case("lstm_block_cell_chain", "Three LSTMBlockCell steps chained through h and cs, both returned")
def _(rng):
    w, b, (wci, wcf, wco) = _weights(rng)

    def fn(x, c0, h0):
        c, h = c0, h0
        for t in range(3):
            r = tf.raw_ops.LSTMBlockCell(x=x[t], cs_prev=c, h_prev=h, w=w, wci=wci, wcf=wcf, wco=wco, b=b,
                                         forget_bias=1.0, cell_clip=-1.0, use_peephole=True)
            c, h = r.cs, r.h
        return h, c
    return fn, _states(rng)
