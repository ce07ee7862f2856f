//! Flexible input shapes, as coremltools' `RangeDim` and `EnumeratedShapes` declare them.
//!
//! A graph input with unknown dims converts to a model input with a default shape and either a
//! `shapeRange` (per dim a `[lower, upper]` size range, `upper = -1` unbounded) or an
//! `enumeratedShapes` list. Without a user spec every unknown dim is `[1, unbounded)` and
//! every known dim is fixed. `convert --input-shape NAME=1,1..512,64` sets bounds or fixes
//! dims (`N` fixed, `A..B` bounded, `A..` unbounded above); `--enumerated-shapes
//! NAME=1,8,64;1,16,64` lists the allowed shapes. The spec is checked against what the graph
//! knows: the rank must agree and a dim the graph fixes must stay inside the spec, so a
//! model never declares a shape its layers were not converted for.

use crate::ir::{Dim, Shape};
use crate::proto::coreml::array_feature_type::{self, EnumeratedShapes, ShapeFlexibility, ShapeRange};
use crate::proto::coreml::SizeRange;
use std::fmt;
use std::str::FromStr;

/// One dim's allowed sizes: `lower..=upper`, `upper` `None` for unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DimRange {
    pub lower: u64,
    pub upper: Option<u64>,
}

impl DimRange {
    pub fn fixed(n: u64) -> DimRange {
        DimRange { lower: n, upper: Some(n) }
    }

    pub fn contains(&self, n: u64) -> bool {
        n >= self.lower && self.upper.is_none_or(|u| n <= u)
    }

    /// The size when the range holds exactly one.
    pub fn fixed_size(&self) -> Option<u64> {
        (self.upper == Some(self.lower)).then_some(self.lower)
    }
}

impl fmt::Display for DimRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.fixed_size(), self.upper) {
            (Some(n), _) => write!(f, "{n}"),
            (None, Some(u)) => write!(f, "{}..{u}", self.lower),
            (None, None) => write!(f, "{}..", self.lower),
        }
    }
}

/// What the user declared for one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputShapeSpec {
    /// Per dim a range (`--input-shape`).
    Ranges(Vec<DimRange>),
    /// The allowed shapes, all of one rank (`--enumerated-shapes`); the first is the default.
    Enumerated(Vec<Vec<u64>>),
}

/// A malformed `NAME=...` argument, or a spec the graph contradicts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlexError {
    #[error("`{arg}`: {why}")]
    Syntax { arg: String, why: String },
    #[error("input `{name}`: the graph gives it rank {graph}, the shape spec {spec} has rank {spec_rank}")]
    Rank { name: String, graph: usize, spec: String, spec_rank: usize },
    #[error("input `{name}`: dim {axis} is {size} in the graph, outside the spec's {spec}")]
    FixedDim { name: String, axis: usize, size: u64, spec: String },
    #[error("input `{name}` has unknown rank; give its shape with --input-shape")]
    UnknownRank { name: String },
}

fn syntax(arg: &str, why: impl Into<String>) -> FlexError {
    FlexError::Syntax { arg: arg.into(), why: why.into() }
}

fn size(arg: &str, s: &str) -> Result<u64, FlexError> {
    s.trim().parse::<u64>().map_err(|_| syntax(arg, format!("`{s}` is not a size (a non-negative integer)")))
}

fn parse_dim(arg: &str, s: &str) -> Result<DimRange, FlexError> {
    let s = s.trim();
    let Some((lo, hi)) = s.split_once("..") else { return Ok(DimRange::fixed(size(arg, s)?)) };
    let lower = if lo.trim().is_empty() { 1 } else { size(arg, lo)? };
    let upper = if hi.trim().is_empty() { None } else { Some(size(arg, hi)?) };
    if upper.is_some_and(|u| u < lower) {
        return Err(syntax(arg, format!("range `{s}` is empty")));
    }
    if lower == 0 {
        return Err(syntax(arg, format!("range `{s}`: sizes start at 1")));
    }
    Ok(DimRange { lower, upper })
}

fn split_name(arg: &str) -> Result<(&str, &str), FlexError> {
    match arg.split_once('=') {
        Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() => Ok((n.trim(), v.trim())),
        _ => Err(syntax(arg, "expected NAME=SHAPE")),
    }
}

/// `NAME=1,1..512,64`: one `--input-shape` argument.
pub fn parse_input_shape(arg: &str) -> Result<(String, InputShapeSpec), FlexError> {
    let (name, dims) = split_name(arg)?;
    let dims = dims.split(',').map(|d| parse_dim(arg, d)).collect::<Result<Vec<_>, _>>()?;
    Ok((name.to_string(), InputShapeSpec::Ranges(dims)))
}

