//! TF `StridedSlice` specs (begin/end/strides plus five bit masks, with ellipsis and new axes)
//! normalised to one entry per axis, the form Core ML's `sliceStatic` takes, behind the
//! `ss_ints` / `ss_bools` attribute functions: one rule handles every rank.
//!
//! New axes are inserted first (an `expandDims` before the slice), so entries are per axis of
//! the expanded tensor; an inserted axis is taken whole.

/// One entry per axis of the input with its new axes inserted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spec {
    pub new_axes: Vec<i64>,
    pub begin: Vec<i64>,
    pub end: Vec<i64>,
    pub strides: Vec<i64>,
    pub begin_mask: Vec<bool>,
    pub end_mask: Vec<bool>,
    pub squeeze_mask: Vec<bool>,
}

impl Spec {
    fn whole(&mut self) {
        self.begin.push(0);
        self.end.push(0);
        self.strides.push(1);
        self.begin_mask.push(true);
        self.end_mask.push(true);
        self.squeeze_mask.push(false);
    }
}

/// `masks` = [begin, end, shrink_axis, ellipsis, new_axis].
pub fn normalize(rank: i64, begin: &[i64], end: &[i64], strides: &[i64], masks: &[i64]) -> Result<Spec, String> {
    let [bm, em, sm, el, na] = masks else {
        return Err(format!("strided slice: expected 5 masks, got {}", masks.len()));
    };
    let n = begin.len();
    if end.len() != n || strides.len() != n || n > 63 {
        return Err(format!("strided slice: begin, end and strides have lengths {n}, {}, {}", end.len(), strides.len()));
    }
    let bit = |m: i64, i: usize| (m >> i) & 1 == 1;
    if (0..n).filter(|&i| bit(*el, i)).count() > 1 {
        return Err("strided slice: more than one ellipsis".into());
    }
    let real = (0..n).filter(|&i| !bit(*el, i) && !bit(*na, i)).count() as i64;
    if real > rank {
        return Err(format!("strided slice: {real} sliced axes on a rank-{rank} tensor"));
    }
    let mut s = Spec::default();
    let mut saw_ellipsis = false;
    for i in 0..n {
        if bit(*el, i) {
            saw_ellipsis = true;
            for _ in 0..rank - real {
                s.whole();
            }
        } else if bit(*na, i) {
            s.new_axes.push(s.begin.len() as i64);
            s.whole();
        } else {
            if strides[i] == 0 {
                return Err("strided slice: stride 0".into());
            }
            s.begin.push(begin[i]);
            s.end.push(end[i]);
            s.strides.push(strides[i]);
            s.begin_mask.push(bit(*bm, i));
            s.end_mask.push(bit(*em, i));
            s.squeeze_mask.push(bit(*sm, i));
        }
    }
    if !saw_ellipsis {
        for _ in real..rank {
            s.whole();
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x[..., 1] on rank 3 (ellipsis bit 0, shrink bit 1): axes 0, 1 whole, axis 2 index 1.
    #[test]
    fn ellipsis_fills_the_middle() {
        let s = normalize(3, &[0, 1], &[0, 2], &[1, 1], &[0, 0, 2, 1, 0]).unwrap();
        assert_eq!(s.begin, vec![0, 0, 1]);
        assert_eq!(s.begin_mask, vec![true, true, false]);
        assert_eq!(s.squeeze_mask, vec![false, false, true]);
        assert!(s.new_axes.is_empty());
    }

    /// x[0, ..., tf.newaxis] on rank 3: shrink axis 0, new axis at the end (position 3).
    #[test]
    fn new_axes_are_inserted_whole() {
        let s = normalize(3, &[0, 0, 0], &[1, 0, 0], &[1, 1, 1], &[0, 0, 1, 2, 4]).unwrap();
        assert_eq!(s.new_axes, vec![3]);
        assert_eq!(s.begin.len(), 4);
        assert_eq!(s.squeeze_mask, vec![true, false, false, false]);
        assert_eq!(s.end_mask, vec![false, true, true, true]);
    }

    /// A short spec takes the trailing axes whole.
    #[test]
    fn short_spec_pads_trailing_axes() {
        let s = normalize(3, &[1], &[2], &[1], &[0, 0, 0, 0, 0]).unwrap();
        assert_eq!(s.begin, vec![1, 0, 0]);
        assert_eq!(s.end_mask, vec![false, true, true]);
    }

    #[test]
    fn bad_specs_are_errors() {
        assert!(normalize(1, &[0, 0], &[1, 1], &[1, 1], &[0, 0, 0, 0, 0]).is_err());
        assert!(normalize(2, &[0], &[1], &[0], &[0, 0, 0, 0, 0]).is_err());
        assert!(normalize(2, &[0, 0], &[1, 1], &[1, 1], &[0, 0, 0, 3, 0]).is_err());
        assert!(normalize(2, &[0], &[1], &[1], &[0, 0]).is_err());
    }
}
