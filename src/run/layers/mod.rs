//! Layer kernels, one module per family, and the dispatch from a `NeuralNetworkLayer` to
//! its kernel. Each kernel follows the comment of its message in Core ML's
//! `NeuralNetwork.proto`; where a comment leaves a choice open, the kernel says which.

pub mod activation;
pub mod conv;
pub mod elementwise;
pub mod nms;
pub mod gather;
pub mod normalize;
pub mod pool;
pub mod random;
pub mod recurrent;
pub mod reduce;
pub mod shape;
pub mod volume;

use super::float::Float;
use super::KernelError;
use crate::kbail;
use crate::proto::coreml::{neural_network_layer::Layer, NeuralNetworkLayer};
use ndarray::ArrayD;

/// Checks the number of inputs against the layer's contract.
pub(crate) fn arity<T>(ins: &[&ArrayD<T>], min: usize, max: usize) -> Result<(), KernelError> {
    if ins.len() < min || ins.len() > max {
        if min == max {
            kbail!("expects {min} input(s), got {}", ins.len());
        }
        kbail!("expects {min} to {max} inputs, got {}", ins.len());
    }
    Ok(())
}

/// Runs one layer (custom layers are run by the interpreter, which holds the kernels).
pub fn execute<T: Float>(
    l: &NeuralNetworkLayer,
    kind: &Layer,
    ins: &[&ArrayD<T>],
) -> Result<Vec<ArrayD<T>>, KernelError> {
    use Layer::*;
    let one = |r: Result<ArrayD<T>, KernelError>| r.map(|a| vec![a]);
    match kind {
        // activation.rs
        Activation(p) => one(activation::activation(p, ins)),
        Gelu(p) => one(activation::gelu(p, ins)),
        Unary(p) => one(activation::unary(p, ins)),
        Clip(p) => one(activation::clip(p, ins)),
        ClampedReLu(p) => one(activation::clamped_relu(p, ins)),
        Erf(_) | Ceil(_) | Floor(_) | Round(_) | Sign(_) | Exp2(_) | Sin(_) | Cos(_) | Tan(_) | Asin(_)
        | Acos(_) | Atan(_) | Sinh(_) | Cosh(_) | Tanh(_) | Asinh(_) | Acosh(_) | Atanh(_) => {
            one(activation::math(kind_name(kind), ins))
        }
        // elementwise.rs
        Add(p) => one(elementwise::add(p.alpha, ins)),
        Multiply(p) => one(elementwise::multiply(p.alpha, ins)),
        Average(_) => one(elementwise::average(ins)),
        Max(_) => one(elementwise::fold_legacy(ins, T::max_nan)),
        Min(_) => one(elementwise::fold_legacy(ins, T::min_nan)),
        AddBroadcastable(_) | SubtractBroadcastable(_) | MultiplyBroadcastable(_) | DivideBroadcastable(_)
        | MaxBroadcastable(_) | MinBroadcastable(_) | PowBroadcastable(_) | ModBroadcastable(_)
        | FloorDivBroadcastable(_) => one(elementwise::broadcastable(kind_name(kind), ins)),
        Equal(p) => one(elementwise::compare(ins, p.alpha, |a, b| a == b)),
        NotEqual(p) => one(elementwise::compare(ins, p.alpha, |a, b| a != b)),
        LessThan(p) => one(elementwise::compare(ins, p.alpha, |a, b| a < b)),
        LessEqual(p) => one(elementwise::compare(ins, p.alpha, |a, b| a <= b)),
        GreaterThan(p) => one(elementwise::compare(ins, p.alpha, |a, b| a > b)),
        GreaterEqual(p) => one(elementwise::compare(ins, p.alpha, |a, b| a >= b)),
        LogicalAnd(_) => one(elementwise::logical(ins, |a, b| a && b)),
        LogicalOr(_) => one(elementwise::logical(ins, |a, b| a || b)),
        LogicalXor(_) => one(elementwise::logical(ins, |a, b| a != b)),
        LogicalNot(_) => one(elementwise::logical_not(ins)),
        WhereBroadcastable(_) => one(elementwise::where_(ins)),
        Bias(p) => one(elementwise::bias(p, ins)),
        Scale(p) => one(elementwise::scale(p, ins)),
        Dot(p) => one(elementwise::dot(p, ins)),
        // conv.rs
        Convolution(p) => one(conv::convolution(p, ins)),
        InnerProduct(p) => one(conv::inner_product(p, ins)),
        BatchedMatmul(p) => one(conv::batched_matmul(p, ins)),
        Embedding(p) => one(conv::embedding(p, ins)),
        EmbeddingNd(p) => one(conv::embedding_nd(p, ins)),
        // pool.rs
        Pooling(p) => one(pool::pooling(p, ins)),
        Padding(p) => one(pool::padding(p, ins)),
        ConstantPad(p) => one(pool::constant_pad(p, ins)),
        Upsample(p) => one(pool::upsample(p, ins)),
        ResizeBilinear(p) => one(pool::resize_bilinear(p, ins)),
        Crop(p) => one(pool::crop(p, ins)),
        CropResize(p) => one(pool::crop_resize(p, ins)),
        // volume.rs
        Convolution3d(p) => one(volume::convolution3d(p, ins)),
        Pooling3d(p) => one(volume::pooling3d(p, ins)),
        GlobalPooling3d(p) => one(volume::global_pooling3d(p, ins)),
        // normalize.rs
        Batchnorm(p) => one(normalize::batchnorm(p, ins)),
        LayerNormalization(p) => one(normalize::layer_norm(p, ins)),
        Mvn(p) => one(normalize::mvn(p, ins)),
        L2normalize(p) => one(normalize::l2_normalize(p, ins)),
        Lrn(p) => one(normalize::lrn(p, ins)),
        Softmax(_) => one(normalize::softmax_legacy(ins)),
        SoftmaxNd(p) => one(normalize::softmax_nd(p.axis, ins)),
        // reduce.rs
        Reduce(p) => one(reduce::reduce_legacy(p, ins)),
        ReduceSum(p) => one(reduce::reduce_nd(reduce::Mode::Sum, &p.axes, p.keep_dims, p.reduce_all, ins)),
        ReduceMean(p) => one(reduce::reduce_nd(reduce::Mode::Mean, &p.axes, p.keep_dims, p.reduce_all, ins)),
        ReduceProd(p) => one(reduce::reduce_nd(reduce::Mode::Prod, &p.axes, p.keep_dims, p.reduce_all, ins)),
        ReduceMax(p) => one(reduce::reduce_nd(reduce::Mode::Max, &p.axes, p.keep_dims, p.reduce_all, ins)),
        ReduceMin(p) => one(reduce::reduce_nd(reduce::Mode::Min, &p.axes, p.keep_dims, p.reduce_all, ins)),
        ReduceL1(p) => one(reduce::reduce_nd(reduce::Mode::L1, &p.axes, p.keep_dims, p.reduce_all, ins)),
        ReduceL2(p) => one(reduce::reduce_nd(reduce::Mode::L2, &p.axes, p.keep_dims, p.reduce_all, ins)),
        ReduceLogSum(p) => one(reduce::reduce_nd(reduce::Mode::LogSum, &p.axes, p.keep_dims, p.reduce_all, ins)),
        ReduceSumSquare(p) => {
            one(reduce::reduce_nd(reduce::Mode::SumSquare, &p.axes, p.keep_dims, p.reduce_all, ins))
        }
        ReduceLogSumExp(p) => {
            one(reduce::reduce_nd(reduce::Mode::LogSumExp, &p.axes, p.keep_dims, p.reduce_all, ins))
        }
        ArgMax(p) => one(reduce::arg_extreme(p.axis, p.remove_dim, true, ins)),
        ArgMin(p) => one(reduce::arg_extreme(p.axis, p.remove_dim, false, ins)),
        TopK(p) => reduce::top_k(p, ins),
        CumSum(p) => one(reduce::cum_sum(p, ins)),
        ArgSort(p) => one(reduce::arg_sort(p, ins)),
        // shape.rs
        Reshape(p) => one(shape::reshape_legacy(p, ins)),
        ReshapeStatic(p) => one(shape::reshape_static(&p.target_shape, ins)),
        ReshapeDynamic(_) => one(shape::reshape_dynamic(ins)),
        ReshapeLike(_) => one(shape::reshape_like(ins)),
        RankPreservingReshape(p) => one(shape::rank_preserving_reshape(&p.target_shape, ins)),
        Flatten(p) => one(shape::flatten(p, ins)),
        FlattenTo2D(p) => one(shape::flatten_to_2d(p.axis, ins)),
        ExpandDims(p) => one(shape::expand_dims(&p.axes, ins)),
        Squeeze(p) => one(shape::squeeze(&p.axes, p.squeeze_all, ins)),
        Transpose(p) => one(shape::transpose(&p.axes, ins)),
        Permute(p) => one(shape::permute(&p.axis, ins)),
        Concat(p) => one(shape::concat_legacy(p.sequence_concat, ins)),
        ConcatNd(p) => one(shape::concat_nd(p.axis, p.interleave, ins)),
        Split(p) => shape::split_legacy(p.n_outputs, l.output.len(), ins),
        SplitNd(p) => shape::split_nd(p, l.output.len(), ins),
        Slice(p) => one(shape::slice_legacy(p, ins)),
        SliceStatic(p) => one(shape::slice_static(p, ins)),
        SliceDynamic(p) => one(shape::slice_dynamic(p, ins)),
        SliceBySize(p) => one(shape::slice_by_size(p, ins)),
        Tile(p) => one(shape::tile(&p.reps, ins)),
        Stack(p) => one(shape::stack(p.axis, ins)),
        Reverse(p) => one(shape::reverse(&p.reverse_dim, ins)),
        ReorganizeData(p) => one(shape::reorganize_data(p, ins)),
        GetShape(_) => one(shape::get_shape(ins)),
        LoadConstant(p) => one(shape::load_constant(&p.shape, p.data.as_ref(), true, ins)),
        LoadConstantNd(p) => one(shape::load_constant(&p.shape, p.data.as_ref(), false, ins)),
        FillLike(p) => one(shape::fill_like(p.value, ins)),
        FillStatic(p) => one(shape::fill_static(p.value, &p.target_shape, ins)),
        FillDynamic(p) => one(shape::fill_dynamic(p.value, ins)),
        BroadcastToLike(_) => one(shape::broadcast_to_like(ins)),
        BroadcastToStatic(p) => one(shape::broadcast_to_static(&p.target_shape, ins)),
        BroadcastToDynamic(_) => one(shape::broadcast_to_dynamic(ins)),
        RangeStatic(p) => one(shape::range_static(p, ins)),
        RangeDynamic(p) => one(shape::range_dynamic(p, ins)),
        OneHot(p) => one(shape::one_hot(p, ins)),
        MatrixBandPart(p) => one(shape::band_part(p.num_lower, p.num_upper, ins)),
        LowerTriangular(p) => one(shape::band_part_k(p.k, true, ins)),
        UpperTriangular(p) => one(shape::band_part_k(p.k, false, ins)),
        Copy(_) => one(shape::copy(ins)),
        SequenceRepeat(p) => one(shape::sequence_repeat(p.n_repetitions, ins)),
        WhereNonZero(_) => one(shape::where_non_zero(ins)),
        ReverseSeq(p) => one(shape::reverse_seq(p.batch_axis, p.sequence_axis, ins)),
        SlidingWindows(p) => one(shape::sliding_windows(p.axis, p.window_size, p.step, ins)),
        // gather.rs
        Gather(p) => one(gather::gather(p.axis, ins)),
        GatherNd(_) => one(gather::gather_nd(ins)),
        GatherAlongAxis(p) => one(gather::gather_along_axis(p.axis, ins)),
        Scatter(p) => one(gather::scatter(p.axis, p.mode, ins)),
        ScatterNd(p) => one(gather::scatter_nd(p.mode, ins)),
        ScatterAlongAxis(p) => one(gather::scatter_along_axis(p.axis, p.mode, ins)),
        // recurrent.rs
        UniDirectionalLstm(p) => recurrent::uni_lstm(p, ins, l.output.len()),
        BiDirectionalLstm(p) => recurrent::bi_lstm(p, ins, l.output.len()),
        Gru(p) => recurrent::gru(p, ins, l.output.len()),
        SimpleRecurrent(p) => recurrent::simple_rnn(p, ins, l.output.len()),
        // random.rs: values from the named distribution, not Core ML's generator
        RandomUniformLike(p) => one(random::sample(uniform(p.min_val, p.max_val), p.seed, random::ShapeFrom::Like, ins)),
        RandomUniformStatic(p) => {
            one(random::sample(uniform(p.min_val, p.max_val), p.seed, random::ShapeFrom::Static(&p.output_shape), ins))
        }
        RandomUniformDynamic(p) => one(random::sample(uniform(p.min_val, p.max_val), p.seed, random::ShapeFrom::Dynamic, ins)),
        RandomNormalLike(p) => one(random::sample(normal(p.mean, p.std_dev), p.seed, random::ShapeFrom::Like, ins)),
        RandomNormalStatic(p) => {
            one(random::sample(normal(p.mean, p.std_dev), p.seed, random::ShapeFrom::Static(&p.output_shape), ins))
        }
        RandomNormalDynamic(p) => one(random::sample(normal(p.mean, p.std_dev), p.seed, random::ShapeFrom::Dynamic, ins)),
        RandomBernoulliLike(p) => one(random::sample(bernoulli(p.prob), p.seed, random::ShapeFrom::Like, ins)),
        RandomBernoulliStatic(p) => {
            one(random::sample(bernoulli(p.prob), p.seed, random::ShapeFrom::Static(&p.output_shape), ins))
        }
        RandomBernoulliDynamic(p) => one(random::sample(bernoulli(p.prob), p.seed, random::ShapeFrom::Dynamic, ins)),
        CategoricalDistribution(p) => one(random::categorical(p, ins)),
        // nms.rs
        NonMaximumSuppression(p) => nms::nms(p, ins),
        _ => kbail!("layer kind {} is not supported", kind_name(kind)),
    }
}

