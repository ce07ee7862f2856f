//! Attribute functions: the Rust-provided vocabulary of rule expressions (`dim(x, -1)`,
//! `permute(value(w), [3, 2, 0, 1])`, `same_pad(...)`). Each has a name, an arity, argument and
//! result types for the checker, and an implementation over [`Value`]s for guards and
//! right-hand sides.
//!
//! Functions about e-classes (`dtype`, `shape`, `value`...) read facts through [`ClassFacts`],
//! which the rewrite stage's e-class analysis provides. A function fails (never panics) when a
//! fact is unknown or an argument is out of range; a failing guard means "the rule does not
//! apply here", and the message is kept for `explain`.

use super::{audio, crop, projective, sampling, tensor_math};
use super::value::{DType, Tensor, TensorData, Value};
use ordered_float::OrderedFloat;
use std::fmt;
use std::sync::Arc;

/// What the rule language knows about an e-class.
pub trait ClassFacts {
    fn dtype(&self, class: egg::Id) -> Option<DType>;
    /// `None`: rank unknown; `Some(dims)` with `None` for an unknown dimension.
    fn shape(&self, class: egg::Id) -> Option<Vec<Option<usize>>>;
    fn constant(&self, class: egg::Id) -> Option<Arc<Tensor>>;
}

/// Facts about nothing: for evaluating expressions that mention no e-class.
pub struct NoFacts;

impl ClassFacts for NoFacts {
    fn dtype(&self, _: egg::Id) -> Option<DType> {
        None
    }
    fn shape(&self, _: egg::Id) -> Option<Vec<Option<usize>>> {
        None
    }
    fn constant(&self, _: egg::Id) -> Option<Arc<Tensor>> {
        None
    }
}

/// Static types of rule expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    DType,
    Tensor,
    /// An e-class (a pattern variable bound to a tensor-valued node).
    Node,
    List(Box<Ty>),
    /// Not known until the rule runs (e.g. an attribute of an op without a signature).
    Any,
}

impl Ty {
    pub fn list(t: Ty) -> Ty {
        Ty::List(Box::new(t))
    }

    /// Can a value of type `self` be used where `want` is expected? Ints widen to floats.
    pub fn fits(&self, want: &Ty) -> bool {
        match (self, want) {
            (Ty::Any, _) | (_, Ty::Any) => true,
            (Ty::Int, Ty::Float) => true,
            (Ty::List(a), Ty::List(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }

    /// Least common type of two (for list literals and comparisons).
    pub fn join(&self, other: &Ty) -> Option<Ty> {
        match (self, other) {
            (Ty::Any, t) | (t, Ty::Any) => Some(t.clone()),
            (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Some(Ty::Float),
            (Ty::List(a), Ty::List(b)) => a.join(b).map(Ty::list),
            (a, b) if a == b => Some(a.clone()),
            _ => None,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Any)
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int => f.write_str("int"),
            Ty::Float => f.write_str("float"),
            Ty::Bool => f.write_str("bool"),
            Ty::Str => f.write_str("string"),
            Ty::DType => f.write_str("dtype"),
            Ty::Tensor => f.write_str("tensor"),
            Ty::Node => f.write_str("node"),
            Ty::List(t) => write!(f, "list<{t}>"),
            Ty::Any => f.write_str("any"),
        }
    }
}

/// Argument/result types in signatures; `T` is one type variable per signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigTy {
    Int,
    Float,
    Bool,
    Str,
    DType,
    Tensor,
    Node,
    Ints,
    Floats,
    Bools,
    T,
    ListT,
}

impl SigTy {
    fn concrete(self, t: &Ty) -> Ty {
        match self {
            SigTy::Int => Ty::Int,
            SigTy::Float => Ty::Float,
            SigTy::Bool => Ty::Bool,
            SigTy::Str => Ty::Str,
            SigTy::DType => Ty::DType,
            SigTy::Tensor => Ty::Tensor,
            SigTy::Node => Ty::Node,
            SigTy::Ints => Ty::list(Ty::Int),
            SigTy::Floats => Ty::list(Ty::Float),
            SigTy::Bools => Ty::list(Ty::Bool),
            SigTy::T => t.clone(),
            SigTy::ListT => Ty::list(t.clone()),
        }
    }
}

type Impl = fn(&[Value], &dyn ClassFacts) -> Result<Value, String>;

/// One attribute function.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub args: &'static [SigTy],
    pub ret: SigTy,
    pub doc: &'static str,
    pub eval: Impl,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.signature())
    }
}

impl Function {
    /// `dim(node, int) -> int`
    pub fn signature(&self) -> String {
        let show = |s: SigTy| match s {
            SigTy::T => "T".to_string(),
            SigTy::ListT => "list<T>".to_string(),
            s => s.concrete(&Ty::Any).to_string(),
        };
        let args: Vec<String> = self.args.iter().map(|a| show(*a)).collect();
        format!("{}({}) -> {}", self.name, args.join(", "), show(self.ret))
    }

    /// Checks argument types; returns the result type or the index and expected type of the
    /// first argument that does not fit.
    pub fn result_type(&self, args: &[Ty]) -> Result<Ty, (usize, Ty)> {
        // Infer T from the arguments first (the first argument that mentions it).
        let mut t = Ty::Any;
        for (s, a) in self.args.iter().zip(args) {
            let cand = match (s, a) {
                (SigTy::T, a) => Some(a.clone()),
                (SigTy::ListT, Ty::List(e)) => Some((**e).clone()),
                _ => None,
            };
            if let Some(c) = cand {
                match t.join(&c) {
                    Some(j) => t = j,
                    None => {}
                }
            }
        }
        for (i, (s, a)) in self.args.iter().zip(args).enumerate() {
            let want = s.concrete(&t);
            if !a.fits(&want) {
                return Err((i, want));
            }
        }
        Ok(self.ret.concrete(&t))
    }
}

/// Looks a function up by name.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

// ---------------------------------------------------------------------------------------------
// Helpers for implementations

fn int(v: &Value, what: &str) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.0.fract() == 0.0 => Ok(f.0 as i64),
        v => Err(format!("{what}: expected an int, got {v}")),
    }
}

/// The arguments of the `projective_*` functions, planned.
fn projective_plan(a: &[Value], what: &str) -> Result<projective::Plan, String> {
    let t = tensor(arg(a, 0)?, what)?;
    let i = |k| usize_arg(a, k, what);
    projective::plan(t, i(1)?, i(2)?, i(3)?, i(4)?, i(5)?, string(arg(a, 6)?, what)?, string(arg(a, 7)?, what)?)
}

/// Argument `k` as a non-negative size.
fn usize_arg(a: &[Value], k: usize, what: &str) -> Result<usize, String> {
    let v = int(arg(a, k)?, what)?;
    usize::try_from(v).map_err(|_| format!("{what}: argument {} is negative ({v})", k + 1))
}

fn float(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("{what}: expected a number, got {v}"))
}

fn list<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    v.as_list().ok_or_else(|| format!("{what}: expected a list, got {v}"))
}

fn ints(v: &Value, what: &str) -> Result<Vec<i64>, String> {
    list(v, what)?.iter().map(|x| int(x, what)).collect()
}

