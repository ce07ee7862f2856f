//! TF op signatures the checker needs: input names (for arity and `input_order`), output
//! names (for projections) and attribute types.
//!
//! The checker depends only on the [`OpCatalog`] trait. [`BuiltinOps`] is a small built-in
//! catalog of the ops the standard rules use, in a compact text form taken from the TF 2.12
//! OpDefs (for tests that need no JSON); [`TfOpDefs`] serves the importer's full table and is
//! what rule loading uses.

use super::functions::Ty;

/// One op's signature.
#[derive(Debug, Clone, PartialEq)]
pub struct OpSig {
    pub name: String,
    pub inputs: Vec<String>,
    /// Index of an input that stands for any number of tensors (`N×T`, `list(T)`).
    pub variadic_input: Option<usize>,
    pub outputs: Vec<String>,
    /// The op has a variable number of outputs (`Split`, `Unpack`).
    pub variadic_output: bool,
    pub attrs: Vec<(String, Ty)>,
    /// Allowed values of string attributes, when restricted (`padding`: SAME, VALID, EXPLICIT).
    pub allowed: Vec<(String, Vec<String>)>,
}

impl OpSig {
    pub fn allowed(&self, attr: &str) -> Option<&[String]> {
        self.allowed.iter().find(|(n, _)| n == attr).map(|(_, v)| v.as_slice())
    }

    pub fn attr(&self, name: &str) -> Option<&Ty> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// Does the op accept `n` inputs?
    pub fn accepts_inputs(&self, n: usize) -> bool {
        match self.variadic_input {
            Some(_) => n + 1 >= self.inputs.len(),
            None => n == self.inputs.len(),
        }
    }

    /// Number of outputs when fixed.
    pub fn num_outputs(&self) -> Option<usize> {
        (!self.variadic_output).then_some(self.outputs.len())
    }
}

/// Where the checker looks TF ops up.
pub trait OpCatalog {
    fn op(&self, name: &str) -> Option<OpSig>;
}

/// The built-in catalog (see the module comment).
#[derive(Debug, Clone, Default)]
pub struct BuiltinOps;

