//! Einsum equations as batched matrix products: the plan behind the `einsum_*` attribute
//! functions, so that one rule (`rules/einsum.rules`) turns any two-operand `Einsum` into
//! `Transpose -> Reshape -> BatchMatMulV2 -> Reshape -> Transpose` over TF ops, which the
//! standard rules then lower (and whose identity transposes and no-op reshapes cancel).
//!
//! Every index of `lhs,rhs->out` falls in one group:
//! - batch: in both operands and the output;
//! - contracted: in both operands, not in the output;
//! - free: in one operand and the output;
//! - summed: in one operand only (summed away first: `einsum_sum_axes`, `einsum_drop_summed`).
//!
//! The plan picks which operand goes first, whether each uses the matmul's transpose flag and
//! the order of the contracted indices so that as few transposes as possible remain: Keras'
//! attention `aecd,abcd->acbe` needs two, not three. Ellipses and an index repeated within
//! one operand (a diagonal) are not supported.

use std::collections::BTreeSet;

/// A parsed `lhs,rhs->out` equation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equation {
    pub inputs: [Vec<char>; 2],
    pub output: Vec<char>,
}

/// How to compute the einsum with one batched matmul.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The matmul's first operand is the einsum's second.
    pub swap: bool,
    /// `adj_x`, `adj_y` of the matmul.
    pub adj: [bool; 2],
    /// Transposes of the matmul's operands (in matmul order) into their matmul layout.
    pub perms: [Vec<i64>; 2],
    /// From the product `[batch.., free of first.., free of second..]` to the output.
    pub out_perm: Vec<i64>,
    batch: Vec<char>,
    contract: Vec<char>,
    free: [Vec<char>; 2],
}

/// Parses an equation; errors say why it is not supported.
pub fn parse(eq: &str) -> Result<Equation, String> {
    let eq: String = eq.chars().filter(|c| !c.is_whitespace()).collect();
    if eq.contains('.') {
        return Err(format!("einsum `{eq}`: ellipses are not supported"));
    }
    let (lhs, out) = eq.split_once("->").ok_or_else(|| format!("einsum `{eq}`: no `->` (implicit output is not supported)"))?;
    let ops: Vec<&str> = lhs.split(',').collect();
    let [a, b] = ops.as_slice() else {
        return Err(format!("einsum `{eq}`: {} operands, only two are supported", ops.len()));
    };
    let letters = |s: &str, what: &str| -> Result<Vec<char>, String> {
        let v: Vec<char> = s.chars().collect();
        if let Some(c) = v.iter().find(|c| !c.is_ascii_alphabetic()) {
            return Err(format!("einsum `{eq}`: `{c}` is not an index letter"));
        }
        let set: BTreeSet<&char> = v.iter().collect();
        if set.len() != v.len() {
            return Err(format!("einsum `{eq}`: an index repeats in the {what} (diagonals are not supported)"));
        }
        Ok(v)
    };
    let e = Equation { inputs: [letters(a, "first operand")?, letters(b, "second operand")?], output: letters(out, "output")? };
    if let Some(c) = e.output.iter().find(|c| !e.inputs[0].contains(c) && !e.inputs[1].contains(c)) {
        return Err(format!("einsum `{eq}`: output index `{c}` is in no operand"));
    }
    Ok(e)
}

impl Equation {
    /// Axes of operand `k` whose index appears nowhere else: summed away before the product.
    pub fn sum_axes(&self, k: usize) -> Vec<i64> {
        let other = &self.inputs[1 - k];
        self.inputs[k]
            .iter()
            .enumerate()
            .filter(|(_, c)| !other.contains(c) && !self.output.contains(c))
            .map(|(i, _)| i as i64)
            .collect()
    }

    /// The equation once the summed indices are gone.
    pub fn drop_summed(&self) -> String {
        let keep = |k: usize| -> String {
            let axes = self.sum_axes(k);
            self.inputs[k].iter().enumerate().filter(|(i, _)| !axes.contains(&(*i as i64))).map(|(_, c)| *c).collect()
        };
        format!("{},{}->{}", keep(0), keep(1), self.output.iter().collect::<String>())
    }

