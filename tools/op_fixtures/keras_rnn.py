"""Keras recurrent layers (LSTM, GRU, SimpleRNN) as coremltools' tests build them, frozen in
their TF2 form (`lower_control_flow=False`) and, for the `*_lowered` cases, with TF's default
lowering to TF1 frames: each layer is a `While` whose body reads x_t from a
`TensorList` (TensorListFromTensor + TensorListGetItem) and writes h_t into another
(TensorListReserve + TensorListSetItem, TensorListStack after the loop). Fixed batch and
sequence length. Weights are drawn from the case's seed (not Keras' initialisers) so that the
gates are neither saturated nor linear; inputs are standard normal."""
import numpy as np
import tensorflow as tf

from . import case, normal, spec

B, T, NX = 2, 5, 3


def _seed_weights(rng, model, scale=0.5):
    model.set_weights([normal(rng, *w.shape, scale=scale) for w in model.get_weights()])


def _keras(rng, layers, shape=(T, NX), time_major=False):
    """`layers` is a list of Keras layers applied in turn to one input; the function returns the
    last layer's outputs (a tuple when it has several)."""
    inp = tf.keras.Input(shape=shape, batch_size=B if not time_major else None)
    if time_major:
        inp = tf.keras.Input(batch_shape=(shape[0], B, shape[1]))
    out = inp
    for layer in layers:
        out = layer(out)
    model = tf.keras.Model(inp, out)
    _seed_weights(rng, model)

    def fn(x):
        r = model(x)
        return tuple(r) if isinstance(r, (list, tuple)) else r

    x = normal(rng, *(shape[0], B, shape[1]) if time_major else (B, *shape))
    return fn, [spec("x", x)]


def _rnn_case(name, description, make_layers, shape=(T, NX), time_major=False, refused=None, lowered=False):
    """`lowered`: frozen with `lower_control_flow=True` (the default of
    `convert_variables_to_constants_v2`): the loop arrives as TF1 frames (Enter, Merge, Switch,
    Exit...) around the same TensorList ops."""
    @case(name, description, keep_control_flow=not lowered, refused=refused)
    def _(rng):
        return _keras(rng, make_layers(), shape, time_major)


L = tf.keras.layers

_rnn_case("keras_lstm_last", "Keras LSTM(4), last output only",
          lambda: [L.LSTM(4)])
_rnn_case("keras_lstm_sequences", "Keras LSTM(6, return_sequences=True)",
          lambda: [L.LSTM(6, return_sequences=True)])
_rnn_case("keras_lstm_state", "Keras LSTM(4, return_sequences=True, return_state=True): sequence, h and c",
          lambda: [L.LSTM(4, return_sequences=True, return_state=True)])
_rnn_case("keras_lstm_backwards", "Keras LSTM(5, go_backwards=True, return_sequences=True) "
          "(the sequence output is in reversed time order, as Keras returns it)",
          lambda: [L.LSTM(5, go_backwards=True, return_sequences=True)])
_rnn_case("keras_lstm_long", "Keras LSTM(8) over 12 timesteps of 7 features",
          lambda: [L.LSTM(8)], shape=(12, 7))
_rnn_case("keras_lstm_stacked", "two stacked Keras LSTMs (6 with sequences, then 3)",
          lambda: [L.LSTM(6, return_sequences=True), L.LSTM(3)])
_rnn_case("keras_lstm_time_major", "Keras LSTM(4, time_major=True, return_sequences=True) on [T, B, C]",
          lambda: [L.LSTM(4, time_major=True, return_sequences=True)], time_major=True)
_rnn_case("keras_lstm_bidirectional", "Keras Bidirectional(LSTM(4, return_sequences=True)), concatenated",
          lambda: [L.Bidirectional(L.LSTM(4, return_sequences=True))])
_rnn_case("keras_lstm_bidirectional_attention", "Keras Bidirectional(LSTM(4, return_sequences=True)) then dot-product "
          "self-attention (softmax(h h^T) h, as keras.layers.Attention): the concatenation of the two directions "
          "feeds a batched matmul", lambda: [L.Bidirectional(L.LSTM(4, return_sequences=True)),
                                            L.Lambda(lambda h: tf.matmul(tf.nn.softmax(tf.matmul(h, h, transpose_b=True)), h))])