fn bools(v: &Value, what: &str) -> Result<Vec<bool>, String> {
    list(v, what)?
        .iter()
        .map(|x| match x {
            Value::Bool(b) => Ok(*b),
            x => Err(format!("{what}: expected a bool, got {x}")),
        })
        .collect()
}

fn class(v: &Value, what: &str) -> Result<egg::Id, String> {
    match v {
        Value::Class(id) => Ok(*id),
        v => Err(format!("{what}: expected a node, got {v}")),
    }
}

fn tensor<'a>(v: &'a Value, what: &str) -> Result<&'a Arc<Tensor>, String> {
    match v {
        Value::Tensor(t) => Ok(t),
        v => Err(format!("{what}: expected a tensor, got {v}")),
    }
}

fn string<'a>(v: &'a Value, what: &str) -> Result<&'a str, String> {
    match v {
        Value::Str(s) => Ok(s),
        v => Err(format!("{what}: expected a string, got {v}")),
    }
}

/// The normalised strided-slice spec of `ss_ints` / `ss_bools` arguments 1..=5.
fn ss_spec(a: &[Value]) -> Result<super::strided_slice::Spec, String> {
    let rank = int(arg(a, 1)?, "strided slice")?;
    let l = |i: usize| ints(arg(a, i)?, "strided slice");
    super::strided_slice::normalize(rank, &l(2)?, &l(3)?, &l(4)?, &l(5)?)
}

/// Parses and plans an einsum equation (a guard on `einsum_*` fails with the reason).
fn einsum_plan(v: &Value) -> Result<(super::einsum::Equation, super::einsum::Plan), String> {
    let e = super::einsum::parse(string(v, "einsum")?)?;
    let p = e.plan()?;
    Ok((e, p))
}

fn arg(a: &[Value], i: usize) -> Result<&Value, String> {
    a.get(i).ok_or_else(|| format!("missing argument {}", i + 1))
}

/// Axis `axis` (negative counts from the end) of a rank-`rank` tensor.
pub fn normalize_axis(axis: i64, rank: i64) -> Result<i64, String> {
    let a = if axis < 0 { axis + rank } else { axis };
    if a < 0 || a >= rank {
        Err(format!("axis {axis} is out of range for rank {rank}"))
    } else {
        Ok(a)
    }
}

fn shape_of(facts: &dyn ClassFacts, id: egg::Id) -> Result<Vec<Option<usize>>, String> {
    facts.shape(id).ok_or_else(|| format!("the rank of e-class {id} is not known"))
}

fn constant(facts: &dyn ClassFacts, id: egg::Id) -> Result<Arc<Tensor>, String> {
    facts.constant(id).ok_or_else(|| format!("e-class {id} is not a constant"))
}

fn check_perm(p: &[i64]) -> Result<Vec<usize>, String> {
    let n = p.len() as i64;
    let mut seen = vec![false; p.len()];
    let mut out = Vec::with_capacity(p.len());
    for &x in p {
        if x < 0 || x >= n || seen[x as usize] {
            return Err(format!("{p:?} is not a permutation"));
        }
        seen[x as usize] = true;
        out.push(x as usize);
    }
    Ok(out)
}

/// Transposes a tensor: output dim `i` is input dim `perm[i]` (TF `Transpose` semantics).
pub fn permute_tensor(t: &Tensor, perm: &[i64]) -> Result<Tensor, String> {
    let perm = check_perm(perm)?;
    if perm.len() != t.shape.len() {
        return Err(format!("permutation of length {} for a tensor of rank {}", perm.len(), t.shape.len()));
    }
    let n = t.num_elements();
    if t.data.len() != n {
        return Err("tensor data does not match its shape".into());
    }
    let out_shape: Vec<usize> = perm.iter().map(|&p| t.shape[p]).collect();
    let data = match &t.data {
        TensorData::Float(v) => TensorData::Float(permute_values(v, &t.shape, &perm)),
        TensorData::Int(v) => TensorData::Int(permute_values(v, &t.shape, &perm)),
        TensorData::Bool(v) => TensorData::Bool(permute_values(v, &t.shape, &perm)),
    };
    Ok(Tensor { dtype: t.dtype, shape: out_shape, data })
}

/// The values of a row-major tensor of `shape` with its dims permuted (`perm` checked).
///
/// Walks the output in order with an odometer over all but the last output dim, keeping the
/// source offset up to date, and copies the last dim with its source stride: no index table
/// (which cost 8 bytes per element and most of a ResNet50's saturation time in page faults).
fn permute_values<T: Copy>(v: &[T], shape: &[usize], perm: &[usize]) -> Vec<T> {
    let rank = shape.len();
    let mut out = Vec::with_capacity(v.len());
    if rank == 0 || v.is_empty() {
        out.extend_from_slice(v);
        return out;
    }
    let mut in_strides = vec![1usize; rank];
    for d in (0..rank - 1).rev() {
        in_strides[d] = in_strides[d + 1] * shape[d + 1];
    }
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    // Source stride of each output dim.
    let strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let (last_len, last_stride) = (out_shape[rank - 1], strides[rank - 1]);
    let mut idx = vec![0usize; rank - 1];
    let mut offset = 0usize;
    loop {
        if last_stride == 1 {
            out.extend_from_slice(&v[offset..offset + last_len]);
        } else {
            out.extend((0..last_len).map(|j| v[offset + j * last_stride]));
        }
        // Next row: increment the odometer over the leading output dims.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            offset += strides[d];
            if idx[d] < out_shape[d] {
                break;
            }
            offset -= idx[d] * strides[d];
            idx[d] = 0;
        }
    }
}

/// TF `SAME` padding for one spatial dimension: `[before, after]`.
pub fn same_padding(input: i64, kernel: i64, stride: i64, dilation: i64) -> Result<[i64; 2], String> {
    if input < 0 || kernel < 1 || stride < 1 || dilation < 1 {
        return Err(format!("same_pad({input}, {kernel}, {stride}, {dilation}): sizes must be positive"));
    }
    let out = (input + stride - 1) / stride;
    let effective = (kernel - 1) * dilation + 1;
    let total = ((out - 1) * stride + effective - input).max(0);
    Ok([total / 2, total - total / 2])
}

fn py_index(len: usize, i: i64) -> Result<usize, String> {
    let n = len as i64;
    let j = if i < 0 { i + n } else { i };
    if j < 0 || j >= n {
        Err(format!("index {i} is out of range for a list of length {len}"))
    } else {
        Ok(j as usize)
    }
}

fn py_bound(len: usize, i: i64) -> usize {
    let n = len as i64;
    (if i < 0 { (i + n).max(0) } else { i.min(n) }) as usize
}

fn tensor_binary(a: &[Value], what: &str, f: fn(f32, f32) -> f32) -> Result<Value, String> {
    let x = tensor(arg(a, 0)?, what)?;
    let y = tensor(arg(a, 1)?, what)?;
    Ok(Value::Tensor(Arc::new(tensor_math::broadcast_binary(x, y, f)?)))
}

// ---------------------------------------------------------------------------------------------
// The registry

use SigTy as S;

macro_rules! f {
    ($name:literal, [$($a:ident),*], $ret:ident, $doc:literal, $body:expr) => {
        Function { name: $name, args: &[$(S::$a),*], ret: S::$ret, doc: $doc, eval: $body }
    };
}