/// `Name | inputs | outputs | attr:kind ...`; `*` marks a variadic input or output.
const TABLE: &str = r#"
Abs | x | y | T:type
Add | x y | z | T:type
AddN | inputs* | sum | N:int T:type
AddV2 | x y | z | T:type
ArgMax | input dimension | output | T:type Tidx:type output_type:type
ArgMin | input dimension | output | T:type Tidx:type output_type:type
AvgPool | value | output | ksize:list(int) strides:list(int) padding:string data_format:string T:type
BatchMatMul | x y | output | T:type adj_x:bool adj_y:bool
BatchMatMulV2 | x y | output | T:type adj_x:bool adj_y:bool
BiasAdd | value bias | output | T:type data_format:string
Cast | x | y | SrcT:type DstT:type Truncate:bool
ConcatV2 | values* axis | output | N:int T:type Tidx:type
Const |  | output | value:tensor dtype:type
Conv2D | input filter | output | T:type strides:list(int) use_cudnn_on_gpu:bool padding:string explicit_paddings:list(int) data_format:string dilations:list(int)
Conv2DBackpropInput | input_sizes filter out_backprop | output | T:type strides:list(int) use_cudnn_on_gpu:bool padding:string explicit_paddings:list(int) data_format:string dilations:list(int)
Cos | x | y | T:type
DepthwiseConv2dNative | input filter | output | T:type strides:list(int) padding:string explicit_paddings:list(int) data_format:string dilations:list(int)
Einsum | inputs* | output | equation:string N:int T:type
Elu | features | activations | T:type
Equal | x y | z | T:type incompatible_shape_error:bool
Erf | x | y | T:type
Exp | x | y | T:type
ExpandDims | input dim | output | T:type Tdim:type
Floor | x | y | T:type
FloorDiv | x y | z | T:type
FusedBatchNormV3 | x scale offset mean variance | y batch_mean batch_variance reserve_space_1 reserve_space_2 reserve_space_3 | T:type U:type epsilon:float exponential_avg_factor:float data_format:string is_training:bool
Gather | params indices | output | validate_indices:bool Tparams:type Tindices:type
GatherV2 | params indices axis | output | batch_dims:int Tparams:type Tindices:type Taxis:type
Greater | x y | z | T:type
Identity | input | output | T:type
IdentityN | input* | output* | T:list(type)
LeakyRelu | features | activations | alpha:float T:type
Less | x y | z | T:type
Log | x | y | T:type
LogSoftmax | logits | logsoftmax | T:type
MatMul | a b | product | transpose_a:bool transpose_b:bool T:type
MatrixDeterminant | input | output | T:type
Max | input reduction_indices | output | keep_dims:bool T:type Tidx:type
Maximum | x y | z | T:type
MaxPool | input | output | T:type ksize:list(int) strides:list(int) padding:string explicit_paddings:list(int) data_format:string
Mean | input reduction_indices | output | keep_dims:bool T:type Tidx:type
Min | input reduction_indices | output | keep_dims:bool T:type Tidx:type
Minimum | x y | z | T:type
Mul | x y | z | T:type
Neg | x | y | T:type
Pack | values* | output | N:int T:type axis:int
Pad | input paddings | output | T:type Tpaddings:type
PadV2 | input paddings constant_values | output | T:type Tpaddings:type
Placeholder |  | output | dtype:type shape:shape
Pow | x y | z | T:type
Prod | input reduction_indices | output | keep_dims:bool T:type Tidx:type
RealDiv | x y | z | T:type
Reciprocal | x | y | T:type
Relu | features | activations | T:type
Relu6 | features | activations | T:type
Reshape | tensor shape | output | T:type Tshape:type
ResizeBilinear | images size | resized_images | T:type align_corners:bool half_pixel_centers:bool
Rsqrt | x | y | T:type
Selu | features | activations | T:type
Shape | input | output | T:type out_type:type
Sigmoid | x | y | T:type
Sin | x | y | T:type
Slice | input begin size | output | T:type Index:type
Softmax | logits | softmax | T:type
Softplus | features | activations | T:type
Split | split_dim value | output* | num_split:int T:type
SplitV | value size_splits split_dim | output* | num_split:int T:type Tlen:type
Sqrt | x | y | T:type
Square | x | y | T:type
SquaredDifference | x y | z | T:type
Squeeze | input | output | T:type squeeze_dims:list(int)
StopGradient | input | output | T:type
StridedSlice | input begin end strides | output | T:type Index:type begin_mask:int end_mask:int ellipsis_mask:int new_axis_mask:int shrink_axis_mask:int
Sub | x y | z | T:type
Sum | input reduction_indices | output | keep_dims:bool T:type Tidx:type
Tanh | x | y | T:type
Tile | input multiples | output | T:type Tmultiples:type
TopKV2 | input k | values indices | sorted:bool T:type
Transpose | x perm | y | T:type Tperm:type
Unpack | value | output* | num:int T:type axis:int
"#;

fn attr_ty(kind: &str) -> Ty {
    match kind {
        "int" => Ty::Int,
        "float" => Ty::Float,
        "bool" => Ty::Bool,
        "string" => Ty::Str,
        "type" => Ty::DType,
        "tensor" => Ty::Tensor,
        "shape" => Ty::list(Ty::Int),
        "list(int)" => Ty::list(Ty::Int),
        "list(float)" => Ty::list(Ty::Float),
        "list(type)" => Ty::list(Ty::DType),
        _ => Ty::Any,
    }
}

