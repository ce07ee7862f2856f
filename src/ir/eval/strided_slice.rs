//! TensorFlow's `StridedSlice` index arithmetic, shared by evaluation (which elements) and
//! shape inference (how many, even when some input dims are unknown).
//!
//! Follows TensorFlow's `ValidateStridedSliceOp`: the sparse spec (`begin`/`end`/`strides`
//! with ellipsis and new-axis entries) is expanded into one dense entry per input dim; each
//! dense entry is resolved against the dim's size; the final shape drops shrunk axes and
//! inserts new ones.

/// The op's inputs and mask attrs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SliceSpec {
    pub begin: Vec<i64>,
    pub end: Vec<i64>,
    pub strides: Vec<i64>,
    pub begin_mask: i64,
    pub end_mask: i64,
    pub ellipsis_mask: i64,
    pub new_axis_mask: i64,
    pub shrink_axis_mask: i64,
}

/// One input dim's selection, before its size is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenseAxis {
    pub begin: i64,
    pub end: i64,
    pub stride: i64,
    pub begin_masked: bool,
    pub end_masked: bool,
    pub shrink: bool,
}

/// An entry of the output shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutAxis {
    /// A `tf.newaxis`: size 1.
    New,
    /// The selection of this input dim (never a shrunk one).
    Dense(usize),
}

/// The expanded slice: one [`DenseAxis`] per input dim and the output axes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlicePlan {
    pub dense: Vec<DenseAxis>,
    pub out: Vec<OutAxis>,
}

/// Builds the dense plan for an input of rank `rank`.
pub fn plan(spec: &SliceSpec, rank: usize) -> Result<SlicePlan, String> {
    let n = spec.begin.len();
    if spec.end.len() != n || spec.strides.len() != n {
        return Err(format!(
            "begin, end and strides must have the same length, found {}, {} and {}",
            n,
            spec.end.len(),
            spec.strides.len()
        ));
    }
    if n > 63 {
        return Err(format!("slice spec of {n} entries is too long"));
    }
    let bit = |mask: i64, i: usize| mask & (1i64 << i) != 0;
    if (0..n).filter(|&i| bit(spec.ellipsis_mask, i)).count() > 1 {
        return Err("more than one ellipsis".into());
    }
    // Without an ellipsis, TensorFlow appends an implicit one: unmentioned dims are kept whole.
    let ellipsis_at = (0..n).find(|&i| bit(spec.ellipsis_mask, i));
    let (entries, ellipsis_at) = match ellipsis_at {
        Some(e) => (n, e),
        None => (n + 1, n),
    };
    let new_after_ellipsis = (ellipsis_at + 1..n).filter(|&i| bit(spec.new_axis_mask, i)).count();
    let mut dense = Vec::with_capacity(rank);
    let mut out = Vec::new();
    for i in 0..entries {
        if i == ellipsis_at {
            // Entries after the ellipsis that consume input dims.
            let after = (i + 1..n).filter(|&j| !bit(spec.new_axis_mask, j)).count();
            let _ = new_after_ellipsis;
            let fill = rank.checked_sub(dense.len() + after).ok_or_else(|| format!("slice spec of {n} entries is longer than the input's rank {rank}"))?;
            for _ in 0..fill {
                out.push(OutAxis::Dense(dense.len()));
                dense.push(DenseAxis { begin: 0, end: 0, stride: 1, begin_masked: true, end_masked: true, shrink: false });
            }
        } else if bit(spec.new_axis_mask, i) {
            out.push(OutAxis::New);
        } else {
            let shrink = bit(spec.shrink_axis_mask, i);
            if !shrink {
                out.push(OutAxis::Dense(dense.len()));
            }
            dense.push(DenseAxis {
                begin: spec.begin[i],
                end: spec.end[i],
                stride: spec.strides[i],
                begin_masked: bit(spec.begin_mask, i),
                end_masked: bit(spec.end_mask, i),
                shrink,
            });
        }
    }
    if dense.len() != rank {
        return Err(format!("slice spec indexes {} dims, the input has rank {rank}", dense.len()));
    }
    Ok(SlicePlan { dense, out })
}

