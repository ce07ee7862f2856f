//! Unique names for blobs and layers. Names come from the TF node names (`Term::origin`);
//! a clash gets the first free `_1`, `_2`, ... suffix, tried in order, so the same DAG always
//! gets the same names.

use std::collections::BTreeSet;

/// One namespace (blobs and layers have one each).
#[derive(Debug, Default)]
pub struct Namer {
    used: BTreeSet<String>,
}

impl Namer {
    /// Marks `name` taken (model inputs and outputs), returning false if it already was.
    pub fn reserve(&mut self, name: &str) -> bool {
        self.used.insert(name.to_string())
    }

    /// `base` if free, else `base_1`, `base_2`, ...; the result is taken.
    pub fn fresh(&mut self, base: &str) -> String {
        if self.used.insert(base.to_string()) {
            return base.to_string();
        }
        let mut n = 1usize;
        loop {
            let candidate = format!("{base}_{n}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clashes_get_ordered_suffixes() {
        let mut n = Namer::default();
        assert!(n.reserve("Identity"));
        assert_eq!(n.fresh("conv"), "conv");
        assert_eq!(n.fresh("conv"), "conv_1");
        assert_eq!(n.fresh("Identity"), "Identity_1");
        n.reserve("conv_2");
        assert_eq!(n.fresh("conv"), "conv_3");
    }
}