    /// The cheapest matmul plan (fewest non-identity transposes).
    pub fn plan(&self) -> Result<Plan, String> {
        if !self.sum_axes(0).is_empty() || !self.sum_axes(1).is_empty() {
            return Err("einsum has summed indices: sum them first (einsum_sum_axes)".into());
        }
        let [a, b] = &self.inputs;
        let batch: Vec<char> = self.output.iter().copied().filter(|c| a.contains(c) && b.contains(c)).collect();
        let free_of = |x: &Vec<char>, y: &Vec<char>| -> Vec<char> { self.output.iter().copied().filter(|c| x.contains(c) && !y.contains(c)).collect() };
        let free = [free_of(a, b), free_of(b, a)];
        let contract_a: Vec<char> = a.iter().copied().filter(|c| b.contains(c) && !self.output.contains(c)).collect();
        let contract_b: Vec<char> = b.iter().copied().filter(|c| a.contains(c) && !self.output.contains(c)).collect();
        let positions = |of: &[char], layout: &[char]| -> Vec<i64> {
            layout.iter().map(|c| of.iter().position(|x| x == c).map_or(-1, |p| p as i64)).collect()
        };
        let non_identity = |p: &[i64]| p.iter().enumerate().any(|(i, &x)| x != i as i64);
        let mut best: Option<(usize, Plan)> = None;
        for swap in [false, true] {
            let (p, q) = if swap { (1, 0) } else { (0, 1) };
            for contract in [&contract_a, &contract_b] {
                for adj0 in [false, true] {
                    for adj1 in [false, true] {
                        let lay_p: Vec<char> = if adj0 {
                            [&batch[..], &contract[..], &free[p][..]].concat()
                        } else {
                            [&batch[..], &free[p][..], &contract[..]].concat()
                        };
                        let lay_q: Vec<char> = if adj1 {
                            [&batch[..], &free[q][..], &contract[..]].concat()
                        } else {
                            [&batch[..], &contract[..], &free[q][..]].concat()
                        };
                        let product: Vec<char> = [&batch[..], &free[p][..], &free[q][..]].concat();
                        let perms = [positions(&self.inputs[p], &lay_p), positions(&self.inputs[q], &lay_q)];
                        let out_perm = positions(&product, &self.output);
                        let cost = perms.iter().filter(|x| non_identity(x)).count() + usize::from(non_identity(&out_perm));
                        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                            let plan = Plan {
                                swap,
                                adj: [adj0, adj1],
                                perms,
                                out_perm,
                                batch: batch.clone(),
                                contract: contract.clone(),
                                free: [free[p].clone(), free[q].clone()],
                            };
                            best = Some((cost, plan));
                        }
                    }
                }
            }
        }
        best.map(|(_, p)| p).ok_or_else(|| "no plan".into())
    }
}

impl Plan {
    /// Reshape targets: `k` = 0, 1 the matmul's operands (after their transposes), 2 the
    /// product unflattened to `[batch.., free of first.., free of second..]`. `shapes` are the
    /// einsum's operand shapes, in einsum order.
    pub fn shape(&self, eq: &Equation, shapes: [&[i64]; 2], k: usize) -> Result<Vec<i64>, String> {
        let (p, q) = if self.swap { (1, 0) } else { (0, 1) };
        let dim = |op: usize, c: char| -> Result<i64, String> {
            let i = eq.inputs[op].iter().position(|x| *x == c).ok_or_else(|| format!("index `{c}` not in operand {op}"))?;
            shapes[op].get(i).copied().ok_or_else(|| format!("operand {op} has rank {}, the equation says {}", shapes[op].len(), eq.inputs[op].len()))
        };
        for op in 0..2 {
            if shapes[op].len() != eq.inputs[op].len() {
                return Err(format!("operand {op} has rank {}, the equation says {}", shapes[op].len(), eq.inputs[op].len()));
            }
        }
        let dims = |op: usize, cs: &[char]| cs.iter().map(|&c| dim(op, c)).collect::<Result<Vec<i64>, String>>();
        let prod = |v: &[i64]| v.iter().product::<i64>();
        let batch = |op: usize| dims(op, &self.batch);
        let k_dim = prod(&dims(p, &self.contract)?);
        if k_dim != prod(&dims(q, &self.contract)?) {
            return Err("the contracted dimensions of the operands differ".into());
        }
        let m = dims(p, &self.free[0])?;
        let n = prod(&dims(q, &self.free[1])?);
        match k {
            0 => {
                let mut s = batch(p)?;
                match (self.adj[0], self.batch.is_empty() && !m.is_empty()) {
                    (true, _) => s.extend([k_dim, prod(&m)]),
                    // Without batch indices the first operand's free dims may stay apart: the
                    // matmul broadcasts them as batch dims (no reshape for `abc,cde->abde`).
                    (false, true) => s.extend(m.iter().copied().chain([k_dim])),
                    (false, false) => s.extend([prod(&m), k_dim]),
                }
                Ok(s)
            }
            1 => {
                let mut s = batch(q)?;
                s.extend(if self.adj[1] { [n, k_dim] } else { [k_dim, n] });
                Ok(s)
            }
            2 => {
                let (bp, bq) = (batch(p)?, batch(q)?);
                let mut s: Vec<i64> = bp.iter().zip(&bq).map(|(x, y)| *x.max(y)).collect();
                s.extend(m);
                s.extend(dims(q, &self.free[1])?);
                Ok(s)
            }
            _ => Err(format!("einsum_shape: k must be 0, 1 or 2, got {k}")),
        }
    }
}