fn uniform(min: f32, max: f32) -> random::Dist {
    random::Dist::Uniform { min, max }
}

fn normal(mean: f32, std_dev: f32) -> random::Dist {
    random::Dist::Normal { mean, std_dev }
}

fn bernoulli(prob: f32) -> random::Dist {
    random::Dist::Bernoulli { prob }
}

/// The Core ML proto field name of a layer kind.
pub fn kind_name(kind: &Layer) -> &'static str {
    use Layer::*;
    match kind {
        Convolution(_) => "convolution",
        Pooling(_) => "pooling",
        Activation(_) => "activation",
        InnerProduct(_) => "innerProduct",
        Embedding(_) => "embedding",
        Batchnorm(_) => "batchnorm",
        Mvn(_) => "mvn",
        L2normalize(_) => "l2normalize",
        Softmax(_) => "softmax",
        Lrn(_) => "lrn",
        Crop(_) => "crop",
        Padding(_) => "padding",
        Upsample(_) => "upsample",
        ResizeBilinear(_) => "resizeBilinear",
        CropResize(_) => "cropResize",
        Unary(_) => "unary",
        Add(_) => "add",
        Multiply(_) => "multiply",
        Average(_) => "average",
        Scale(_) => "scale",
        Bias(_) => "bias",
        Max(_) => "max",
        Min(_) => "min",
        Dot(_) => "dot",
        Reduce(_) => "reduce",
        LoadConstant(_) => "loadConstant",
        Reshape(_) => "reshape",
        Flatten(_) => "flatten",
        Permute(_) => "permute",
        Concat(_) => "concat",
        Split(_) => "split",
        SequenceRepeat(_) => "sequenceRepeat",
        ReorganizeData(_) => "reorganizeData",
        Slice(_) => "slice",
        SimpleRecurrent(_) => "simpleRecurrent",
        Gru(_) => "gru",
        UniDirectionalLstm(_) => "uniDirectionalLSTM",
        BiDirectionalLstm(_) => "biDirectionalLSTM",
        Custom(_) => "custom",
        Copy(_) => "copy",
        Branch(_) => "branch",
        Loop(_) => "loop",
        LoopBreak(_) => "loopBreak",
        LoopContinue(_) => "loopContinue",
        RangeStatic(_) => "rangeStatic",
        RangeDynamic(_) => "rangeDynamic",
        Clip(_) => "clip",
        Ceil(_) => "ceil",
        Floor(_) => "floor",
        Sign(_) => "sign",
        Round(_) => "round",
        Exp2(_) => "exp2",
        Sin(_) => "sin",
        Cos(_) => "cos",
        Tan(_) => "tan",
        Asin(_) => "asin",
        Acos(_) => "acos",
        Atan(_) => "atan",
        Sinh(_) => "sinh",
        Cosh(_) => "cosh",
        Tanh(_) => "tanh",
        Asinh(_) => "asinh",
        Acosh(_) => "acosh",
        Atanh(_) => "atanh",
        Erf(_) => "erf",
        Gelu(_) => "gelu",
        Equal(_) => "equal",
        NotEqual(_) => "notEqual",
        LessThan(_) => "lessThan",
        LessEqual(_) => "lessEqual",
        GreaterThan(_) => "greaterThan",
        GreaterEqual(_) => "greaterEqual",
        LogicalOr(_) => "logicalOr",
        LogicalXor(_) => "logicalXor",
        LogicalNot(_) => "logicalNot",
        LogicalAnd(_) => "logicalAnd",
        ModBroadcastable(_) => "modBroadcastable",
        MinBroadcastable(_) => "minBroadcastable",
        MaxBroadcastable(_) => "maxBroadcastable",
        AddBroadcastable(_) => "addBroadcastable",
        PowBroadcastable(_) => "powBroadcastable",
        DivideBroadcastable(_) => "divideBroadcastable",
        FloorDivBroadcastable(_) => "floorDivBroadcastable",
        MultiplyBroadcastable(_) => "multiplyBroadcastable",
        SubtractBroadcastable(_) => "subtractBroadcastable",
        Tile(_) => "tile",
        Stack(_) => "stack",
        Gather(_) => "gather",
        Scatter(_) => "scatter",
        GatherNd(_) => "gatherND",
        ScatterNd(_) => "scatterND",
        SoftmaxNd(_) => "softmaxND",
        GatherAlongAxis(_) => "gatherAlongAxis",
        ScatterAlongAxis(_) => "scatterAlongAxis",
        Reverse(_) => "reverse",
        ReverseSeq(_) => "reverseSeq",
        SplitNd(_) => "splitND",
        ConcatNd(_) => "concatND",
        Transpose(_) => "transpose",
        SliceStatic(_) => "sliceStatic",
        SliceDynamic(_) => "sliceDynamic",
        SlidingWindows(_) => "slidingWindows",
        TopK(_) => "topK",
        ArgMin(_) => "argMin",
        ArgMax(_) => "argMax",
        EmbeddingNd(_) => "embeddingND",
        BatchedMatmul(_) => "batchedMatmul",
        GetShape(_) => "getShape",
        LoadConstantNd(_) => "loadConstantND",
        FillLike(_) => "fillLike",
        FillStatic(_) => "fillStatic",
        FillDynamic(_) => "fillDynamic",
        BroadcastToLike(_) => "broadcastToLike",
        BroadcastToStatic(_) => "broadcastToStatic",
        BroadcastToDynamic(_) => "broadcastToDynamic",
        Squeeze(_) => "squeeze",
        ExpandDims(_) => "expandDims",
        FlattenTo2D(_) => "flattenTo2D",
        ReshapeLike(_) => "reshapeLike",
        ReshapeStatic(_) => "reshapeStatic",
        ReshapeDynamic(_) => "reshapeDynamic",
        RankPreservingReshape(_) => "rankPreservingReshape",
        ConstantPad(_) => "constantPad",
        RandomNormalLike(_) => "randomNormalLike",
        RandomNormalStatic(_) => "randomNormalStatic",
        RandomNormalDynamic(_) => "randomNormalDynamic",
        RandomUniformLike(_) => "randomUniformLike",
        RandomUniformStatic(_) => "randomUniformStatic",
        RandomUniformDynamic(_) => "randomUniformDynamic",
        RandomBernoulliLike(_) => "randomBernoulliLike",
        RandomBernoulliStatic(_) => "randomBernoulliStatic",
        RandomBernoulliDynamic(_) => "randomBernoulliDynamic",
        CategoricalDistribution(_) => "categoricalDistribution",
        ReduceL1(_) => "reduceL1",
        ReduceL2(_) => "reduceL2",
        ReduceMax(_) => "reduceMax",
        ReduceMin(_) => "reduceMin",
        ReduceSum(_) => "reduceSum",
        ReduceProd(_) => "reduceProd",
        ReduceMean(_) => "reduceMean",
        ReduceLogSum(_) => "reduceLogSum",
        ReduceSumSquare(_) => "reduceSumSquare",
        ReduceLogSumExp(_) => "reduceLogSumExp",
        WhereNonZero(_) => "whereNonZero",
        MatrixBandPart(_) => "matrixBandPart",
        LowerTriangular(_) => "lowerTriangular",
        UpperTriangular(_) => "upperTriangular",
        WhereBroadcastable(_) => "whereBroadcastable",
        LayerNormalization(_) => "layerNormalization",
        NonMaximumSuppression(_) => "NonMaximumSuppression",
        OneHot(_) => "oneHot",
        CumSum(_) => "cumSum",
        ClampedReLu(_) => "clampedReLU",
        ArgSort(_) => "argSort",
        Pooling3d(_) => "pooling3d",
        GlobalPooling3d(_) => "globalPooling3d",
        SliceBySize(_) => "sliceBySize",
        Convolution3d(_) => "convolution3d",
    }
}
