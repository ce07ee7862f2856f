//! `Shape` and `Dim`: what is known about a tensor's shape before running the graph.
//!
//! A dim is a known size, a named symbol (a `-1` dim of a graph input: two dims with the same
//! symbol are equal even though neither size is known), or unknown. A shape may also have an
//! unknown rank. This module owns the shape algebra shared by every shape function
//! (broadcasting, merging); the shape functions themselves live in `infer/`.

use crate::proto::tensorflow::{tensor_shape_proto, TensorShapeProto};
use std::fmt;
use std::sync::Arc;

/// One dimension of a [`Shape`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// A size known at import time.
    Known(u64),
    /// A size fixed at run time, named so that equal dims can be recognised (the batch dim of
    /// an input declared `[-1, 224, 224, 3]` is `Sym("input:0.0")` everywhere it flows).
    Sym(Arc<str>),
    /// Nothing is known.
    Unknown,
}

impl Dim {
    pub fn known(self: &Dim) -> Option<u64> {
        match self {
            Dim::Known(n) => Some(*n),
            _ => None,
        }
    }

    /// Dims from TensorFlow's convention: `-1` (or any negative) is unknown.
    pub fn from_tf(size: i64) -> Dim {
        if size >= 0 {
            Dim::Known(size as u64)
        } else {
            Dim::Unknown
        }
    }

    /// TensorFlow's convention back: unknown and symbolic dims are `-1`.
    pub fn to_tf(&self) -> i64 {
        self.known().map(|n| n as i64).unwrap_or(-1)
    }