/// `eq` with each `...` replaced by index letters of its own, given the operands' shapes:
/// the ellipsis of an operand stands for its dims the letters do not name, right-aligned
/// across the operands as NumPy broadcasts them, and for all of them in the output. Fails
/// where no `...` occurs, or where the aligned dims differ (broadcasting one of size 1 would
/// need a tile the matmul plan does not make).
pub fn explicit(eq: &str, shape_a: &[i64], shape_b: &[i64]) -> Result<String, String> {
    let eq: String = eq.chars().filter(|c| !c.is_whitespace()).collect();
    if !eq.contains("...") {
        return Err(format!("einsum `{eq}` has no ellipsis"));
    }
    let (lhs, out) = eq.split_once("->").ok_or_else(|| format!("einsum `{eq}`: no `->` (implicit output is not supported)"))?;
    let ops: Vec<&str> = lhs.split(',').collect();
    let [a, b] = ops.as_slice() else {
        return Err(format!("einsum `{eq}`: {} operands, only two are supported", ops.len()));
    };
    // The dims each operand's ellipsis covers (empty where it has none).
    let covered = |op: &str, shape: &[i64]| -> Result<Vec<i64>, String> {
        let named = op.chars().filter(|c| c.is_ascii_alphabetic()).count();
        match op.matches("...").count() {
            0 => Ok(vec![]),
            1 if shape.len() >= named => Ok(shape[..shape.len() - named].to_vec()),
            1 => Err(format!("einsum `{eq}`: operand `{op}` names {named} dims of a rank-{} tensor", shape.len())),
            _ => Err(format!("einsum `{eq}`: more than one ellipsis in `{op}`")),
        }
    };
    let (ea, eb) = (covered(a, shape_a)?, covered(b, shape_b)?);
    let n = ea.len().max(eb.len());
    for i in 0..ea.len().min(eb.len()) {
        let (x, y) = (ea[ea.len() - 1 - i], eb[eb.len() - 1 - i]);
        if x != y {
            return Err(format!("einsum `{eq}`: ellipsis dims {x} and {y} would broadcast"));
        }
    }
    let fresh: Vec<char> = ('A'..='Z').chain('a'..='z').filter(|c| !eq.contains(*c)).take(n).collect();
    if fresh.len() < n {
        return Err(format!("einsum `{eq}`: no letters left for the ellipsis"));
    }
    let letters = |len: usize| fresh[n - len..].iter().collect::<String>();
    Ok(format!("{},{}->{}", a.replace("...", &letters(ea.len())), b.replace("...", &letters(eb.len())), out.replace("...", &letters(n))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(eq: &str) -> (Equation, Plan) {
        let e = parse(eq).unwrap();
        let p = e.plan().unwrap();
        (e, p)
    }

    /// Keras EinsumDense projections: no transposes, the input keeps its rank.
    #[test]
    fn dense_projection_needs_no_transpose() {
        let (e, p) = plan("abc,cde->abde");
        assert!(!p.swap);
        assert_eq!(p.perms, [vec![0, 1, 2], vec![0, 1, 2]]);
        assert_eq!(p.out_perm, vec![0, 1, 2, 3]);
        assert_eq!(p.shape(&e, [&[1, 16, 32], &[32, 4, 8]], 0).unwrap(), vec![1, 16, 32]);
        assert_eq!(p.shape(&e, [&[1, 16, 32], &[32, 4, 8]], 1).unwrap(), vec![32, 32]);
        assert_eq!(p.shape(&e, [&[1, 16, 32], &[32, 4, 8]], 2).unwrap(), vec![1, 16, 4, 8]);
        let (e, p) = plan("abcd,cde->abe");
        assert_eq!(p.shape(&e, [&[1, 16, 4, 8], &[4, 8, 32]], 0).unwrap(), vec![1, 16, 32]);
        assert_eq!(p.shape(&e, [&[1, 16, 4, 8], &[4, 8, 32]], 1).unwrap(), vec![32, 32]);
    }

    /// Attention scores `aecd,abcd->acbe` (key, query): query first, so the product is already
    /// in output order and only the operands are transposed (by hand: [a,c,b,d] x [a,c,d,e] =
    /// [a,c,b,e]); the naive order needs a third transpose on the output.
    #[test]
    fn attention_scores_swap_operands() {
        let (e, p) = plan("aecd,abcd->acbe");
        assert!(p.swap);
        assert_eq!(p.adj, [false, false]);
        assert_eq!(p.perms, [vec![0, 2, 1, 3], vec![0, 2, 3, 1]]);
        assert_eq!(p.out_perm, vec![0, 1, 2, 3]);
        let s: [&[i64]; 2] = [&[1, 16, 4, 8], &[1, 16, 4, 8]];
        assert_eq!(p.shape(&e, s, 0).unwrap(), vec![1, 4, 16, 8]);
        assert_eq!(p.shape(&e, s, 1).unwrap(), vec![1, 4, 8, 16]);
        assert_eq!(p.shape(&e, s, 2).unwrap(), vec![1, 4, 16, 16]);
    }

    #[test]
    fn summed_indices_are_dropped_first() {
        let e = parse("abc,cd->ad").unwrap();
        assert_eq!(e.sum_axes(0), vec![1]);
        assert_eq!(e.sum_axes(1), Vec::<i64>::new());
        assert_eq!(e.drop_summed(), "ac,cd->ad");
        assert!(e.plan().is_err());
    }

    #[test]
    fn ellipses_become_letters_of_their_own() {
        assert_eq!(explicit("...ij,...jk->...ik", &[2, 3, 4, 5], &[2, 3, 5, 6]).unwrap(), "ABij,ABjk->ABik");
        assert_eq!(explicit("...i,ij->...j", &[2, 3, 4], &[4, 6]).unwrap(), "ABi,ij->ABj");
        // Right-aligned: b's one ellipsis dim is a's last.
        assert_eq!(explicit("...ij, ...jk -> ...ik", &[2, 3, 4, 5], &[3, 5, 6]).unwrap(), "ABij,Bjk->ABik");
        assert!(explicit("...ij,...jk->...ik", &[2, 1, 4, 5], &[2, 3, 5, 6]).unwrap_err().contains("broadcast"));
        assert!(explicit("ij,jk->ik", &[4, 5], &[5, 6]).unwrap_err().contains("no ellipsis"));
        assert!(explicit("...ijk,jk->i", &[4, 5], &[5, 6]).unwrap_err().contains("names 3 dims"));
    }

    #[test]
    fn unsupported_equations_say_why() {
        assert!(parse("...ij,jk->...ik").unwrap_err().contains("ellipses"));
        assert!(parse("ii,ij->ij").unwrap_err().contains("repeats"));
        assert!(parse("ij,jk").unwrap_err().contains("->"));
        assert!(parse("ij,jk,kl->il").unwrap_err().contains("3 operands"));
        assert!(parse("ij,jk->iz").unwrap_err().contains("no operand"));
    }

    /// Every plan reproduces the einsum: checked against a direct loop on small random shapes.
    #[test]
    fn plans_compute_the_einsum() {
        use ndarray::{ArrayD, IxDyn};
        for eq in ["abc,cde->abde", "abcd,cde->abe", "aecd,abcd->acbe", "acbe,aecd->abcd", "ij,jk->ik", "ij,kj->ik", "bij,bjk->bik", "ij,j->i", "i,i->", "ab,cd->abcd", "ba,b->a"] {
            let e = parse(eq).unwrap();
            let p = e.plan().unwrap();
            let mut sizes = std::collections::BTreeMap::new();
            for (i, c) in e.inputs.iter().flatten().enumerate() {
                sizes.entry(*c).or_insert(2 + (i as i64 % 3));
            }
            let shape = |cs: &[char]| cs.iter().map(|c| sizes[c]).collect::<Vec<i64>>();
            let mk = |cs: &[char], seed: f64| {
                let s: Vec<usize> = shape(cs).iter().map(|&d| d as usize).collect();
                let n: usize = s.iter().product();
                ArrayD::from_shape_vec(IxDyn(&s), (0..n).map(|i| ((i as f64 + seed) * 0.37).sin()).collect()).unwrap()
            };
            let (a, b) = (mk(&e.inputs[0], 0.0), mk(&e.inputs[1], 1.0));
            // Direct: sum over all index assignments.
            let all: Vec<char> = sizes.keys().copied().collect();
            let out_shape: Vec<usize> = e.output.iter().map(|c| sizes[c] as usize).collect();
            let mut want = ArrayD::<f64>::zeros(IxDyn(&out_shape));
            let total: i64 = all.iter().map(|c| sizes[c]).product();
            for mut flat in 0..total {
                let mut val = std::collections::BTreeMap::new();
                for c in &all {
                    val.insert(*c, (flat % sizes[c]) as usize);
                    flat /= sizes[c];
                }
                let ix = |cs: &[char]| cs.iter().map(|c| val[c]).collect::<Vec<usize>>();
                want[IxDyn(&ix(&e.output))] += a[IxDyn(&ix(&e.inputs[0]))] * b[IxDyn(&ix(&e.inputs[1]))];
            }
            // Plan: transpose, reshape, matmul, reshape, transpose.
            let shapes = [shape(&e.inputs[0]), shape(&e.inputs[1])];
            let ops = if p.swap { [&b, &a] } else { [&a, &b] };
            let prep = |k: usize| {
                let t = ops[k].clone().permuted_axes(p.perms[k].iter().map(|&i| i as usize).collect::<Vec<_>>());
                let s: Vec<usize> = p.shape(&e, [&shapes[0], &shapes[1]], k).unwrap().iter().map(|&d| d as usize).collect();
                let t = t.as_standard_layout().to_owned();
                let t = t.into_shape_with_order(IxDyn(&s)).unwrap();
                if p.adj[k] { let r = t.ndim(); let mut ax: Vec<usize> = (0..r).collect(); ax.swap(r - 2, r - 1); t.permuted_axes(ax).as_standard_layout().to_owned() } else { t }
            };
            let (x, y) = (prep(0), prep(1));
            // Broadcast-free batched matmul (no batch broadcasting in these shapes); x may have
            // more leading dims than y when there are no batch indices.
            let (xr, yr) = (x.ndim(), y.ndim());
            let (m, k) = (x.shape()[xr - 2], x.shape()[xr - 1]);
            let n = y.shape()[yr - 1];
            let lead: Vec<usize> = x.shape()[..xr - 2].to_vec();
            let ybatch = yr > 2;
            let mut prod_shape = lead.clone();
            prod_shape.extend([m, n]);
            let mut got = ArrayD::<f64>::zeros(IxDyn(&prod_shape));
            let nb: usize = lead.iter().product();
            let xf = x.into_shape_with_order(IxDyn(&[nb, m, k])).unwrap();
            let yf = if ybatch { y.into_shape_with_order(IxDyn(&[nb, k, n])).unwrap() } else { y.into_shape_with_order(IxDyn(&[1, k, n])).unwrap() };
            {
                let mut g = got.view_mut().into_shape_with_order(IxDyn(&[nb, m, n])).unwrap();
                for bi in 0..nb {
                    for i in 0..m {
                        for j in 0..n {
                            let yb = if ybatch { bi } else { 0 };
                            g[[bi, i, j]] = (0..k).map(|l| xf[[bi, i, l]] * yf[[yb, l, j]]).sum();
                        }
                    }
                }
            }
            let s: Vec<usize> = p.shape(&e, [&shapes[0], &shapes[1]], 2).unwrap().iter().map(|&d| d as usize).collect();
            let got = got.into_shape_with_order(IxDyn(&s)).unwrap().permuted_axes(p.out_perm.iter().map(|&i| i as usize).collect::<Vec<_>>());
            assert_eq!(got.shape(), want.shape(), "{eq}");
            for (g, w) in got.iter().zip(want.iter()) {
                assert!((g - w).abs() < 1e-9, "{eq}: {g} vs {w}");
            }
        }
    }
}