impl DenseAxis {
    /// Start and element count on a dim of known size `d`.
    pub fn resolve(&self, d: i64) -> Result<(i64, i64), String> {
        if self.stride == 0 {
            return Err("stride 0".into());
        }
        if self.shrink {
            let x = if self.begin < 0 { self.begin + d } else { self.begin };
            if !(0..d).contains(&x) {
                return Err(format!("index {} out of range for a dim of size {d}", self.begin));
            }
            return Ok((x, 1));
        }
        let (lo, hi) = if self.stride > 0 { (0, d) } else { (-1, d - 1) };
        let canon = |x: i64, masked: bool, is_begin: bool| -> i64 {
            if masked {
                match (self.stride > 0, is_begin) {
                    (true, true) => lo,
                    (true, false) => hi,
                    (false, true) => hi,
                    (false, false) => lo,
                }
            } else {
                let x = if x < 0 { x + d } else { x };
                x.clamp(lo, hi)
            }
        };
        let b = canon(self.begin, self.begin_masked, true);
        let e = canon(self.end, self.end_masked, false);
        Ok((b, count(b, e, self.stride)))
    }

    /// Element count on a dim of unknown size, when it does not depend on the size: a shrunk
    /// axis, or unmasked begin and end of the same sign (then clamping cannot change them
    /// in a valid graph).
    pub fn size_without_dim(&self) -> Option<i64> {
        if self.shrink {
            return Some(1);
        }
        if self.begin_masked || self.end_masked || self.stride == 0 {
            return None;
        }
        if (self.begin >= 0) == (self.end >= 0) {
            Some(count(self.begin, self.end, self.stride))
        } else {
            None
        }
    }

    /// Whether the axis keeps its dim whole and in order (`:` with stride 1).
    pub fn is_identity(&self) -> bool {
        !self.shrink && self.stride == 1 && self.begin_masked && self.end_masked
    }
}

fn count(b: i64, e: i64, stride: i64) -> i64 {
    let interval = e - b;
    if interval == 0 || (interval > 0) != (stride > 0) {
        0
    } else {
        interval / stride + i64::from(interval % stride != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(b: &[i64], e: &[i64], s: &[i64]) -> SliceSpec {
        SliceSpec { begin: b.into(), end: e.into(), strides: s.into(), begin_mask: 0, end_mask: 0, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0 }
    }

    // Expected counts are Python's len(range(10)[b:e:s]) worked by hand.
    #[test]
    fn resolution_matches_python_slicing() {
        let p = plan(&spec(&[1], &[7], &[2]), 1).unwrap();
        assert_eq!(p.dense[0].resolve(10).unwrap(), (1, 3)); // 1, 3, 5
        let p = plan(&spec(&[-1], &[0], &[-1]), 1).unwrap();
        assert_eq!(p.dense[0].resolve(10).unwrap(), (9, 9)); // 9..1
        let p = plan(&spec(&[-3], &[100], &[1]), 1).unwrap();
        assert_eq!(p.dense[0].resolve(10).unwrap(), (7, 3));
        let mut s = spec(&[0], &[0], &[-1]);
        s.begin_mask = 1;
        s.end_mask = 1;
        assert_eq!(plan(&s, 1).unwrap().dense[0].resolve(4).unwrap(), (3, 4)); // reversed
    }

    #[test]
    fn ellipsis_new_axis_and_shrink() {
        // x[..., 1, tf.newaxis] on rank 3: dims 0 and 1 kept, dim 2 shrunk, a new axis at the end.
        let mut s = spec(&[0, 1, 0], &[0, 2, 0], &[1, 1, 1]);
        s.ellipsis_mask = 1;
        s.shrink_axis_mask = 2;
        s.new_axis_mask = 4;
        let p = plan(&s, 3).unwrap();
        assert_eq!(p.out, vec![OutAxis::Dense(0), OutAxis::Dense(1), OutAxis::New]);
        assert!(p.dense[2].shrink);
        assert!(plan(&spec(&[0, 0], &[1, 1], &[1, 1]), 1).is_err());
        assert!(plan(&spec(&[0], &[1], &[0]), 1).unwrap().dense[0].resolve(3).is_err());
    }
}