    /// The most precise dim compatible with both, or `None` when two known sizes differ.
    pub fn merge(&self, other: &Dim) -> Option<Dim> {
        match (self, other) {
            (Dim::Known(a), Dim::Known(b)) => (a == b).then(|| Dim::Known(*a)),
            (Dim::Known(_), _) => Some(self.clone()),
            (_, Dim::Known(_)) => Some(other.clone()),
            (Dim::Sym(_), _) => Some(self.clone()),
            (_, Dim::Sym(_)) => Some(other.clone()),
            _ => Some(Dim::Unknown),
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(n) => write!(f, "{n}"),
            Dim::Sym(s) => write!(f, "{s}"),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

impl From<u64> for Dim {
    fn from(n: u64) -> Dim {
        Dim::Known(n)
    }
}

impl From<usize> for Dim {
    fn from(n: usize) -> Dim {
        Dim::Known(n as u64)
    }
}

/// What is known of a tensor's shape.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// Not even the rank is known.
    Unknown,
    /// The rank is known; each dim may still be unknown.
    Ranked(Vec<Dim>),
}

/// Two shapes that cannot be broadcast or merged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("incompatible shapes {a} and {b}")]
pub struct ShapeMismatch {
    pub a: Shape,
    pub b: Shape,
}

impl Shape {
    /// A shape whose every dim is known.
    pub fn known<D: Copy + Into<u64>>(dims: &[D]) -> Shape {
        Shape::Ranked(dims.iter().map(|&d| Dim::Known(d.into())).collect())
    }

    /// A fully known shape from `usize` dims (ndarray's convention).
    pub fn from_usize(dims: &[usize]) -> Shape {
        Shape::Ranked(dims.iter().map(|&d| Dim::Known(d as u64)).collect())
    }

    pub fn scalar() -> Shape {
        Shape::Ranked(Vec::new())
    }

    /// Rank known, every dim unknown.
    pub fn unknown_dims(rank: usize) -> Shape {
        Shape::Ranked(vec![Dim::Unknown; rank])
    }

    /// TensorFlow's `TensorShapeProto`: `unknown_rank`, or dims with `-1` for unknown.
    pub fn from_proto(p: &TensorShapeProto) -> Shape {
        if p.unknown_rank {
            Shape::Unknown
        } else {
            Shape::Ranked(p.dim.iter().map(|d| Dim::from_tf(d.size)).collect())
        }
    }

    pub fn to_proto(&self) -> TensorShapeProto {
        match self {
            Shape::Unknown => TensorShapeProto { dim: Vec::new(), unknown_rank: true },
            Shape::Ranked(dims) => TensorShapeProto {
                dim: dims.iter().map(|d| tensor_shape_proto::Dim { size: d.to_tf(), name: String::new() }).collect(),
                unknown_rank: false,
            },
        }
    }

    pub fn rank(&self) -> Option<usize> {
        match self {
            Shape::Unknown => None,
            Shape::Ranked(d) => Some(d.len()),
        }
    }

    pub fn dims(&self) -> Option<&[Dim]> {
        match self {
            Shape::Unknown => None,
            Shape::Ranked(d) => Some(d),
        }
    }

    /// Every dim as a number, when all are known.
    pub fn as_known(&self) -> Option<Vec<usize>> {
        self.dims()?.iter().map(|d| d.known().map(|n| n as usize)).collect()
    }

    pub fn is_fully_known(&self) -> bool {
        self.as_known().is_some()
    }

    /// Whether anything is unknown: the rank or a dim. Symbolic dims are not unknown: they
    /// are sizes fixed by the graph's inputs at run time.
    pub fn has_unknown(&self) -> bool {
        match self {
            Shape::Unknown => true,
            Shape::Ranked(d) => d.iter().any(|x| matches!(x, Dim::Unknown)),
        }
    }

    /// Number of elements, when every dim is known.
    pub fn num_elements(&self) -> Option<u64> {
        self.dims()?.iter().try_fold(1u64, |acc, d| acc.checked_mul(d.known()?))
    }

    /// Dim `axis` (negative counts from the end), when the rank is known and `axis` is in range.
    pub fn dim(&self, axis: i64) -> Option<&Dim> {
        let dims = self.dims()?;
        let a = normalize_axis(axis, dims.len())?;
        dims.get(a)
    }

    /// NumPy broadcasting of two shapes. A known 1 yields to the other dim; unknown dims
    /// broadcast to unknown unless the other side fixes them.
    pub fn broadcast(&self, other: &Shape) -> Result<Shape, ShapeMismatch> {
        let (a, b) = match (self, other) {
            (Shape::Ranked(a), Shape::Ranked(b)) => (a, b),
            _ => return Ok(Shape::Unknown),
        };
        let n = a.len().max(b.len());
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let da = if i + a.len() >= n { &a[i + a.len() - n] } else { &Dim::Known(1) };
            let db = if i + b.len() >= n { &b[i + b.len() - n] } else { &Dim::Known(1) };
            let d = match (da, db) {
                (Dim::Known(1), d) | (d, Dim::Known(1)) => d.clone(),
                (Dim::Known(x), Dim::Known(y)) if x == y => Dim::Known(*x),
                (Dim::Known(_), Dim::Known(_)) => {
                    return Err(ShapeMismatch { a: self.clone(), b: other.clone() })
                }
                // An unknown dim against a known one > 1: must equal it, or the graph is invalid.
                (Dim::Known(x), _) | (_, Dim::Known(x)) => Dim::Known(*x),
                (Dim::Sym(x), Dim::Sym(y)) if x == y => Dim::Sym(x.clone()),
                _ => Dim::Unknown,
            };
            out.push(d);
        }
        Ok(Shape::Ranked(out))
    }

    /// The most precise shape compatible with both (TensorFlow's `Merge`).
    pub fn merge(&self, other: &Shape) -> Result<Shape, ShapeMismatch> {
        match (self, other) {
            (Shape::Unknown, s) | (s, Shape::Unknown) => Ok(s.clone()),
            (Shape::Ranked(a), Shape::Ranked(b)) => {
                let err = || ShapeMismatch { a: self.clone(), b: other.clone() };
                if a.len() != b.len() {
                    return Err(err());
                }
                a.iter().zip(b).map(|(x, y)| x.merge(y).ok_or_else(err)).collect::<Result<_, _>>().map(Shape::Ranked)
            }
        }
    }
}

/// Python-style axis: `-1` is the last of `rank` axes. `None` when out of range.
pub fn normalize_axis(axis: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    (0..r).contains(&a).then_some(a as usize)
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Unknown => f.write_str("<unknown rank>"),
            Shape::Ranked(dims) => {
                f.write_str("[")?;
                for (i, d) in dims.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{d}")?;
                }
                f.write_str("]")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        let a = Shape::known(&[2u64, 1, 3]);
        let b = Shape::known(&[4u64, 1]);
        assert_eq!(a.broadcast(&b).unwrap(), Shape::known(&[2u64, 4, 3]));
        let c = Shape::known(&[2u64, 5]);
        assert!(Shape::known(&[3u64]).broadcast(&c).is_err());
        let s = Shape::Ranked(vec![Dim::Sym("b".into()), Dim::Known(3)]);
        assert_eq!(s.broadcast(&Shape::known(&[3u64])).unwrap(), s);
        assert_eq!(s.broadcast(&Shape::Unknown).unwrap(), Shape::Unknown);
    }

    #[test]
    fn proto_round_trip_and_display() {
        let s = Shape::Ranked(vec![Dim::Unknown, Dim::Known(96), Dim::Known(3)]);
        assert_eq!(Shape::from_proto(&s.to_proto()), s);
        assert_eq!(s.to_string(), "[?, 96, 3]");
        assert_eq!(Shape::from_proto(&Shape::Unknown.to_proto()), Shape::Unknown);
        assert_eq!(Shape::known(&[2u64, 3]).num_elements(), Some(6));
    }

    #[test]
    fn merge_prefers_known_dims() {
        let a = Shape::Ranked(vec![Dim::Unknown, Dim::Known(3)]);
        let b = Shape::Ranked(vec![Dim::Known(2), Dim::Unknown]);
        assert_eq!(a.merge(&b).unwrap(), Shape::known(&[2u64, 3]));
        assert!(a.merge(&Shape::known(&[2u64, 4])).is_err());
        assert!(a.merge(&Shape::known(&[2u64])).is_err());
    }
}
