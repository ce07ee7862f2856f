//! The NN layer kinds a rule may produce, with their parameters and types: the checker's view
//! of Core ML's `NeuralNetworkLayer.layer` oneof. Parameter names are the field names of the
//! `*LayerParams` messages in `proto/coreml.proto`, so a rule reads like the spec.
//!
//! Where the message uses a oneof (convolution/pooling padding, padding mode) the registry
//! flattens it into an enum parameter (`padding = "valid"`) plus the chosen case's fields; the
//! activation layer's `NonlinearityType` cases are separate kinds (`activationReLU`, ...).
//! Nested messages are flattened to their fields at the top level (`LSTMParams`,
//! `LSTMWeightParams`; `BorderAmounts` as a `[start, end, ...]` list; a message holding one enum,
//! such as `SamplingMode`, as that enum); each entry's comment says how. `branch` and `loop`
//! hold nested networks and are not kinds here ([`CONTROL_FLOW`]).
//! The lowering stage reads the same table to know which message a kind fills.

/// Type of one layer parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Int,
    /// Non-negative integer (`uint64` fields).
    UInt,
    Float,
    Bool,
    Str,
    Ints,
    UInts,
    Floats,
    Bools,
    /// A constant tensor (`WeightParams`).
    Weights,
    /// A string from a fixed set (protobuf enums and flattened oneofs).
    Enum(&'static [&'static str]),
    /// A list of strings from a fixed set (repeated oneof messages flattened to their case
    /// names: the recurrent layers' `activations`).
    Enums(&'static [&'static str]),
}

impl ParamType {
    pub fn describe(self) -> String {
        match self {
            ParamType::Int => "int".into(),
            ParamType::UInt => "int (>= 0)".into(),
            ParamType::Float => "float".into(),
            ParamType::Bool => "bool".into(),
            ParamType::Str => "string".into(),
            ParamType::Ints | ParamType::UInts => "list<int>".into(),
            ParamType::Floats => "list<float>".into(),
            ParamType::Bools => "list<bool>".into(),
            ParamType::Weights => "tensor".into(),
            ParamType::Enum(vs) => format!("one of {}", quoted(vs)),
            ParamType::Enums(vs) => format!("list of {}", quoted(vs)),
        }
    }
}

fn quoted(vs: &[&str]) -> String {
    vs.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
}

/// One NN layer kind.
#[derive(Debug, Clone, Copy)]
pub struct LayerKind {
    /// Rule-language name: the oneof field name in `NeuralNetworkLayer` (`convolution`).
    pub name: &'static str,
    /// The protobuf message it fills (`ConvolutionLayerParams`).
    pub message: &'static str,
    pub min_inputs: usize,
    /// `None`: any number of inputs.
    pub max_inputs: Option<usize>,
    /// `None`: decided by a parameter (`splitND.numSplits`).
    pub outputs: Option<usize>,
    pub params: &'static [(&'static str, ParamType)],
}

impl LayerKind {
    pub fn param(&self, name: &str) -> Option<ParamType> {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    pub fn arity_text(&self) -> String {
        match self.max_inputs {
            Some(m) if m == self.min_inputs => format!("{m}"),
            Some(m) => format!("{} to {m}", self.min_inputs),
            None => format!("at least {}", self.min_inputs),
        }
    }
}

const fn layer(
    name: &'static str,
    message: &'static str,
    min_inputs: usize,
    max_inputs: Option<usize>,
    outputs: Option<usize>,
    params: &'static [(&'static str, ParamType)],
) -> LayerKind {
    LayerKind { name, message, min_inputs, max_inputs, outputs, params }
}

use ParamType as P;

/// `ScatterMode` values, shared by the scatter layers.
const SCATTER_MODES: &[&str] = &["SCATTER_UPDATE", "SCATTER_ADD", "SCATTER_SUB", "SCATTER_MUL", "SCATTER_DIV", "SCATTER_MAX", "SCATTER_MIN"];

/// `SamplingMode.Method` values (`resizeBilinear.mode`, `cropResize.mode`).
const SAMPLING_METHODS: &[&str] = &["STRICT_ALIGN_ENDPOINTS_MODE", "ALIGN_ENDPOINTS_MODE", "UPSAMPLE_MODE", "ROI_ALIGN_MODE"];

/// The `ActivationParams.NonlinearityType` cases Core ML accepts in a recurrent layer, by
/// their oneof field names. Core ML fixes their constants (scaled tanh alpha 1.71, beta 2/3;
/// hard sigmoid alpha 0.2, beta 0.5), so the flattened form carries none.
pub const RECURRENT_ACTIVATIONS: &[&str] = &["linear", "ReLU", "tanh", "scaledTanh", "sigmoid", "sigmoidHard"];

/// `NeuralNetworkLayer.layer` cases that hold nested networks. They are not layer kinds of
/// the rule language: control flow is lowered separately (issue 13).
pub const CONTROL_FLOW: &[&str] = &["branch", "loop"];