fn parse_line(line: &str) -> Option<OpSig> {
    let mut cols = line.split('|').map(str::trim);
    let name = cols.next()?.to_string();
    let ins: Vec<&str> = cols.next()?.split_whitespace().collect();
    let outs: Vec<&str> = cols.next()?.split_whitespace().collect();
    let attrs = cols.next().unwrap_or("");
    Some(OpSig {
        name,
        variadic_input: ins.iter().position(|i| i.ends_with('*')),
        inputs: ins.iter().map(|i| i.trim_end_matches('*').to_string()).collect(),
        variadic_output: outs.iter().any(|o| o.ends_with('*')),
        outputs: outs.iter().map(|o| o.trim_end_matches('*').to_string()).collect(),
        attrs: attrs
            .split_whitespace()
            .filter_map(|a| a.split_once(':'))
            .map(|(n, k)| (n.to_string(), attr_ty(k)))
            .collect(),
        allowed: vec![],
    })
}

impl BuiltinOps {
    /// Every op name in the catalog.
    pub fn names() -> Vec<&'static str> {
        TABLE.lines().filter_map(|l| l.split('|').next()).map(str::trim).filter(|n| !n.is_empty()).collect()
    }
}

impl OpCatalog for BuiltinOps {
    fn op(&self, name: &str) -> Option<OpSig> {
        TABLE
            .lines()
            .find(|l| l.split('|').next().map(str::trim) == Some(name))
            .and_then(parse_line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topk_signature() {
        let s = BuiltinOps.op("TopKV2").unwrap();
        assert_eq!(s.inputs, ["input", "k"]);
        assert_eq!(s.outputs, ["values", "indices"]);
        assert_eq!(s.attr("sorted"), Some(&Ty::Bool));
    }

    #[test]
    fn concat_is_variadic() {
        let s = BuiltinOps.op("ConcatV2").unwrap();
        assert!(s.accepts_inputs(3) && s.accepts_inputs(5) && !s.accepts_inputs(0));
    }
}

/// The full TF 2.12 OpDef table of the importer (`ir::opdefs`), falling back to
/// [`BuiltinOps`] for any op it lacks. This is the catalog `RuleSet::load` uses.
#[derive(Debug, Clone, Default)]
pub struct TfOpDefs;

fn attr_kind_ty(kind: &str) -> Ty {
    match kind {
        "list(shape)" => Ty::list(Ty::list(Ty::Int)),
        "func" => Ty::Any,
        k => attr_ty(k),
    }
}

impl OpCatalog for TfOpDefs {
    fn op(&self, name: &str) -> Option<OpSig> {
        let Some(def) = crate::ir::opdefs::lookup(name) else {
            return BuiltinOps.op(name);
        };
        Some(OpSig {
            name: def.name.clone(),
            inputs: def.inputs.iter().map(|a| a.name.clone()).collect(),
            variadic_input: def.inputs.iter().position(|a| a.is_list()),
            outputs: def.outputs.iter().map(|a| a.name.clone()).collect(),
            variadic_output: def.outputs.iter().any(|a| a.is_list()),
            attrs: def.attrs.iter().map(|a| (a.name.clone(), attr_kind_ty(&a.kind))).collect(),
            allowed: def
                .attrs
                .iter()
                .filter(|a| a.kind == "string")
                .filter_map(|a| a.allowed.clone().map(|v| (a.name.clone(), v)))
                .collect(),
        })
    }
}

#[cfg(test)]
mod opdef_tests {
    use super::*;

    #[test]
    fn full_catalog_agrees_with_the_builtin_one() {
        for name in BuiltinOps::names() {
            let (a, b) = (TfOpDefs.op(name).unwrap(), BuiltinOps.op(name).unwrap());
            assert_eq!((&a.inputs, &a.outputs, a.variadic_input.is_some()), (&b.inputs, &b.outputs, b.variadic_input.is_some()), "{name}");
        }
        let conv = TfOpDefs.op("Conv2D").unwrap();
        assert!(conv.allowed.iter().any(|(n, v)| n == "padding" && v.contains(&"EXPLICIT".to_string())));
    }
}