/// `NAME=1,8,64;1,16,64`: one `--enumerated-shapes` argument.
pub fn parse_enumerated(arg: &str) -> Result<(String, InputShapeSpec), FlexError> {
    let (name, shapes) = split_name(arg)?;
    let shapes = shapes
        .split(';')
        .map(|s| s.split(',').map(|d| size(arg, d)).collect::<Result<Vec<_>, _>>())
        .collect::<Result<Vec<_>, _>>()?;
    if shapes.iter().any(|s| s.len() != shapes[0].len()) {
        return Err(syntax(arg, "the enumerated shapes have different ranks"));
    }
    Ok((name.to_string(), InputShapeSpec::Enumerated(shapes)))
}

impl FromStr for InputShapeSpec {
    type Err = FlexError;
    fn from_str(s: &str) -> Result<Self, FlexError> {
        parse_input_shape(&format!("_={s}")).map(|(_, spec)| spec)
    }
}

impl fmt::Display for InputShapeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputShapeSpec::Ranges(d) => write!(f, "[{}]", d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
            InputShapeSpec::Enumerated(s) => {
                write!(f, "one of {}", s.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(" "))
            }
        }
    }
}

impl InputShapeSpec {
    pub fn rank(&self) -> usize {
        match self {
            InputShapeSpec::Ranges(d) => d.len(),
            InputShapeSpec::Enumerated(s) => s[0].len(),
        }
    }

    /// The size of dim `axis` when every allowed shape has the same one.
    pub fn fixed_dim(&self, axis: usize) -> Option<u64> {
        match self {
            InputShapeSpec::Ranges(d) => d[axis].fixed_size(),
            InputShapeSpec::Enumerated(s) => s.iter().all(|t| t[axis] == s[0][axis]).then_some(s[0][axis]),
        }
    }

    /// Whether the spec allows size `n` on dim `axis` (for some allowed shape).
    fn allows_dim(&self, axis: usize, n: u64) -> bool {
        match self {
            InputShapeSpec::Ranges(d) => d[axis].contains(n),
            InputShapeSpec::Enumerated(s) => s.iter().any(|s| s[axis] == n),
        }
    }

    /// The spec of an input the user said nothing about: known dims fixed, others `1..`.
    pub fn from_graph(name: &str, shape: &Shape) -> Result<InputShapeSpec, FlexError> {
        let dims = shape.dims().ok_or_else(|| FlexError::UnknownRank { name: name.into() })?;
        Ok(InputShapeSpec::Ranges(
            dims.iter().map(|d| d.known().map_or(DimRange { lower: 1, upper: None }, DimRange::fixed)).collect(),
        ))
    }

    /// Checks the spec against the graph's shape of the input: same rank, and every dim the
    /// graph knows is allowed.
    pub fn check(&self, name: &str, shape: &Shape) -> Result<(), FlexError> {
        let dims = shape.dims().ok_or_else(|| FlexError::UnknownRank { name: name.into() })?;
        if dims.len() != self.rank() {
            return Err(FlexError::Rank { name: name.into(), graph: dims.len(), spec: self.to_string(), spec_rank: self.rank() });
        }
        for (axis, d) in dims.iter().enumerate() {
            if let Dim::Known(n) = d {
                if !self.allows_dim(axis, *n) {
                    return Err(FlexError::FixedDim { name: name.into(), axis, size: *n, spec: self.to_string() });
                }
            }
        }
        Ok(())
    }

    /// The default shape the model declares (`ArrayFeatureType.shape`): each range's lower
    /// bound, or the first enumerated shape.
    pub fn default_shape(&self) -> Vec<i64> {
        match self {
            InputShapeSpec::Ranges(d) => d.iter().map(|d| d.lower as i64).collect(),
            InputShapeSpec::Enumerated(s) => s[0].iter().map(|&n| n as i64).collect(),
        }
    }

    /// The `ShapeFlexibility` to declare; `None` when the spec allows a single shape.
    pub fn flexibility(&self) -> Option<ShapeFlexibility> {
        match self {
            InputShapeSpec::Ranges(d) if d.iter().all(|d| d.fixed_size().is_some()) => None,
            InputShapeSpec::Ranges(d) => Some(ShapeFlexibility::ShapeRange(ShapeRange {
                size_ranges: d
                    .iter()
                    .map(|d| SizeRange { lower_bound: d.lower, upper_bound: d.upper.map_or(-1, |u| u as i64) })
                    .collect(),
            })),
            InputShapeSpec::Enumerated(s) if s.len() == 1 => None,
            InputShapeSpec::Enumerated(s) => Some(ShapeFlexibility::EnumeratedShapes(EnumeratedShapes {
                shapes: s
                    .iter()
                    .map(|s| array_feature_type::Shape { shape: s.iter().map(|&n| n as i64).collect() })
                    .collect(),
            })),
        }
    }