/// Every layer kind a rule can build, sorted by nothing in particular; use [`layer_kind`].
pub static LAYERS: &[LayerKind] = &[
    layer("convolution", "ConvolutionLayerParams", 1, Some(2), Some(1), &[("outputChannels", P::UInt), ("kernelChannels", P::UInt), ("nGroups", P::UInt), ("kernelSize", P::UInts), ("stride", P::UInts), ("dilationFactor", P::UInts), ("isDeconvolution", P::Bool), ("hasBias", P::Bool), ("weights", P::Weights), ("bias", P::Weights), ("outputShape", P::UInts), ("padding", P::Enum(&["valid", "same"])), ("paddingAmounts", P::UInts), ("sameMode", P::Enum(&["BOTTOM_RIGHT_HEAVY", "TOP_LEFT_HEAVY"]))]),
    layer("pooling", "PoolingLayerParams", 1, Some(1), Some(1), &[("type", P::Enum(&["MAX", "AVERAGE", "L2"])), ("kernelSize", P::UInts), ("stride", P::UInts), ("avgPoolExcludePadding", P::Bool), ("globalPooling", P::Bool), ("padding", P::Enum(&["valid", "same", "includeLastPixel"])), ("paddingAmounts", P::UInts), ("sameMode", P::Enum(&["BOTTOM_RIGHT_HEAVY", "TOP_LEFT_HEAVY"]))]),
    layer("innerProduct", "InnerProductLayerParams", 1, Some(1), Some(1), &[("inputChannels", P::UInt), ("outputChannels", P::UInt), ("hasBias", P::Bool), ("weights", P::Weights), ("bias", P::Weights), ("int8DynamicQuantize", P::Bool)]),
    layer("batchnorm", "BatchnormLayerParams", 1, Some(1), Some(1), &[("channels", P::UInt), ("computeMeanVar", P::Bool), ("instanceNormalization", P::Bool), ("epsilon", P::Float), ("gamma", P::Weights), ("beta", P::Weights), ("mean", P::Weights), ("variance", P::Weights)]),
    layer("mvn", "MeanVarianceNormalizeLayerParams", 1, Some(1), Some(1), &[("acrossChannels", P::Bool), ("normalizeVariance", P::Bool), ("epsilon", P::Float)]),
    layer("l2normalize", "L2NormalizeLayerParams", 1, Some(1), Some(1), &[("epsilon", P::Float)]),
    layer("softmax", "SoftmaxLayerParams", 1, Some(1), Some(1), &[]),
    layer("lrn", "LRNLayerParams", 1, Some(1), Some(1), &[("alpha", P::Float), ("beta", P::Float), ("localSize", P::UInt), ("k", P::Float)]),
    layer("padding", "PaddingLayerParams", 1, Some(1), Some(1), &[("paddingAmounts", P::UInts), ("mode", P::Enum(&["constant", "reflection", "replication"])), ("value", P::Float)]),
    layer("upsample", "UpsampleLayerParams", 1, Some(1), Some(1), &[("scalingFactor", P::UInts), ("fractionalScalingFactor", P::Floats), ("mode", P::Enum(&["NN", "BILINEAR"])), ("linearUpsampleMode", P::Enum(&["DEFAULT", "ALIGN_CORNERS_TRUE", "ALIGN_CORNERS_FALSE"]))]),
    layer("resizeBilinear", "ResizeBilinearLayerParams", 1, Some(1), Some(1), &[("targetSize", P::UInts), ("mode", P::Enum(SAMPLING_METHODS))]),
    layer("unary", "UnaryFunctionLayerParams", 1, Some(1), Some(1), &[("type", P::Enum(&["SQRT", "RSQRT", "INVERSE", "POWER", "EXP", "LOG", "ABS", "THRESHOLD"])), ("alpha", P::Float), ("epsilon", P::Float), ("shift", P::Float), ("scale", P::Float)]),
    layer("add", "AddLayerParams", 1, None, Some(1), &[("alpha", P::Float)]),
    layer("multiply", "MultiplyLayerParams", 1, None, Some(1), &[("alpha", P::Float)]),
    layer("scale", "ScaleLayerParams", 1, Some(1), Some(1), &[("shapeScale", P::UInts), ("scale", P::Weights), ("hasBias", P::Bool), ("shapeBias", P::UInts), ("bias", P::Weights)]),
    layer("bias", "BiasLayerParams", 1, Some(1), Some(1), &[("shape", P::UInts), ("bias", P::Weights)]),
    layer("loadConstant", "LoadConstantLayerParams", 0, Some(0), Some(1), &[("shape", P::UInts), ("data", P::Weights)]),
    layer("flatten", "FlattenLayerParams", 1, Some(1), Some(1), &[("mode", P::Enum(&["CHANNEL_FIRST", "CHANNEL_LAST"]))]),
    layer("permute", "PermuteLayerParams", 1, Some(1), Some(1), &[("axis", P::UInts)]),
    layer("concat", "ConcatLayerParams", 1, None, Some(1), &[("sequenceConcat", P::Bool)]),
    layer("split", "SplitLayerParams", 1, Some(1), None, &[("nOutputs", P::UInt)]),
    layer("rangeStatic", "RangeStaticLayerParams", 0, Some(0), Some(1), &[("endValue", P::Float), ("startValue", P::Float), ("stepSizeValue", P::Float)]),
    layer("clip", "ClipLayerParams", 1, Some(1), Some(1), &[("minVal", P::Float), ("maxVal", P::Float)]),
    layer("ceil", "CeilLayerParams", 1, Some(1), Some(1), &[]),
    layer("floor", "FloorLayerParams", 1, Some(1), Some(1), &[]),
    layer("sign", "SignLayerParams", 1, Some(1), Some(1), &[]),
    layer("round", "RoundLayerParams", 1, Some(1), Some(1), &[]),
    layer("exp2", "Exp2LayerParams", 1, Some(1), Some(1), &[]),
    layer("sin", "SinLayerParams", 1, Some(1), Some(1), &[]),
    layer("cos", "CosLayerParams", 1, Some(1), Some(1), &[]),
    layer("tanh", "TanhLayerParams", 1, Some(1), Some(1), &[]),
    layer("erf", "ErfLayerParams", 1, Some(1), Some(1), &[]),
    layer("gelu", "GeluLayerParams", 1, Some(1), Some(1), &[("mode", P::Enum(&["EXACT", "TANH_APPROXIMATION", "SIGMOID_APPROXIMATION"]))]),
    layer("equal", "EqualLayerParams", 1, Some(2), Some(1), &[("alpha", P::Float)]),
    layer("notEqual", "NotEqualLayerParams", 1, Some(2), Some(1), &[("alpha", P::Float)]),
    layer("lessThan", "LessThanLayerParams", 1, Some(2), Some(1), &[("alpha", P::Float)]),
    layer("lessEqual", "LessEqualLayerParams", 1, Some(2), Some(1), &[("alpha", P::Float)]),
    layer("greaterThan", "GreaterThanLayerParams", 1, Some(2), Some(1), &[("alpha", P::Float)]),
    layer("greaterEqual", "GreaterEqualLayerParams", 1, Some(2), Some(1), &[("alpha", P::Float)]),
    layer("logicalOr", "LogicalOrLayerParams", 2, Some(2), Some(1), &[]),
    layer("logicalNot", "LogicalNotLayerParams", 1, Some(1), Some(1), &[]),
    layer("logicalAnd", "LogicalAndLayerParams", 2, Some(2), Some(1), &[]),
    layer("modBroadcastable", "ModBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("minBroadcastable", "MinBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("maxBroadcastable", "MaxBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("addBroadcastable", "AddBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("powBroadcastable", "PowBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("divideBroadcastable", "DivideBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("floorDivBroadcastable", "FloorDivBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("multiplyBroadcastable", "MultiplyBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("subtractBroadcastable", "SubtractBroadcastableLayerParams", 2, Some(2), Some(1), &[]),
    layer("tile", "TileLayerParams", 1, Some(2), Some(1), &[("reps", P::UInts)]),
    layer("stack", "StackLayerParams", 1, None, Some(1), &[("axis", P::Int)]),
    layer("gather", "GatherLayerParams", 2, Some(2), Some(1), &[("axis", P::Int)]),
    layer("gatherND", "GatherNDLayerParams", 2, Some(2), Some(1), &[]),
    layer("softmaxND", "SoftmaxNDLayerParams", 1, Some(1), Some(1), &[("axis", P::Int)]),
    layer("gatherAlongAxis", "GatherAlongAxisLayerParams", 2, Some(2), Some(1), &[("axis", P::Int)]),
    layer("reverse", "ReverseLayerParams", 1, Some(1), Some(1), &[("reverseDim", P::Bools)]),
    layer("splitND", "SplitNDLayerParams", 1, Some(1), None, &[("axis", P::Int), ("numSplits", P::UInt), ("splitSizes", P::UInts)]),
    layer("concatND", "ConcatNDLayerParams", 1, None, Some(1), &[("axis", P::Int), ("interleave", P::Bool)]),
    layer("transpose", "TransposeLayerParams", 1, Some(1), Some(1), &[("axes", P::UInts)]),
    layer("sliceStatic", "SliceStaticLayerParams", 1, Some(1), Some(1), &[("beginIds", P::Ints), ("beginMasks", P::Bools), ("endIds", P::Ints), ("endMasks", P::Bools), ("strides", P::Ints), ("squeezeMasks", P::Bools)]),
    layer("sliceDynamic", "SliceDynamicLayerParams", 2, Some(7), Some(1), &[("beginMasks", P::Bools), ("endIds", P::Ints), ("endMasks", P::Bools), ("strides", P::Ints), ("squeezeMasks", P::Bools)]),
    layer("topK", "TopKLayerParams", 1, Some(2), Some(2), &[("axis", P::Int), ("K", P::UInt), ("useBottomK", P::Bool)]),
    layer("argMin", "ArgMinLayerParams", 1, Some(1), Some(1), &[("axis", P::Int), ("removeDim", P::Bool)]),
    layer("argMax", "ArgMaxLayerParams", 1, Some(1), Some(1), &[("axis", P::Int), ("removeDim", P::Bool)]),
    layer("batchedMatmul", "BatchedMatMulLayerParams", 1, Some(2), Some(1), &[("transposeA", P::Bool), ("transposeB", P::Bool), ("weightMatrixFirstDimension", P::UInt), ("weightMatrixSecondDimension", P::UInt), ("hasBias", P::Bool), ("weights", P::Weights), ("bias", P::Weights), ("int8DynamicQuantize", P::Bool)]),
    layer("getShape", "GetShapeLayerParams", 1, Some(1), Some(1), &[]),
    layer("loadConstantND", "LoadConstantNDLayerParams", 0, Some(0), Some(1), &[("shape", P::UInts), ("data", P::Weights)]),
    layer("fillLike", "FillLikeLayerParams", 1, Some(1), Some(1), &[("value", P::Float)]),
    layer("fillStatic", "FillStaticLayerParams", 0, Some(0), Some(1), &[("value", P::Float), ("targetShape", P::UInts)]),
    layer("broadcastToLike", "BroadcastToLikeLayerParams", 2, Some(2), Some(1), &[]),
    layer("broadcastToStatic", "BroadcastToStaticLayerParams", 1, Some(1), Some(1), &[("targetShape", P::UInts)]),
    layer("squeeze", "SqueezeLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("squeezeAll", P::Bool)]),
    layer("expandDims", "ExpandDimsLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints)]),
    layer("reshapeLike", "ReshapeLikeLayerParams", 2, Some(2), Some(1), &[]),
    layer("reshapeStatic", "ReshapeStaticLayerParams", 1, Some(1), Some(1), &[("targetShape", P::Ints)]),
    layer("reshapeDynamic", "ReshapeDynamicLayerParams", 2, Some(2), Some(1), &[]),
    layer("rankPreservingReshape", "RankPreservingReshapeLayerParams", 1, Some(1), Some(1), &[("targetShape", P::Ints)]),
    layer("constantPad", "ConstantPaddingLayerParams", 1, Some(2), Some(1), &[("value", P::Float), ("padAmounts", P::UInts), ("padToGivenOutputSizeMode", P::Bool)]),
    layer("reduceMax", "ReduceMaxLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("reduceMin", "ReduceMinLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("reduceSum", "ReduceSumLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("reduceProd", "ReduceProdLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("reduceMean", "ReduceMeanLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("reduceLogSum", "ReduceLogSumLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("reduceSumSquare", "ReduceSumSquareLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("reduceLogSumExp", "ReduceLogSumExpLayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("whereBroadcastable", "WhereBroadcastableLayerParams", 3, Some(3), Some(1), &[]),
    layer("layerNormalization", "LayerNormalizationLayerParams", 1, Some(1), Some(1), &[("normalizedShape", P::Ints), ("eps", P::Float), ("gamma", P::Weights), ("beta", P::Weights)]),
    layer("oneHot", "OneHotLayerParams", 1, Some(1), Some(1), &[("oneHotVectorSize", P::UInt), ("axis", P::Int), ("onValue", P::Float), ("offValue", P::Float)]),
    layer("cumSum", "CumSumLayerParams", 1, Some(1), Some(1), &[("axis", P::Int), ("excludeFinalSum", P::Bool), ("reverse", P::Bool)]),
    layer("clampedReLU", "ClampedReLULayerParams", 1, Some(1), Some(1), &[("alpha", P::Float), ("beta", P::Float)]),
    layer("argSort", "ArgSortLayerParams", 1, Some(1), Some(1), &[("axis", P::Int), ("descending", P::Bool)]),
    layer("sliceBySize", "SliceBySizeLayerParams", 1, Some(1), Some(1), &[("size", P::Int), ("axis", P::Int)]),
    // Math functions and elementwise combinations.
    layer("tan", "TanLayerParams", 1, Some(1), Some(1), &[]),
    layer("asin", "AsinLayerParams", 1, Some(1), Some(1), &[]),
    layer("acos", "AcosLayerParams", 1, Some(1), Some(1), &[]),
    layer("atan", "AtanLayerParams", 1, Some(1), Some(1), &[]),
    layer("sinh", "SinhLayerParams", 1, Some(1), Some(1), &[]),
    layer("cosh", "CoshLayerParams", 1, Some(1), Some(1), &[]),
    layer("asinh", "AsinhLayerParams", 1, Some(1), Some(1), &[]),
    layer("acosh", "AcoshLayerParams", 1, Some(1), Some(1), &[]),
    layer("atanh", "AtanhLayerParams", 1, Some(1), Some(1), &[]),
    layer("logicalXor", "LogicalXorLayerParams", 2, Some(2), Some(1), &[]),
    layer("average", "AverageLayerParams", 1, None, Some(1), &[]),
    layer("max", "MaxLayerParams", 1, None, Some(1), &[]),
    layer("min", "MinLayerParams", 1, None, Some(1), &[]),
    layer("dot", "DotProductLayerParams", 2, Some(2), Some(1), &[("cosineSimilarity", P::Bool)]),
    layer("copy", "CopyLayerParams", 1, Some(1), Some(1), &[]),
    // Reductions; `reduce` is the rank-5 (legacy) layer.
    layer("reduce", "ReduceLayerParams", 1, Some(1), Some(1), &[("mode", P::Enum(&["SUM", "AVG", "PROD", "LOGSUM", "SUMSQUARE", "L1", "L2", "MAX", "MIN", "ARGMAX"])), ("epsilon", P::Float), ("axis", P::Enum(&["CHW", "HW", "C", "H", "W"]))]),
    layer("reduceL1", "ReduceL1LayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    layer("reduceL2", "ReduceL2LayerParams", 1, Some(1), Some(1), &[("axes", P::Ints), ("keepDims", P::Bool), ("reduceAll", P::Bool)]),
    // Layout and data movement; `reshape`, `slice`, `crop`, `sequenceRepeat` are rank-5 layers.
    layer("reshape", "ReshapeLayerParams", 1, Some(1), Some(1), &[("targetShape", P::Ints), ("mode", P::Enum(&["CHANNEL_FIRST", "CHANNEL_LAST"]))]),
    layer("flattenTo2D", "FlattenTo2DLayerParams", 1, Some(1), Some(1), &[("axis", P::Int)]),
    layer("sequenceRepeat", "SequenceRepeatLayerParams", 1, Some(1), Some(1), &[("nRepetitions", P::UInt)]),
    layer("reorganizeData", "ReorganizeDataLayerParams", 1, Some(1), Some(1), &[("mode", P::Enum(&["SPACE_TO_DEPTH", "DEPTH_TO_SPACE", "PIXEL_SHUFFLE"])), ("blockSize", P::UInt)]),
    layer("slice", "SliceLayerParams", 1, Some(1), Some(1), &[("startIndex", P::Int), ("endIndex", P::Int), ("stride", P::UInt), ("axis", P::Enum(&["CHANNEL_AXIS", "HEIGHT_AXIS", "WIDTH_AXIS"]))]),
    // `cropAmounts` is the BorderAmounts message flattened as `[top, bottom, left, right]`.
    layer("crop", "CropLayerParams", 1, Some(2), Some(1), &[("cropAmounts", P::UInts), ("offset", P::UInts)]),
    layer("scatter", "ScatterLayerParams", 3, Some(3), Some(1), &[("axis", P::Int), ("mode", P::Enum(SCATTER_MODES))]),
    layer("scatterND", "ScatterNDLayerParams", 3, Some(3), Some(1), &[("mode", P::Enum(SCATTER_MODES))]),
    layer("scatterAlongAxis", "ScatterAlongAxisLayerParams", 3, Some(3), Some(1), &[("axis", P::Int), ("mode", P::Enum(SCATTER_MODES))]),
    layer("reverseSeq", "ReverseSeqLayerParams", 2, Some(2), Some(1), &[("batchAxis", P::Int), ("sequenceAxis", P::Int)]),
    layer("slidingWindows", "SlidingWindowsLayerParams", 1, Some(1), Some(1), &[("axis", P::Int), ("windowSize", P::UInt), ("step", P::UInt)]),
    layer("fillDynamic", "FillDynamicLayerParams", 1, Some(1), Some(1), &[("value", P::Float)]),
    layer("broadcastToDynamic", "BroadcastToDynamicLayerParams", 2, Some(2), Some(1), &[]),
    // Inputs: end, or end and start, or end, start and step (each replacing the parameter).
    layer("rangeDynamic", "RangeDynamicLayerParams", 1, Some(3), Some(1), &[("startValue", P::Float), ("stepSizeValue", P::Float)]),
    layer("whereNonZero", "WhereNonZeroLayerParams", 1, Some(1), Some(1), &[]),
    layer("matrixBandPart", "MatrixBandPartLayerParams", 1, Some(1), Some(1), &[("numLower", P::Int), ("numUpper", P::Int)]),
    layer("lowerTriangular", "LowerTriangularLayerParams", 1, Some(1), Some(1), &[("k", P::Int)]),
    layer("upperTriangular", "UpperTriangularLayerParams", 1, Some(1), Some(1), &[("k", P::Int)]),
    layer("embedding", "EmbeddingLayerParams", 1, Some(1), Some(1), &[("inputDim", P::UInt), ("outputChannels", P::UInt), ("hasBias", P::Bool), ("weights", P::Weights), ("bias", P::Weights)]),
    layer("embeddingND", "EmbeddingNDLayerParams", 1, Some(1), Some(1), &[("vocabSize", P::UInt), ("embeddingSize", P::UInt), ("hasBias", P::Bool), ("weights", P::Weights), ("bias", P::Weights)]),
    // Spatial: `cropResize.mode` is SamplingMode.samplingMethod and `boxIndicesMode` is
    // BoxCoordinatesMode.boxMode, each message flattened to its one enum.
    layer("cropResize", "CropResizeLayerParams", 2, Some(2), Some(1), &[("targetSize", P::UInts), ("normalizedCoordinates", P::Bool), ("mode", P::Enum(SAMPLING_METHODS)), ("boxIndicesMode", P::Enum(&["CORNERS_HEIGHT_FIRST", "CORNERS_WIDTH_FIRST", "CENTER_SIZE_HEIGHT_FIRST", "CENTER_SIZE_WIDTH_FIRST"])), ("spatialScale", P::Float)]),
    layer("pooling3d", "Pooling3DLayerParams", 1, Some(1), Some(1), &[("type", P::Enum(&["MAX", "AVERAGE"])), ("kernelDepth", P::Int), ("kernelHeight", P::Int), ("kernelWidth", P::Int), ("strideDepth", P::Int), ("strideHeight", P::Int), ("strideWidth", P::Int), ("paddingType", P::Enum(&["CUSTOM", "VALID", "SAME"])), ("customPaddingFront", P::Int), ("customPaddingBack", P::Int), ("customPaddingTop", P::Int), ("customPaddingBottom", P::Int), ("customPaddingLeft", P::Int), ("customPaddingRight", P::Int), ("countExcludePadding", P::Bool)]),
    layer("globalPooling3d", "GlobalPooling3DLayerParams", 1, Some(1), Some(1), &[("type", P::Enum(&["MAX", "AVERAGE"]))]),
    layer("convolution3d", "Convolution3DLayerParams", 1, Some(1), Some(1), &[("outputChannels", P::Int), ("inputChannels", P::Int), ("nGroups", P::Int), ("kernelDepth", P::Int), ("kernelHeight", P::Int), ("kernelWidth", P::Int), ("strideDepth", P::Int), ("strideHeight", P::Int), ("strideWidth", P::Int), ("dilationDepth", P::Int), ("dilationHeight", P::Int), ("dilationWidth", P::Int), ("hasBias", P::Bool), ("weights", P::Weights), ("bias", P::Weights), ("paddingType", P::Enum(&["CUSTOM", "VALID", "SAME"])), ("customPaddingFront", P::Int), ("customPaddingBack", P::Int), ("customPaddingTop", P::Int), ("customPaddingBottom", P::Int), ("customPaddingLeft", P::Int), ("customPaddingRight", P::Int), ("isDeconvolution", P::Bool), ("outputShape", P::UInts)]),
    // Inputs: boxes, scores, then optionally iouThreshold, scoreThreshold and maxBoxes blobs.
    // Outputs: boxes, scores, box indices, number of boxes.
    layer("NonMaximumSuppression", "NonMaximumSuppressionLayerParams", 2, Some(5), Some(4), &[("iouThreshold", P::Float), ("scoreThreshold", P::Float), ("maxBoxes", P::UInt), ("perClassSuppression", P::Bool)]),
    // Random sampling: `*Like` takes the shape of its input, `*Static` the `outputShape`
    // parameter, `*Dynamic` a shape blob.
    layer("randomNormalLike", "RandomNormalLikeLayerParams", 1, Some(1), Some(1), &[("seed", P::Int), ("mean", P::Float), ("stdDev", P::Float)]),
    layer("randomNormalStatic", "RandomNormalStaticLayerParams", 0, Some(0), Some(1), &[("seed", P::Int), ("mean", P::Float), ("stdDev", P::Float), ("outputShape", P::UInts)]),
    layer("randomNormalDynamic", "RandomNormalDynamicLayerParams", 1, Some(1), Some(1), &[("seed", P::Int), ("mean", P::Float), ("stdDev", P::Float)]),
    layer("randomUniformLike", "RandomUniformLikeLayerParams", 1, Some(1), Some(1), &[("seed", P::Int), ("minVal", P::Float), ("maxVal", P::Float)]),
    layer("randomUniformStatic", "RandomUniformStaticLayerParams", 0, Some(0), Some(1), &[("seed", P::Int), ("minVal", P::Float), ("maxVal", P::Float), ("outputShape", P::UInts)]),
    layer("randomUniformDynamic", "RandomUniformDynamicLayerParams", 1, Some(1), Some(1), &[("seed", P::Int), ("minVal", P::Float), ("maxVal", P::Float)]),
    layer("randomBernoulliLike", "RandomBernoulliLikeLayerParams", 1, Some(1), Some(1), &[("seed", P::Int), ("prob", P::Float)]),
    layer("randomBernoulliStatic", "RandomBernoulliStaticLayerParams", 0, Some(0), Some(1), &[("seed", P::Int), ("prob", P::Float), ("outputShape", P::UInts)]),
    layer("randomBernoulliDynamic", "RandomBernoulliDynamicLayerParams", 1, Some(1), Some(1), &[("seed", P::Int), ("prob", P::Float)]),
    layer("categoricalDistribution", "CategoricalDistributionLayerParams", 1, Some(1), Some(1), &[("seed", P::Int), ("numSamples", P::Int), ("isLogits", P::Bool), ("eps", P::Float), ("temperature", P::Float)]),
    // Recurrent layers (rank-5 sequences). An ActivationParams field is flattened to the name
    // of its NonlinearityType case (`"sigmoid"`), a repeated one to a list of names. LSTMParams
    // fields (`params`) sit at the top level, as do the LSTMWeightParams fields (`weightParams`);
    // the bidirectional layer's two LSTMWeightParams are `forward*` and `backward*`.
    // Inputs: x, then initial states (h; h, c; forward h, c, backward h, c); outputs: y and
    // the final states in the same order.
    layer("simpleRecurrent", "SimpleRecurrentLayerParams", 2, Some(2), Some(2), &[("inputVectorSize", P::UInt), ("outputVectorSize", P::UInt), ("activation", P::Enum(RECURRENT_ACTIVATIONS)), ("sequenceOutput", P::Bool), ("hasBiasVector", P::Bool), ("weightMatrix", P::Weights), ("recursionMatrix", P::Weights), ("biasVector", P::Weights), ("reverseInput", P::Bool)]),
    layer("gru", "GRULayerParams", 1, Some(2), Some(2), &[("inputVectorSize", P::UInt), ("outputVectorSize", P::UInt), ("activations", P::Enums(RECURRENT_ACTIVATIONS)), ("sequenceOutput", P::Bool), ("hasBiasVectors", P::Bool), ("updateGateWeightMatrix", P::Weights), ("resetGateWeightMatrix", P::Weights), ("outputGateWeightMatrix", P::Weights), ("updateGateRecursionMatrix", P::Weights), ("resetGateRecursionMatrix", P::Weights), ("outputGateRecursionMatrix", P::Weights), ("updateGateBiasVector", P::Weights), ("resetGateBiasVector", P::Weights), ("outputGateBiasVector", P::Weights), ("reverseInput", P::Bool)]),
    layer("uniDirectionalLSTM", "UniDirectionalLSTMLayerParams", 1, Some(3), Some(3), &[("inputVectorSize", P::UInt), ("outputVectorSize", P::UInt), ("activations", P::Enums(RECURRENT_ACTIVATIONS)), ("sequenceOutput", P::Bool), ("hasBiasVectors", P::Bool), ("forgetBias", P::Bool), ("hasPeepholeVectors", P::Bool), ("coupledInputAndForgetGate", P::Bool), ("cellClipThreshold", P::Float), ("inputGateWeightMatrix", P::Weights), ("forgetGateWeightMatrix", P::Weights), ("blockInputWeightMatrix", P::Weights), ("outputGateWeightMatrix", P::Weights), ("inputGateRecursionMatrix", P::Weights), ("forgetGateRecursionMatrix", P::Weights), ("blockInputRecursionMatrix", P::Weights), ("outputGateRecursionMatrix", P::Weights), ("inputGateBiasVector", P::Weights), ("forgetGateBiasVector", P::Weights), ("blockInputBiasVector", P::Weights), ("outputGateBiasVector", P::Weights), ("inputGatePeepholeVector", P::Weights), ("forgetGatePeepholeVector", P::Weights), ("outputGatePeepholeVector", P::Weights), ("reverseInput", P::Bool)]),
    layer("biDirectionalLSTM", "BiDirectionalLSTMLayerParams", 1, Some(5), Some(5), &[("inputVectorSize", P::UInt), ("outputVectorSize", P::UInt), ("activationsForwardLSTM", P::Enums(RECURRENT_ACTIVATIONS)), ("activationsBackwardLSTM", P::Enums(RECURRENT_ACTIVATIONS)), ("sequenceOutput", P::Bool), ("hasBiasVectors", P::Bool), ("forgetBias", P::Bool), ("hasPeepholeVectors", P::Bool), ("coupledInputAndForgetGate", P::Bool), ("cellClipThreshold", P::Float), ("forwardInputGateWeightMatrix", P::Weights), ("forwardForgetGateWeightMatrix", P::Weights), ("forwardBlockInputWeightMatrix", P::Weights), ("forwardOutputGateWeightMatrix", P::Weights), ("forwardInputGateRecursionMatrix", P::Weights), ("forwardForgetGateRecursionMatrix", P::Weights), ("forwardBlockInputRecursionMatrix", P::Weights), ("forwardOutputGateRecursionMatrix", P::Weights), ("forwardInputGateBiasVector", P::Weights), ("forwardForgetGateBiasVector", P::Weights), ("forwardBlockInputBiasVector", P::Weights), ("forwardOutputGateBiasVector", P::Weights), ("forwardInputGatePeepholeVector", P::Weights), ("forwardForgetGatePeepholeVector", P::Weights), ("forwardOutputGatePeepholeVector", P::Weights), ("backwardInputGateWeightMatrix", P::Weights), ("backwardForgetGateWeightMatrix", P::Weights), ("backwardBlockInputWeightMatrix", P::Weights), ("backwardOutputGateWeightMatrix", P::Weights), ("backwardInputGateRecursionMatrix", P::Weights), ("backwardForgetGateRecursionMatrix", P::Weights), ("backwardBlockInputRecursionMatrix", P::Weights), ("backwardOutputGateRecursionMatrix", P::Weights), ("backwardInputGateBiasVector", P::Weights), ("backwardForgetGateBiasVector", P::Weights), ("backwardBlockInputBiasVector", P::Weights), ("backwardOutputGateBiasVector", P::Weights), ("backwardInputGatePeepholeVector", P::Weights), ("backwardForgetGatePeepholeVector", P::Weights), ("backwardOutputGatePeepholeVector", P::Weights)]),
    // Control flow: `branch` and `loop` hold nested networks and are not layer kinds of the
    // rule language; they are lowered separately (issue 13). Their break/continue markers
    // take no inputs and produce no outputs.
    layer("loopBreak", "LoopBreakLayerParams", 0, Some(0), Some(0), &[]),
    layer("loopContinue", "LoopContinueLayerParams", 0, Some(0), Some(0), &[]),
    // ActivationParams.NonlinearityType cases, one kind each.
    layer("activationLinear", "ActivationLinear", 1, Some(1), Some(1), &[("alpha", P::Float), ("beta", P::Float)]),
    layer("activationReLU", "ActivationReLU", 1, Some(1), Some(1), &[]),
    layer("activationLeakyReLU", "ActivationLeakyReLU", 1, Some(1), Some(1), &[("alpha", P::Float)]),
    layer("activationThresholdedReLU", "ActivationThresholdedReLU", 1, Some(1), Some(1), &[("alpha", P::Float)]),
    layer("activationPReLU", "ActivationPReLU", 1, Some(1), Some(1), &[("alpha", P::Weights)]),
    layer("activationTanh", "ActivationTanh", 1, Some(1), Some(1), &[]),
    layer("activationScaledTanh", "ActivationScaledTanh", 1, Some(1), Some(1), &[("alpha", P::Float), ("beta", P::Float)]),
    layer("activationSigmoid", "ActivationSigmoid", 1, Some(1), Some(1), &[]),
    layer("activationSigmoidHard", "ActivationSigmoidHard", 1, Some(1), Some(1), &[("alpha", P::Float), ("beta", P::Float)]),
    layer("activationELU", "ActivationELU", 1, Some(1), Some(1), &[("alpha", P::Float)]),
    layer("activationSoftsign", "ActivationSoftsign", 1, Some(1), Some(1), &[]),
    layer("activationSoftplus", "ActivationSoftplus", 1, Some(1), Some(1), &[]),
    layer("activationParametricSoftplus", "ActivationParametricSoftplus", 1, Some(1), Some(1), &[("alpha", P::Weights), ("beta", P::Weights)]),
];

/// The cases of Core ML's `NeuralNetworkLayer.layer` oneof, in the spec's order, read from
/// `proto/coreml.proto` (generated from the spec's field tables): what `mlrewrite rules
/// layers` lists and the coverage tests walk.
pub fn spec_cases() -> Vec<&'static str> {
    let proto: &'static str = include_str!("../../proto/coreml.proto");
    let Some(start) = proto.find("message NeuralNetworkLayer {") else { return vec![] };
    let body = &proto[start..];
    let Some(open) = body.find("oneof layer {") else { return vec![] };
    let oneof = &body[open..];
    let oneof = &oneof[..oneof.find('}').unwrap_or(oneof.len())];
    // Case lines read `.CoreML.Specification.XLayerParams name = N;`.
    oneof.lines().filter(|l| l.trim_start().starts_with('.')).filter_map(|l| l.split_whitespace().nth(1)).collect()
}

/// How a oneof case is known to the rule language: a kind of [`LAYERS`], the `activation`
/// case split into one kind per nonlinearity, a `custom` registration, or control flow.
pub fn case_kinds(case: &str) -> Vec<&'static LayerKind> {
    match case {
        "activation" => LAYERS.iter().filter(|l| l.name.starts_with("activation")).collect(),
        _ => layer_kind(case).into_iter().collect(),
    }
}

/// Looks a layer kind up by its rule-language name.
pub fn layer_kind(name: &str) -> Option<&'static LayerKind> {
    LAYERS.iter().find(|l| l.name == name)
}

/// Names close to `name` (edit distance at most 3, or the same ignoring case), for "did you mean".
pub fn similar_layers(name: &str) -> Vec<&'static str> {
    let mut out: Vec<(usize, &'static str)> = LAYERS
        .iter()
        .map(|l| {
            let d = if l.name.eq_ignore_ascii_case(name) { 0 } else { super::check::edit_distance(l.name, name) };
            (d, l.name)
        })
        .filter(|(d, _)| *d <= 3)
        .collect();
    out.sort();
    out.into_iter().take(3).map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_params_unique() {
        let mut names: Vec<_> = LAYERS.iter().map(|l| l.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
        for l in LAYERS {
            let mut ps: Vec<_> = l.params.iter().map(|p| p.0).collect();
            ps.sort();
            let n = ps.len();
            ps.dedup();
            assert_eq!(n, ps.len(), "{}", l.name);
        }
    }

    /// Every case of `NeuralNetworkLayer.layer` in the proto is a kind, except the activation
    /// (split into `activation*` kinds), `custom` (custom registrations) and control flow; and
    /// every kind's message exists.
    #[test]
    fn registry_covers_the_layer_oneof() {
        let proto = include_str!("../../proto/coreml.proto");
        let cases = spec_cases();
        assert!(cases.len() > 150, "{}", cases.len());
        for case in cases {
            let known = layer_kind(case).is_some() || CONTROL_FLOW.contains(&case) || case == "activation" || case == "custom";
            assert!(known, "{case} is neither a layer kind nor excluded");
            assert!(!(layer_kind(case).is_some() && CONTROL_FLOW.contains(&case)), "{case}");
        }
        for l in LAYERS {
            assert!(proto.contains(&format!("message {} {{", l.message)), "{}: no message {}", l.name, l.message);
        }
    }

    #[test]
    fn convolution_mirrors_the_proto() {
        let c = layer_kind("convolution").unwrap();
        assert_eq!(c.message, "ConvolutionLayerParams");
        assert_eq!(c.param("kernelChannels"), Some(ParamType::UInt));
        assert_eq!(c.param("weights"), Some(ParamType::Weights));
    }
}
