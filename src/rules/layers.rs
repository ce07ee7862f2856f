//! The NN layer kinds a rule may produce, with their parameters and types: the checker's view
//! of Core ML's `NeuralNetworkLayer.layer` oneof. Parameter names are the field names of the
//! `*LayerParams` messages in `proto/coreml.proto`, so a rule reads like the spec.
//!
//! Where the message uses a oneof (convolution/pooling padding, padding mode) the registry
//! flattens it into an enum parameter (`padding = "valid"`) plus the chosen case's fields; the
//! activation layer's `NonlinearityType` cases are separate kinds (`activationReLU`, ...).
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
            ParamType::Enum(vs) => format!("one of {}", vs.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")),
        }
    }
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
    layer("resizeBilinear", "ResizeBilinearLayerParams", 1, Some(1), Some(1), &[("targetSize", P::UInts), ("mode", P::Enum(&["STRICT_ALIGN_ENDPOINTS_MODE", "ALIGN_ENDPOINTS_MODE", "UPSAMPLE_MODE", "ROI_ALIGN_MODE"]))]),
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
    layer("tile", "TileLayerParams", 1, Some(1), Some(1), &[("reps", P::UInts)]),
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
    layer("sliceDynamic", "SliceDynamicLayerParams", 2, None, Some(1), &[("beginMasks", P::Bools), ("endIds", P::Ints), ("endMasks", P::Bools), ("strides", P::Ints), ("squeezeMasks", P::Bools)]),
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
    layer("constantPad", "ConstantPaddingLayerParams", 1, Some(1), Some(1), &[("value", P::Float), ("padAmounts", P::UInts), ("padToGivenOutputSizeMode", P::Bool)]),
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

    #[test]
    fn convolution_mirrors_the_proto() {
        let c = layer_kind("convolution").unwrap();
        assert_eq!(c.message, "ConvolutionLayerParams");
        assert_eq!(c.param("kernelChannels"), Some(ParamType::UInt));
        assert_eq!(c.param("weights"), Some(ParamType::Weights));
    }
}