    /// The spec a model declares for an input (`None`: the default shape only).
    pub fn of_feature(a: &crate::proto::coreml::ArrayFeatureType) -> InputShapeSpec {
        match &a.shape_flexibility {
            Some(ShapeFlexibility::ShapeRange(r)) => InputShapeSpec::Ranges(
                r.size_ranges
                    .iter()
                    .map(|s| DimRange { lower: s.lower_bound, upper: (s.upper_bound >= 0).then_some(s.upper_bound as u64) })
                    .collect(),
            ),
            Some(ShapeFlexibility::EnumeratedShapes(e)) => {
                InputShapeSpec::Enumerated(e.shapes.iter().map(|s| s.shape.iter().map(|&n| n.max(0) as u64).collect()).collect())
            }
            None => InputShapeSpec::Enumerated(vec![a.shape.iter().map(|&n| n.max(0) as u64).collect()]),
        }
    }

    /// Whether an array of shape `got` may be fed.
    pub fn accepts(&self, got: &[usize]) -> bool {
        match self {
            InputShapeSpec::Ranges(d) => got.len() == d.len() && d.iter().zip(got).all(|(d, &n)| d.contains(n as u64)),
            InputShapeSpec::Enumerated(s) => s.iter().any(|s| s.len() == got.len() && s.iter().zip(got).all(|(&a, &b)| a == b as u64)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fixed_bounded_and_open_dims() {
        let (name, spec) = parse_input_shape("x=1,1..512,64,2..").unwrap();
        assert_eq!(name, "x");
        let InputShapeSpec::Ranges(d) = &spec else { panic!() };
        assert_eq!(d, &[DimRange::fixed(1), DimRange { lower: 1, upper: Some(512) }, DimRange::fixed(64), DimRange { lower: 2, upper: None }]);
        assert_eq!(spec.to_string(), "[1, 1..512, 64, 2..]");
        assert_eq!(spec.default_shape(), vec![1, 1, 64, 2]);
        assert!(spec.accepts(&[1, 300, 64, 9]) && !spec.accepts(&[1, 513, 64, 9]) && !spec.accepts(&[1, 3, 64]));
        for bad in ["x", "=1,2", "x=1,a", "x=5..2", "x=0..4", "x=-1"] {
            assert!(matches!(parse_input_shape(bad), Err(FlexError::Syntax { .. })), "{bad}");
        }
    }

    #[test]
    fn enumerated_shapes_declare_their_list_and_default_to_the_first() {
        let (_, spec) = parse_enumerated("x=1,8,64;1,16,64").unwrap();
        assert_eq!(spec.default_shape(), vec![1, 8, 64]);
        assert_eq!(spec.fixed_dim(0), Some(1));
        assert_eq!(spec.fixed_dim(1), None);
        assert!(spec.accepts(&[1, 16, 64]) && !spec.accepts(&[1, 12, 64]));
        let Some(ShapeFlexibility::EnumeratedShapes(e)) = spec.flexibility() else { panic!() };
        assert_eq!(e.shapes.len(), 2);
        assert!(parse_enumerated("x=1,8;1,8,2").is_err());
    }

    #[test]
    fn the_graph_must_agree_with_the_spec() {
        let graph = Shape::Ranked(vec![Dim::Sym("x.d0".into()), Dim::Known(64)]);
        assert!("1..4,64".parse::<InputShapeSpec>().unwrap().check("x", &graph).is_ok());
        let e = "1..4,32".parse::<InputShapeSpec>().unwrap().check("x", &graph).unwrap_err();
        assert!(e.to_string().contains("dim 1 is 64"), "{e}");
        assert!(matches!("1,2,3".parse::<InputShapeSpec>().unwrap().check("x", &graph), Err(FlexError::Rank { .. })));
        let spec = InputShapeSpec::from_graph("x", &graph).unwrap();
        assert_eq!(spec.to_string(), "[1.., 64]");
        let Some(ShapeFlexibility::ShapeRange(r)) = spec.flexibility() else { panic!() };
        assert_eq!((r.size_ranges[0].lower_bound, r.size_ranges[0].upper_bound), (1, -1));
        assert!(InputShapeSpec::from_graph("x", &Shape::known(&[2u64, 3])).unwrap().flexibility().is_none());
    }
}