_rnn_case("keras_lstm_bidirectional_last", "Keras Bidirectional(LSTM(3)), last outputs concatenated",
          lambda: [L.Bidirectional(L.LSTM(3))])
_rnn_case("keras_gru_last", "Keras GRU(4) (reset_after=True, TF2's default), last output only: a Core ML loop "
          "(Core ML's gru applies the reset gate before the recurrent matmul, Keras after)", lambda: [L.GRU(4)])
_rnn_case("keras_gru_sequences", "Keras GRU(5, return_sequences=True, return_state=True), reset_after=True: a Core ML loop",
          lambda: [L.GRU(5, return_sequences=True, return_state=True)])
_rnn_case("keras_gru_reset_after_backwards", "Keras GRU(4, go_backwards=True, return_sequences=True), "
          "reset_after=True: a Core ML loop", lambda: [L.GRU(4, go_backwards=True, return_sequences=True)])
_rnn_case("keras_gru_backwards", "Keras GRU(4, reset_after=False, go_backwards=True, return_state=True): "
          "last output and state", lambda: [L.GRU(4, reset_after=False, go_backwards=True, return_state=True)])
_rnn_case("keras_gru_reset_before", "Keras GRU(4, reset_after=False, return_sequences=True) (the TF1 form)",
          lambda: [L.GRU(4, reset_after=False, return_sequences=True)])
_rnn_case("keras_gru_reset_before_long", "Keras GRU(6, reset_after=False) over 9 timesteps of 5 features, last output",
          lambda: [L.GRU(6, reset_after=False)], shape=(9, 5))
_rnn_case("keras_simple_rnn_last", "Keras SimpleRNN(4), last output only",
          lambda: [L.SimpleRNN(4)])
_rnn_case("keras_simple_rnn_sequences", "Keras SimpleRNN(6, return_sequences=True, return_state=True)",
          lambda: [L.SimpleRNN(6, return_sequences=True, return_state=True)])
_rnn_case("keras_simple_rnn_backwards", "Keras SimpleRNN(3, go_backwards=True, return_sequences=True)",
          lambda: [L.SimpleRNN(3, go_backwards=True, return_sequences=True)])

# The same layers frozen with TF's default `lower_control_flow=True` (TF1 frames).
_rnn_case("keras_lstm_state_lowered", "Keras LSTM(4, return_sequences=True, return_state=True), frozen "
          "with lower_control_flow=True (TF1 frames)",
          lambda: [L.LSTM(4, return_sequences=True, return_state=True)], lowered=True)
_rnn_case("keras_lstm_bidirectional_lowered", "Keras Bidirectional(LSTM(3)), frozen with lower_control_flow=True",
          lambda: [L.Bidirectional(L.LSTM(3))], lowered=True)
_rnn_case("keras_lstm_stacked_lowered", "two stacked Keras LSTMs (5 with sequences, then 3), frozen with "
          "lower_control_flow=True", lambda: [L.LSTM(5, return_sequences=True), L.LSTM(3)], lowered=True)
_rnn_case("keras_gru_reset_before_lowered", "Keras GRU(4, reset_after=False, go_backwards=True, return_state=True), "
          "frozen with lower_control_flow=True",
          lambda: [L.GRU(4, reset_after=False, go_backwards=True, return_state=True)], lowered=True)
_rnn_case("keras_simple_rnn_sequences_lowered", "Keras SimpleRNN(6, return_sequences=True, return_state=True), "
          "frozen with lower_control_flow=True",
          lambda: [L.SimpleRNN(6, return_sequences=True, return_state=True)], lowered=True)
_rnn_case("keras_gru_reset_after_lowered", "Keras GRU(4) (reset_after=True), last output, frozen with "
          "lower_control_flow=True", lambda: [L.GRU(4)], lowered=True)
_rnn_case("keras_gru_reset_after_sequences_lowered", "Keras GRU(5, return_sequences=True, return_state=True), "
          "reset_after=True, frozen with lower_control_flow=True",
          lambda: [L.GRU(5, return_sequences=True, return_state=True)], lowered=True)
_rnn_case("keras_gru_reset_after_backwards_lowered", "Keras GRU(3, go_backwards=True, return_sequences=True), "
          "reset_after=True, frozen with lower_control_flow=True",
          lambda: [L.GRU(3, go_backwards=True, return_sequences=True)], lowered=True)