/// Every attribute function, in documentation order.
pub static FUNCTIONS: &[Function] = &[
    // --- facts about e-classes
    f!("dtype", [Node], DType, "element type of a tensor", |a, fx| {
        let id = class(arg(a, 0)?, "dtype")?;
        fx.dtype(id).map(Value::DType).ok_or_else(|| format!("the dtype of e-class {id} is not known"))
    }),
    f!("rank", [Node], Int, "number of dimensions (fails if unknown)", |a, fx| {
        Ok(Value::Int(shape_of(fx, class(arg(a, 0)?, "rank")?)?.len() as i64))
    }),
    f!("shape", [Node], Ints, "all dimensions (fails unless every one is known)", |a, fx| {
        let id = class(arg(a, 0)?, "shape")?;
        let s = shape_of(fx, id)?;
        s.iter()
            .map(|d| d.map(|d| Value::Int(d as i64)).ok_or_else(|| format!("the shape of e-class {id} is not fully known")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List)
    }),
    f!("dim", [Node, Int], Int, "dimension i (negative from the end; fails if unknown)", |a, fx| {
        let id = class(arg(a, 0)?, "dim")?;
        let s = shape_of(fx, id)?;
        let i = normalize_axis(int(arg(a, 1)?, "dim")?, s.len() as i64)?;
        s[i as usize].map(|d| Value::Int(d as i64)).ok_or_else(|| format!("dimension {i} of e-class {id} is not known"))
    }),
    f!("shape_or", [Node, Int], Ints, "shape_or(x, v): the dimensions with v for each unknown one (fails if the rank is unknown)", |a, fx| {
        let id = class(arg(a, 0)?, "shape_or")?;
        let v = int(arg(a, 1)?, "shape_or")?;
        Ok(Value::ints(shape_of(fx, id)?.iter().map(|d| d.map_or(v, |d| d as i64))))
    }),
    f!("known_dim", [Node, Int], Bool, "is dimension i known?", |a, fx| {
        let id = class(arg(a, 0)?, "known_dim")?;
        let s = shape_of(fx, id)?;
        let i = normalize_axis(int(arg(a, 1)?, "known_dim")?, s.len() as i64)?;
        Ok(Value::Bool(s[i as usize].is_some()))
    }),
    f!("is_static", [Node], Bool, "is every dimension known?", |a, fx| {
        let id = class(arg(a, 0)?, "is_static")?;
        Ok(Value::Bool(fx.shape(id).is_some_and(|s| s.iter().all(Option::is_some))))
    }),
    f!("is_const", [Node], Bool, "is the tensor a constant?", |a, fx| {
        Ok(Value::Bool(fx.constant(class(arg(a, 0)?, "is_const")?).is_some()))
    }),
    f!("value", [Node], Tensor, "the constant tensor (fails if not constant)", |a, fx| {
        Ok(Value::Tensor(constant(fx, class(arg(a, 0)?, "value")?)?))
    }),
    f!("int_value", [Node], Int, "the single element of an integer constant", |a, fx| {
        let t = constant(fx, class(arg(a, 0)?, "int_value")?)?;
        match (&t.data, t.num_elements()) {
            (TensorData::Int(v), 1) => v.first().map(|x| Value::Int(*x)).ok_or_else(|| "empty constant".into()),
            _ => Err(format!("expected an integer constant with one element, got {} {:?}", t.dtype, t.shape)),
        }
    }),
    f!("float_value", [Node], Float, "the single element of a numeric constant", |a, fx| {
        let t = constant(fx, class(arg(a, 0)?, "float_value")?)?;
        if t.num_elements() != 1 {
            return Err(format!("expected a constant with one element, got shape {:?}", t.shape));
        }
        t.get_f64(0).map(Value::float).ok_or_else(|| "empty constant".into())
    }),
    f!("ints", [Node], Ints, "the elements of an integer constant, flattened", |a, fx| {
        let t = constant(fx, class(arg(a, 0)?, "ints")?)?;
        match &t.data {
            TensorData::Int(v) => Ok(Value::ints(v.iter().copied())),
            _ => Err(format!("expected an integer constant, got {}", t.dtype)),
        }
    }),
    f!("bools", [Node], Bools, "the elements of a bool constant, flattened", |a, fx| {
        let t = constant(fx, class(arg(a, 0)?, "bools")?)?;
        match &t.data {
            TensorData::Bool(v) => Ok(Value::List(v.iter().map(|b| Value::Bool(*b)).collect())),
            _ => Err(format!("expected a bool constant, got {}", t.dtype)),
        }
    }),
    f!("floats", [Node], Floats, "the elements of a numeric constant, flattened", |a, fx| {
        let t = constant(fx, class(arg(a, 0)?, "floats")?)?;
        Ok(Value::List((0..t.num_elements()).filter_map(|i| t.get_f64(i)).map(Value::float).collect()))
    }),
    // --- constant tensors
    f!("permute", [Tensor, Ints], Tensor, "transpose a constant: output dim i is input dim perm[i]", |a, _| {
        let t = tensor(arg(a, 0)?, "permute")?;
        Ok(Value::Tensor(Arc::new(permute_tensor(t, &ints(arg(a, 1)?, "permute")?)?)))
    }),
    f!("reshape", [Tensor, Ints], Tensor, "reshape a constant (one -1 is inferred)", |a, _| {
        let t = tensor(arg(a, 0)?, "reshape")?;
        let dims = ints(arg(a, 1)?, "reshape")?;
        let n = t.num_elements() as i64;
        let known: i64 = dims.iter().filter(|d| **d != -1).product();
        let holes = dims.iter().filter(|d| **d == -1).count();
        let shape: Vec<i64> = match holes {
            0 => dims.clone(),
            1 if known > 0 && n % known == 0 => dims.iter().map(|&d| if d == -1 { n / known } else { d }).collect(),
            _ => return Err(format!("cannot reshape {:?} to {dims:?}", t.shape)),
        };
        if shape.iter().any(|d| *d < 0) || shape.iter().product::<i64>() != n {
            return Err(format!("cannot reshape {:?} to {dims:?}", t.shape));
        }
        Ok(Value::Tensor(Arc::new(Tensor { shape: shape.iter().map(|d| *d as usize).collect(), ..(**t).clone() })))
    }),
    f!("tensor_slice", [Tensor, Int, Int, Int], Tensor, "tensor_slice(t, axis, start, end): elements [start, end) of a constant along one axis", |a, _| {
        let t = tensor(arg(a, 0)?, "tensor_slice")?;
        let i = |k| int(arg(a, k)?, "tensor_slice");
        Ok(Value::Tensor(Arc::new(tensor_math::slice_axis(t, i(1)?, i(2)?, i(3)?)?)))
    }),
    f!("tensor_concat", [ListT, Int], Tensor, "tensor_concat(ts, axis): constants of one dtype joined along an axis (the inverse of tensor_slice)", |a, _| {
        let items = list(arg(a, 0)?, "tensor_concat")?;
        let ts = items.iter().map(|v| tensor(v, "tensor_concat").map(|t| &**t)).collect::<Result<Vec<_>, _>>()?;
        Ok(Value::Tensor(Arc::new(tensor_math::concat_axis(&ts, int(arg(a, 1)?, "tensor_concat")?)?)))
    }),
    f!("eye", [Int], Tensor, "eye(n): the n x n float32 identity matrix", |a, _| {
        let n = int(arg(a, 0)?, "eye")?;
        Ok(Value::Tensor(Arc::new(tensor_math::band_mask(n, n, 0, 0)?)))
    }),
    f!("tensor_shape", [Tensor], Ints, "the shape of a constant", |a, _| {
        Ok(Value::ints(tensor(arg(a, 0)?, "tensor_shape")?.shape.iter().map(|d| *d as i64)))
    }),
    f!("tensor_of", [Floats, Ints], Tensor, "tensor_of(values, shape): a float32 constant of the given shape from its row-major values (a small weight matrix written out)", |a, _| {
        let vals = list(arg(a, 0)?, "tensor_of")?.iter().map(|v| float(v, "tensor_of").map(|f| f as f32)).collect::<Result<Vec<_>, _>>()?;
        let shape = ints(arg(a, 1)?, "tensor_of")?;
        let dims = shape.iter().map(|d| usize::try_from(*d).map_err(|_| format!("tensor_of: negative dimension in {shape:?}"))).collect::<Result<Vec<_>, _>>()?;
        if dims.iter().product::<usize>() != vals.len() {
            return Err(format!("tensor_of: {} values do not fill shape {shape:?}", vals.len()));
        }
        Ok(Value::Tensor(Arc::new(Tensor::from_f32(dims, vals))))
    }),
    f!("next_up_f32", [Float], Float, "next_up_f32(x): the smallest float32 above x (x rounded to float32 first): turns TF's strict `score > t` into Core ML's `score >= t'`", |a, _| {
        let x = float(arg(a, 0)?, "next_up_f32")? as f32;
        Ok(Value::Float(OrderedFloat(x.next_up() as f64)))
    }),
    f!("fill", [Ints, Float], Tensor, "a float32 tensor of the given shape filled with one value", |a, _| {
        let shape = ints(arg(a, 0)?, "fill")?;
        if shape.iter().any(|d| *d < 0) {
            return Err(format!("fill: negative dimension in {shape:?}"));
        }
        let n: usize = shape.iter().map(|d| *d as usize).product();
        if n > 1 << 26 {
            return Err(format!("fill: {n} elements is too many"));
        }
        let v = float(arg(a, 1)?, "fill")? as f32;
        Ok(Value::Tensor(Arc::new(Tensor::from_f32(shape.iter().map(|d| *d as usize).collect(), vec![v; n]))))
    }),
    // --- constant arithmetic (tensor_math.rs): weights computed when a rule fires
    f!("tensor_add", [Tensor, Tensor], Tensor, "elementwise a + b of two constants, NumPy broadcasting", |a, _| {
        tensor_binary(a, "tensor_add", |x, y| x + y)
    }),
    f!("tensor_sub", [Tensor, Tensor], Tensor, "elementwise a - b of two constants, NumPy broadcasting", |a, _| {
        tensor_binary(a, "tensor_sub", |x, y| x - y)
    }),
    f!("tensor_mul", [Tensor, Tensor], Tensor, "elementwise a * b of two constants, NumPy broadcasting", |a, _| {
        tensor_binary(a, "tensor_mul", |x, y| x * y)
    }),
    f!("tensor_div", [Tensor, Tensor], Tensor, "elementwise a / b of two constants, NumPy broadcasting", |a, _| {
        tensor_binary(a, "tensor_div", |x, y| x / y)
    }),
    f!("tensor_sqrt", [Tensor], Tensor, "elementwise square root of a constant", |a, _| {
        Ok(Value::Tensor(Arc::new(tensor_math::unary(tensor(arg(a, 0)?, "tensor_sqrt")?, f32::sqrt)?)))
    }),
    f!("scale_axis", [Tensor, Int, Tensor], Tensor, "scale_axis(t, axis, v): t multiplied along axis by the vector v", |a, _| {
        let t = tensor(arg(a, 0)?, "scale_axis")?;
        let v = tensor(arg(a, 2)?, "scale_axis")?;
        Ok(Value::Tensor(Arc::new(tensor_math::scale_axis(t, int(arg(a, 1)?, "scale_axis")?, v)?)))
    }),
    f!("to_rank", [Tensor, Int], Tensor, "a constant's shape left-padded with ones to a rank (its broadcast view)", |a, _| {
        let t = tensor(arg(a, 0)?, "to_rank")?;
        Ok(Value::Tensor(Arc::new(tensor_math::to_rank(t, int(arg(a, 1)?, "to_rank")?)?)))
    }),
    f!("leibniz_matrix", [Int], Tensor, "[n * n!, n * n] 0/±1 matrix selecting each permutation's entries of a flattened n x n matrix (sign on row 0)", |a, _| {
        Ok(Value::Tensor(Arc::new(tensor_math::leibniz_matrix(int(arg(a, 0)?, "leibniz_matrix")?)?)))
    }),
    f!("one_hot_matrix", [Ints, Int], Tensor, "one_hot_matrix(ids, n): [n, len(ids)] float32 with a 1 at (ids[i], i); ids outside 0..n select nothing", |a, _| {
        Ok(Value::Tensor(Arc::new(tensor_math::one_hot_matrix(&ints(arg(a, 0)?, "one_hot_matrix")?, int(arg(a, 1)?, "one_hot_matrix")?)?)))
    }),
    f!("normalize_rows", [Tensor], Tensor, "a rank-2 constant with each row divided by its sum (all-zero rows stay zero)", |a, _| {
        Ok(Value::Tensor(Arc::new(tensor_math::normalize_rows(tensor(arg(a, 0)?, "normalize_rows")?)?)))
    }),
    f!("band_mask", [Int, Int, Int, Int], Tensor, "band_mask(rows, cols, k_lo, k_hi): [rows, cols] 0/1 mask of the diagonals k_lo <= j - i <= k_hi", |a, _| {
        let i = |k| int(arg(a, k)?, "band_mask");
        Ok(Value::Tensor(Arc::new(tensor_math::band_mask(i(0)?, i(1)?, i(2)?, i(3)?)?)))
    }),
    f!("diag_selection", [Int, Int, Int, Int, Str], Tensor, "diag_selection(rows, cols, k_lo, k_hi, align): [num_diags * max_len, rows * cols] 0/1 matrix picking TF's aligned diagonals of a flattened matrix", |a, _| {
        let i = |k| int(arg(a, k)?, "diag_selection");
        Ok(Value::Tensor(Arc::new(tensor_math::diag_selection(i(0)?, i(1)?, i(2)?, i(3)?, string(arg(a, 4)?, "diag_selection")?)?)))
    }),
    f!("diag_padding", [Int, Int, Int, Int, Str], Tensor, "diag_padding(rows, cols, k_lo, k_hi, align): [num_diags * max_len], 1 at the padding positions of diag_selection's layout", |a, _| {
        let i = |k| int(arg(a, k)?, "diag_padding");
        Ok(Value::Tensor(Arc::new(tensor_math::diag_padding(i(0)?, i(1)?, i(2)?, i(3)?, string(arg(a, 4)?, "diag_padding")?)?)))
    }),
    f!("dft_matrix", [Str, Int, Int], Tensor, "dft_matrix(kind, n, len): [out, in] batchedMatmul weights of a DFT of length len on the innermost axis, complex values in halves layout (kind rfft, fft, ifft or irfft)", |a, _| {
        let i = |k| int(arg(a, k)?, "dft_matrix");
        Ok(Value::Tensor(Arc::new(tensor_math::dft_matrix(string(arg(a, 0)?, "dft_matrix")?, i(1)?, i(2)?)?)))
    }),
    f!("adjugate_matrix", [Int], Tensor, "[(n-1) * n * n * (n-1)!, n * n] 0/±1 matrix selecting the factors of every adjugate entry of a flattened n x n matrix", |a, _| {
        Ok(Value::Tensor(Arc::new(tensor_math::adjugate_matrix(int(arg(a, 0)?, "adjugate_matrix")?)?)))
    }),
    // --- TF kernels' sampling arithmetic (sampling.rs)
    f!("bicubic_matrix", [Int, Int, Bool, Bool], Tensor, "bicubic_matrix(in, out, align_corners, half_pixel_centers): [out, in] float32 weights of TF's ResizeBicubic along one axis", |a, _| {
        let i = |k| int(arg(a, k)?, "bicubic_matrix");
        let b = |k| match arg(a, k)? {
            Value::Bool(b) => Ok(*b),
            v => Err(format!("bicubic_matrix: expected a bool, got {v}")),
        };
        Ok(Value::Tensor(Arc::new(sampling::bicubic_matrix(i(0)?, i(1)?, b(2)?, b(3)?)?)))
    }),
    f!("histogram_edges", [Float, Float, Int], Floats, "histogram_edges(lo, hi, nbins): the float32 edges where HistogramFixedWidth's bins begin (edge 0 is 0, of max(v, lo) - lo)", |a, _| {
        let edges = sampling::histogram_edges(float(arg(a, 0)?, "histogram_edges")?, float(arg(a, 1)?, "histogram_edges")?, int(arg(a, 2)?, "histogram_edges")?)?;
        Ok(Value::List(edges.into_iter().map(Value::float).collect()))
    }),
    // --- CropAndResize with constant boxes (crop.rs): TF's float32 sample positions
    f!("crop_inside", [Tensor, Int, Int, Int, Int], Bool, "crop_inside(boxes, h, w, crop_h, crop_w): does every sample TF's CropAndResize takes lie inside the image (no extrapolation)?", |a, _| {
        let i = |k| usize_arg(a, k, "crop_inside");
        Ok(Value::Bool(crop::samples_inside(tensor(arg(a, 0)?, "crop_inside")?, i(1)?, i(2)?, i(3)?, i(4)?)?))
    }),
    f!("crop_rois", [Tensor, Tensor, Int], Tensor, "crop_rois(boxes, box_ind, batch): cropResize's [N, 1, 5, 1, 1] boxes (image, y1, x1, y2, x2)", |a, _| {
        let (b, ind) = (tensor(arg(a, 0)?, "crop_rois")?, tensor(arg(a, 1)?, "crop_rois")?);
        Ok(Value::Tensor(Arc::new(crop::rois(b, ind, usize_arg(a, 2, "crop_rois")?)?)))
    }),
    f!("crop_nearest_indices", [Tensor, Tensor, Int, Int, Int, Int, Int], Tensor, "crop_nearest_indices(boxes, box_ind, batch, h, w, crop_h, crop_w): gatherND indices [N, crop_h, crop_w, 3] of TF's nearest sampling", |a, _| {
        let (b, ind) = (tensor(arg(a, 0)?, "crop_nearest_indices")?, tensor(arg(a, 1)?, "crop_nearest_indices")?);
        let i = |k| usize_arg(a, k, "crop_nearest_indices");
        Ok(Value::Tensor(Arc::new(crop::nearest_indices(b, ind, i(2)?, i(3)?, i(4)?, i(5)?, i(6)?)?)))
    }),
    // --- audio (audio.rs): TF's AudioSpectrogram and Mfcc as constant matrices
    f!("fft_length", [Int], Int, "fft_length(window): TF's spectrogram FFT length, the next power of two", |a, _| {
        Ok(Value::Int(audio::fft_length(usize_arg(a, 0, "fft_length")?) as i64))
    }),
    f!("spectrogram_matrix", [Int], Tensor, "spectrogram_matrix(window): [2F, window] Hann-windowed real DFT (F = fft_length / 2 + 1 real parts, then imaginary parts)", |a, _| {
        Ok(Value::Tensor(Arc::new(audio::spectrogram_matrix(usize_arg(a, 0, "spectrogram_matrix")?)?)))
    }),
    f!("mel_filterbank", [Int, Float, Float, Float, Int], Tensor, "mel_filterbank(bins, sample_rate, lower, upper, channels): [channels, bins] TF's MFCC mel filterbank", |a, _| {
        let f = |k| float(arg(a, k)?, "mel_filterbank");
        let t = audio::mel_filterbank(usize_arg(a, 0, "mel_filterbank")?, f(1)?, f(2)?, f(3)?, usize_arg(a, 4, "mel_filterbank")?)?;
        Ok(Value::Tensor(Arc::new(t)))
    }),
    f!("mfcc_dct", [Int, Int], Tensor, "mfcc_dct(channels, coefficients): [coefficients, channels] TF's MFCC DCT", |a, _| {
        Ok(Value::Tensor(Arc::new(audio::mfcc_dct(usize_arg(a, 0, "mfcc_dct")?, usize_arg(a, 1, "mfcc_dct")?)?)))
    }),
    // --- ImageProjectiveTransform with constant transforms (projective.rs)
    f!("projective_indices", [Tensor, Int, Int, Int, Int, Int, Str, Str], Tensor, "projective_indices(transforms, batch, h, w, oh, ow, interpolation, fill_mode): [batch, oh, ow, K, 3] gatherND indices of TF's projective transform (K = 1 NEAREST, 4 BILINEAR)", |a, _| {
        Ok(Value::Tensor(Arc::new(projective_plan(a, "projective_indices")?.indices)))
    }),
    f!("projective_weights", [Tensor, Int, Int, Int, Int, Int, Str, Str], Tensor, "projective_weights(...): [batch, oh, ow, K, 1] weights of the corners projective_indices reads (0 outside the image)", |a, _| {
        Ok(Value::Tensor(Arc::new(projective_plan(a, "projective_weights")?.weights)))
    }),
    f!("projective_fill", [Tensor, Int, Int, Int, Int, Int, Str, Str], Tensor, "projective_fill(...): [batch, oh, ow, 1] weight of fill_value in each output pixel (reads outside the image)", |a, _| {
        Ok(Value::Tensor(Arc::new(projective_plan(a, "projective_fill")?.fill)))
    }),
    // --- lists
    f!("len", [ListT], Int, "length of a list", |a, _| Ok(Value::Int(list(arg(a, 0)?, "len")?.len() as i64))),
    f!("all", [Bools], Bool, "are all elements true? (`all(rank(x) == 4 for x in xs)`; true for an empty list)", |a, _| {
        bools(arg(a, 0)?, "all").map(|b| Value::Bool(b.iter().all(|x| *x)))
    }),
    f!("any", [Bools], Bool, "is some element true? (false for an empty list)", |a, _| {
        bools(arg(a, 0)?, "any").map(|b| Value::Bool(b.iter().any(|x| *x)))
    }),
    f!("range", [Int], Ints, "[0, 1, ..., n-1]", |a, _| {
        let n = int(arg(a, 0)?, "range")?;
        if !(0..=1 << 20).contains(&n) {
            return Err(format!("range({n}): out of bounds"));
        }
        Ok(Value::ints(0..n))
    }),
    f!("at", [ListT, Int], T, "element i (negative from the end)", |a, _| {
        let l = list(arg(a, 0)?, "at")?;
        let i = py_index(l.len(), int(arg(a, 1)?, "at")?)?;
        Ok(l[i].clone())
    }),
    f!("slice", [ListT, Int, Int], ListT, "elements [start, end) with Python's negative indices", |a, _| {
        let l = list(arg(a, 0)?, "slice")?;
        let s = py_bound(l.len(), int(arg(a, 1)?, "slice")?);
        let e = py_bound(l.len(), int(arg(a, 2)?, "slice")?);
        Ok(Value::List(if s < e { l[s..e].to_vec() } else { vec![] }))
    }),
    f!("concat", [ListT, ListT], ListT, "two lists one after the other", |a, _| {
        let mut l = list(arg(a, 0)?, "concat")?.to_vec();
        l.extend_from_slice(list(arg(a, 1)?, "concat")?);
        Ok(Value::List(l))
    }),
    f!("reverse", [ListT], ListT, "a list backwards", |a, _| {
        Ok(Value::List(list(arg(a, 0)?, "reverse")?.iter().rev().cloned().collect()))
    }),
    f!("set_at", [ListT, Int, T], ListT, "a copy with element i replaced", |a, _| {
        let mut l = list(arg(a, 0)?, "set_at")?.to_vec();
        let i = py_index(l.len(), int(arg(a, 1)?, "set_at")?)?;
        l[i] = arg(a, 2)?.clone();
        Ok(Value::List(l))
    }),
    f!("contains", [ListT, T], Bool, "is the value in the list?", |a, _| {
        let x = arg(a, 1)?;
        Ok(Value::Bool(list(arg(a, 0)?, "contains")?.iter().any(|v| v.loose_eq(x))))
    }),
    f!("index_of", [ListT, T], Int, "position of the first element equal to the value", |a, _| {
        let x = arg(a, 1)?;
        list(arg(a, 0)?, "index_of")?.iter().position(|v| v.loose_eq(x)).map(|i| Value::Int(i as i64)).ok_or_else(|| format!("{x} is not in the list"))
    }),
    f!("sum", [Ints], Int, "sum of a list of ints", |a, _| {
        ints(arg(a, 0)?, "sum")?.iter().try_fold(0i64, |s, x| s.checked_add(*x)).map(Value::Int).ok_or_else(|| "sum overflows".into())
    }),
    f!("product", [Ints], Int, "product of a list of ints", |a, _| {
        ints(arg(a, 0)?, "product")?.iter().try_fold(1i64, |s, x| s.checked_mul(*x)).map(Value::Int).ok_or_else(|| "product overflows".into())
    }),
    f!("list_max", [Ints], Int, "largest element of a non-empty list of ints", |a, _| {
        ints(arg(a, 0)?, "list_max")?.into_iter().max().map(Value::Int).ok_or_else(|| "list_max of an empty list".into())
    }),
    f!("max", [Int, Int], Int, "larger of two ints", |a, _| Ok(Value::Int(int(arg(a, 0)?, "max")?.max(int(arg(a, 1)?, "max")?)))),
    f!("min", [Int, Int], Int, "smaller of two ints", |a, _| Ok(Value::Int(int(arg(a, 0)?, "min")?.min(int(arg(a, 1)?, "min")?)))),
    f!("abs", [Int], Int, "absolute value", |a, _| Ok(Value::Int(int(arg(a, 0)?, "abs")?.wrapping_abs()))),
    f!("float", [Float], Float, "an int as a float", |a, _| Ok(Value::float(float(arg(a, 0)?, "float")?))),
    f!("round", [Float], Int, "nearest int", |a, _| {
        let x = float(arg(a, 0)?, "round")?.round();
        if x.is_finite() && x.abs() < 9.0e18 { Ok(Value::Int(x as i64)) } else { Err(format!("round({x}): out of range")) }
    }),
    // --- axes and permutations
    f!("norm_axis", [Int, Int], Int, "norm_axis(axis, rank): a negative axis counted from the end", |a, _| {
        Ok(Value::Int(normalize_axis(int(arg(a, 0)?, "norm_axis")?, int(arg(a, 1)?, "norm_axis")?)?))
    }),
    f!("norm_axes", [Ints, Int], Ints, "norm_axis on every element, sorted", |a, _| {
        let r = int(arg(a, 1)?, "norm_axes")?;
        let mut v = ints(arg(a, 0)?, "norm_axes")?.iter().map(|x| normalize_axis(*x, r)).collect::<Result<Vec<_>, _>>()?;
        v.sort_unstable();
        Ok(Value::ints(v))
    }),
    f!("inverse_perm", [Ints], Ints, "the permutation that undoes p", |a, _| {
        let p = check_perm(&ints(arg(a, 0)?, "inverse_perm")?)?;
        let mut inv = vec![0i64; p.len()];
        for (i, &x) in p.iter().enumerate() {
            inv[x] = i as i64;
        }
        Ok(Value::ints(inv))
    }),
    f!("compose_perm", [Ints, Ints], Ints, "transposing by p then by q equals transposing by compose_perm(p, q)", |a, _| {
        let p = check_perm(&ints(arg(a, 0)?, "compose_perm")?)?;
        let q = check_perm(&ints(arg(a, 1)?, "compose_perm")?)?;
        if p.len() != q.len() {
            return Err(format!("permutations of different lengths {} and {}", p.len(), q.len()));
        }
        Ok(Value::ints(q.iter().map(|&i| p[i] as i64)))
    }),
    f!("is_identity_perm", [Ints], Bool, "is p = [0, 1, ..., n-1]?", |a, _| {
        let p = ints(arg(a, 0)?, "is_identity_perm")?;
        Ok(Value::Bool(p.iter().enumerate().all(|(i, &x)| x == i as i64)))
    }),
    f!("same_pad", [Int, Int, Int, Int], Ints, "same_pad(size, kernel, stride, dilation): TF SAME padding [before, after]", |a, _| {
        let v: Vec<i64> = (0..4).map(|i| int(arg(a, i)?, "same_pad")).collect::<Result<_, _>>()?;
        Ok(Value::ints(same_padding(v[0], v[1], v[2], v[3])?))
    }),
    // --- bit masks
    f!("bits", [Int, Int], Bools, "bits(mask, n): bit i of mask for i in 0..n (TF's per-axis masks)", |a, _| {
        let mask = int(arg(a, 0)?, "bits")?;
        let n = int(arg(a, 1)?, "bits")?;
        if !(0..=63).contains(&n) {
            return Err(format!("bits: n = {n} is out of range 0..=63"));
        }
        Ok(Value::List((0..n).map(|i| Value::Bool((mask >> i) & 1 == 1)).collect()))
    }),
    f!("mask_eq", [Ints, Int], Bools, "mask_eq(l, v): element i is l[i] == v (TF's -1 size means \"to the end\")", |a, _| {
        let v = int(arg(a, 1)?, "mask_eq")?;
        Ok(Value::List(ints(arg(a, 0)?, "mask_eq")?.iter().map(|x| Value::Bool(*x == v)).collect()))
    }),
    f!("mask_in", [Ints, Ints], Bools, "mask_in(l, set): element i is whether l[i] is in set", |a, _| {
        let set = ints(arg(a, 1)?, "mask_in")?;
        Ok(Value::List(ints(arg(a, 0)?, "mask_in")?.iter().map(|x| Value::Bool(set.contains(x))).collect()))
    }),
    f!("repeat", [T, Int], ListT, "repeat(v, n): a list of n copies of v", |a, _| {
        let n = int(arg(a, 1)?, "repeat")?;
        if !(0..=1 << 16).contains(&n) {
            return Err(format!("repeat: n = {n} is out of range"));
        }
        Ok(Value::List(vec![arg(a, 0)?.clone(); n as usize]))
    }),
    // --- strided slices (see `strided_slice.rs`)
    f!("ss_ints", [Str, Int, Ints, Ints, Ints, Ints], Ints, "ss_ints(field, rank, begin, end, strides, [begin_mask, end_mask, shrink_axis_mask, ellipsis_mask, new_axis_mask]): \"begin\", \"end\", \"strides\" per axis, or \"new_axes\"", |a, _| {
        let spec = ss_spec(a)?;
        match string(arg(a, 0)?, "ss_ints")? {
            "begin" => Ok(Value::ints(spec.begin)),
            "end" => Ok(Value::ints(spec.end)),
            "strides" => Ok(Value::ints(spec.strides)),
            "new_axes" => Ok(Value::ints(spec.new_axes)),
            f => Err(format!("ss_ints: unknown field {f:?}")),
        }
    }),
    f!("ss_bools", [Str, Int, Ints, Ints, Ints, Ints], Bools, "ss_bools(field, ...as ss_ints): \"begin_mask\", \"end_mask\" or \"squeeze_mask\" per axis", |a, _| {
        let spec = ss_spec(a)?;
        let v = match string(arg(a, 0)?, "ss_bools")? {
            "begin_mask" => spec.begin_mask,
            "end_mask" => spec.end_mask,
            "squeeze_mask" => spec.squeeze_mask,
            f => return Err(format!("ss_bools: unknown field {f:?}")),
        };
        Ok(Value::List(v.into_iter().map(Value::Bool).collect()))
    }),
    // --- einsum (see `einsum.rs`): operands in einsum order, k selects the matmul operand
    f!("einsum_swap", [Str], Bool, "does the matmul take the einsum's second operand first?", |a, _| {
        Ok(Value::Bool(einsum_plan(arg(a, 0)?)?.1.swap))
    }),
    f!("einsum_adj", [Str, Int], Bool, "einsum_adj(eq, k): transpose flag of matmul operand k (0, 1)", |a, _| {
        let k = int(arg(a, 1)?, "einsum_adj")?;
        let (_, p) = einsum_plan(arg(a, 0)?)?;
        p.adj.get(k as usize).filter(|_| k >= 0).map(|b| Value::Bool(*b)).ok_or_else(|| format!("einsum_adj: k must be 0 or 1, got {k}"))
    }),
    f!("einsum_perm", [Str, Int], Ints, "einsum_perm(eq, k): transpose of matmul operand k (0, 1) or, k = 2, of the product to the output", |a, _| {
        let k = int(arg(a, 1)?, "einsum_perm")?;
        let (_, p) = einsum_plan(arg(a, 0)?)?;
        match k {
            0 | 1 => Ok(Value::ints(p.perms[k as usize].iter().copied())),
            2 => Ok(Value::ints(p.out_perm.iter().copied())),
            _ => Err(format!("einsum_perm: k must be 0, 1 or 2, got {k}")),
        }
    }),
    f!("einsum_shape", [Str, Ints, Ints, Int], Ints, "einsum_shape(eq, shape_a, shape_b, k): reshape target of matmul operand k (0, 1) or, k = 2, the product's unflattened shape", |a, _| {
        let (e, p) = einsum_plan(arg(a, 0)?)?;
        let sa = ints(arg(a, 1)?, "einsum_shape")?;
        let sb = ints(arg(a, 2)?, "einsum_shape")?;
        let k = int(arg(a, 3)?, "einsum_shape")?;
        if k < 0 {
            return Err(format!("einsum_shape: k must be 0, 1 or 2, got {k}"));
        }
        Ok(Value::ints(p.shape(&e, [&sa, &sb], k as usize)?))
    }),
    f!("einsum_sum_axes", [Str, Int], Ints, "einsum_sum_axes(eq, k): axes of operand k whose index appears nowhere else", |a, _| {
        let e = super::einsum::parse(string(arg(a, 0)?, "einsum_sum_axes")?)?;
        let k = int(arg(a, 1)?, "einsum_sum_axes")?;
        match k {
            0 | 1 => Ok(Value::ints(e.sum_axes(k as usize))),
            _ => Err(format!("einsum_sum_axes: k must be 0 or 1, got {k}")),
        }
    }),
    f!("einsum_explicit", [Str, Ints, Ints], Str, "einsum_explicit(eq, shape_a, shape_b): the equation with `...` replaced by index letters of its own (fails where the ellipsis dims would broadcast)", |a, _| {
        let eq = string(arg(a, 0)?, "einsum_explicit")?;
        Ok(Value::Str(super::einsum::explicit(eq, &ints(arg(a, 1)?, "einsum_explicit")?, &ints(arg(a, 2)?, "einsum_explicit")?)?))
    }),
    f!("einsum_drop_summed", [Str], Str, "the equation without the indices einsum_sum_axes sums away", |a, _| {
        Ok(Value::Str(super::einsum::parse(string(arg(a, 0)?, "einsum_drop_summed")?)?.drop_summed()))
    }),
    // --- strings
    f!("str_contains", [Str, Str], Bool, "does the string contain the substring?", |a, _| {
        Ok(Value::Bool(string(arg(a, 0)?, "str_contains")?.contains(string(arg(a, 1)?, "str_contains")?)))
    }),
    f!("lower", [Str], Str, "lowercase", |a, _| match arg(a, 0)? {
        Value::Str(s) => Ok(Value::Str(s.to_ascii_lowercase())),
        v => Err(format!("lower: expected a string, got {v}")),
    }),
    f!("upper", [Str], Str, "uppercase", |a, _| match arg(a, 0)? {
        Value::Str(s) => Ok(Value::Str(s.to_ascii_uppercase())),
        v => Err(format!("upper: expected a string, got {v}")),
    }),
];

/// Evaluates a binary operator on two values (shared by guards and right-hand sides).
pub fn binary(op: super::ast::BinOp, a: &Value, b: &Value) -> Result<Value, String> {
    use super::ast::BinOp::*;
    let num = |f: fn(i64, i64) -> Option<i64>, g: fn(f64, f64) -> f64| -> Result<Value, String> {
        match (a, b) {
            (Value::Int(x), Value::Int(y)) => f(*x, *y).map(Value::Int).ok_or_else(|| format!("{x} {} {y}: overflow or division by zero", op.symbol())),
            _ => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => Ok(Value::Float(OrderedFloat(g(x, y)))),
                _ => Err(format!("{a} {} {b}: not numbers", op.symbol())),
            },
        }
    };
    let cmp = || -> Result<std::cmp::Ordering, String> {
        match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).ok_or_else(|| "NaN in comparison".into()),
            _ => match (a, b) {
                (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
                _ => Err(format!("{a} {} {b}: cannot compare", op.symbol())),
            },
        }
    };
    let bool_of = |v: &Value| match v {
        Value::Bool(x) => Ok(*x),
        v => Err(format!("expected a bool, got {v}")),
    };
    match op {
        Or => Ok(Value::Bool(bool_of(a)? || bool_of(b)?)),
        And => Ok(Value::Bool(bool_of(a)? && bool_of(b)?)),
        Eq => Ok(Value::Bool(a.loose_eq(b))),
        Ne => Ok(Value::Bool(!a.loose_eq(b))),
        Lt => Ok(Value::Bool(cmp()?.is_lt())),
        Le => Ok(Value::Bool(cmp()?.is_le())),
        Gt => Ok(Value::Bool(cmp()?.is_gt())),
        Ge => Ok(Value::Bool(cmp()?.is_ge())),
        Add => match (a, b) {
            (Value::List(x), Value::List(y)) if x.len() == y.len() => {
                x.iter().zip(y).map(|(p, q)| binary(op, p, q)).collect::<Result<_, _>>().map(Value::List)
            }
            _ => num(i64::checked_add, |x, y| x + y),
        },
        Sub => num(i64::checked_sub, |x, y| x - y),
        Mul => num(i64::checked_mul, |x, y| x * y),
        Div => num(|x, y| if y == 0 { None } else { x.checked_div(y) }, |x, y| x / y),
        Rem => num(|x, y| if y == 0 { None } else { x.checked_rem_euclid(y) }, |x, y| x.rem_euclid(y)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[Value]) -> Result<Value, String> {
        (function(name).unwrap().eval)(args, &NoFacts)
    }

    #[test]
    fn same_pad_matches_tensorflow() {
        // Worked by hand from TF's formula: in=5, k=3, s=2 -> out=3, total=(3-1)*2+3-5=2 -> [1,1].
        assert_eq!(same_padding(5, 3, 2, 1).unwrap(), [1, 1]);
        // in=4, k=3, s=2 -> out=2, total=(2-1)*2+3-4=1 -> [0,1] (TF puts the extra after).
        assert_eq!(same_padding(4, 3, 2, 1).unwrap(), [0, 1]);
    }

    #[test]
    fn permute_hwio_to_oihw() {
        // HWIO shape [1,1,2,3]: element (0,0,i,o) = 10*i + o. OIHW element (o,i,0,0) must equal it.
        let t = Tensor::from_f32(vec![1, 1, 2, 3], vec![0., 1., 2., 10., 11., 12.]);
        let p = permute_tensor(&t, &[3, 2, 0, 1]).unwrap();
        assert_eq!(p.shape, vec![3, 2, 1, 1]);
        let got: Vec<f64> = (0..6).map(|i| p.get_f64(i).unwrap()).collect();
        assert_eq!(got, vec![0., 10., 1., 11., 2., 12.]);
    }

    /// The odometer walk agrees with ndarray's own axis permutation on every permutation of
    /// ranks 0 to 4 (sizes 2..5 so no dim is confused with another), including the empty tensor.
    #[test]
    fn permute_agrees_with_ndarray_on_every_permutation() {
        fn perms(n: usize) -> Vec<Vec<usize>> {
            if n == 0 {
                return vec![vec![]];
            }
            let mut out = vec![];
            for p in perms(n - 1) {
                for i in 0..=p.len() {
                    let mut q = p.clone();
                    q.insert(i, n - 1);
                    out.push(q);
                }
            }
            out
        }
        for shape in [vec![], vec![3], vec![2, 3], vec![2, 3, 4], vec![2, 3, 4, 5], vec![2, 0, 3]] {
            let n: usize = shape.iter().product();
            let values: Vec<i64> = (0..n as i64).collect();
            let a = ndarray::ArrayD::from_shape_vec(shape.clone(), values.clone()).unwrap();
            for p in perms(shape.len()) {
                let want: Vec<i64> = a.clone().permuted_axes(p.clone()).iter().copied().collect();
                assert_eq!(permute_values(&values, &shape, &p), want, "shape {shape:?} perm {p:?}");
            }
        }
    }

    #[test]
    fn perms_compose_and_invert() {
        let p = Value::ints([0, 2, 3, 1]);
        let inv = call("inverse_perm", &[p.clone()]).unwrap();
        assert_eq!(inv, Value::ints([0, 3, 1, 2]));
        assert_eq!(call("compose_perm", &[p, inv]).unwrap(), Value::ints([0, 1, 2, 3]));
        assert!(call("inverse_perm", &[Value::ints([0, 0])]).is_err());
    }

    #[test]
    fn generic_signatures_infer_t() {
        let at = function("at").unwrap();
        assert_eq!(at.result_type(&[Ty::list(Ty::Int), Ty::Int]), Ok(Ty::Int));
        assert!(at.result_type(&[Ty::Int, Ty::Int]).is_err());
        assert_eq!(at.signature(), "at(list<T>, int) -> T");
    }

    #[test]
    fn bits_split_tf_masks() {
        // 5 = 0b101: axes 0 and 2.
        assert_eq!(call("bits", &[Value::Int(5), Value::Int(4)]).unwrap(), Value::List(vec![Value::Bool(true), Value::Bool(false), Value::Bool(true), Value::Bool(false)]));
        assert!(call("bits", &[Value::Int(1), Value::Int(64)]).is_err());
    }

    #[test]
    fn einsum_functions_expose_the_plan() {
        let eq = Value::Str("aecd,abcd->acbe".into());
        assert_eq!(call("einsum_swap", &[eq.clone()]).unwrap(), Value::Bool(true));
        assert_eq!(call("einsum_adj", &[eq.clone(), Value::Int(1)]).unwrap(), Value::Bool(false));
        assert_eq!(call("einsum_perm", &[eq.clone(), Value::Int(2)]).unwrap(), Value::ints([0, 1, 2, 3]));
        assert!(call("einsum_perm", &[eq, Value::Int(3)]).is_err());
        let eq = Value::Str("abc,cd->ad".into());
        assert_eq!(call("einsum_drop_summed", &[eq.clone()]).unwrap(), Value::Str("ac,cd->ad".into()));
        assert!(call("einsum_swap", &[eq]).is_err());
    }

    #[test]
    fn masks_and_repeat() {
        assert_eq!(call("mask_eq", &[Value::ints([2, -1, 3]), Value::Int(-1)]).unwrap(), Value::List(vec![Value::Bool(false), Value::Bool(true), Value::Bool(false)]));
        assert_eq!(call("mask_in", &[Value::ints([0, 1, 2]), Value::ints([2])]).unwrap(), Value::List(vec![Value::Bool(false), Value::Bool(false), Value::Bool(true)]));
        assert_eq!(call("repeat", &[Value::Int(1), Value::Int(3)]).unwrap(), Value::ints([1, 1, 1]));
        assert!(call("repeat", &[Value::Int(1), Value::Int(-1)]).is_err());
    }

    #[test]
    fn names_are_unique() {
        let mut n: Vec<_> = FUNCTIONS.iter().map(|f| f.name).collect();
        n.sort();
        let len = n.len();
        n.dedup();
        assert_eq!(len, n.len());
    }
}
