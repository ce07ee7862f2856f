//! Helpers shared by the interpreter's integration tests: the custom-layer kernels the
//! corpus needs (`CustomTopK`, `MatrixDeterminant`), and the numpy.allclose comparison.


use mlrewrite::proto::coreml::{custom_layer_params::custom_layer_param_value::Value, CustomLayerParams};
use mlrewrite::run::CustomKernel;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};
use std::collections::BTreeMap;

fn int_param(p: &CustomLayerParams, key: &str) -> Result<i64, String> {
    match p.parameters.get(key).and_then(|v| v.value.as_ref()) {
        Some(Value::IntValue(v)) => Ok(*v as i64),
        Some(Value::LongValue(v)) => Ok(*v),
        Some(Value::DoubleValue(v)) => Ok(*v as i64),
        other => Err(format!("parameter `{key}` is missing or not an integer: {other:?}")),
    }
}

/// TensorFlow's TopKV2 as a custom layer: parameters `k`, `axis`, `sorted`; outputs the
/// values, then the indices (largest first; ties keep the lower index, as TF does).
pub struct CustomTopK;

impl CustomKernel for CustomTopK {
    fn compute(&self, p: &CustomLayerParams, inputs: &[ArrayViewD<'_, f64>]) -> Result<Vec<ArrayD<f64>>, String> {
        let x = inputs.first().ok_or("CustomTopK needs one input")?;
        let k = int_param(p, "k")? as usize;
        let rank = x.ndim() as i64;
        let axis = int_param(p, "axis").unwrap_or(-1);
        let axis = if axis < 0 { axis + rank } else { axis };
        if axis < 0 || axis >= rank {
            return Err(format!("axis {axis} out of range"));
        }
        let axis = Axis(axis as usize);
        if k > x.len_of(axis) {
            return Err(format!("k = {k} exceeds the axis length {}", x.len_of(axis)));
        }
        let mut shape = x.shape().to_vec();
        shape[axis.0] = k;
        let mut values = ArrayD::zeros(IxDyn(&shape));
        let mut indices = ArrayD::zeros(IxDyn(&shape));
        for ((lane, mut v), mut i) in x.lanes(axis).into_iter().zip(values.lanes_mut(axis)).zip(indices.lanes_mut(axis)) {
            let mut order: Vec<usize> = (0..lane.len()).collect();
            order.sort_by(|&a, &b| lane[b].partial_cmp(&lane[a]).unwrap_or(std::cmp::Ordering::Equal));
            for j in 0..k {
                v[j] = lane[order[j]];
                i[j] = order[j] as f64;
            }
        }
        Ok(vec![values, indices])
    }
}

/// TensorFlow's MatrixDeterminant: determinant of each trailing square matrix, by LU
/// decomposition with partial pivoting.
pub struct MatrixDeterminant;

impl CustomKernel for MatrixDeterminant {
    fn compute(&self, _p: &CustomLayerParams, inputs: &[ArrayViewD<'_, f64>]) -> Result<Vec<ArrayD<f64>>, String> {
        let x = inputs.first().ok_or("MatrixDeterminant needs one input")?;
        let s = x.shape();
        if s.len() < 2 || s[s.len() - 1] != s[s.len() - 2] {
            return Err(format!("input must end in a square matrix, got {s:?}"));
        }
        let n = s[s.len() - 1];
        let v: Vec<f64> = x.iter().copied().collect();
        let mut dets = Vec::new();
        for m in v.chunks(n * n) {
            let mut a = m.to_vec();
            let mut det = 1.0;
            for c in 0..n {
                let p = (c..n).max_by(|&i, &j| a[i * n + c].abs().partial_cmp(&a[j * n + c].abs()).unwrap()).unwrap();
                if a[p * n + c] == 0.0 {
                    det = 0.0;
                    break;
                }
                if p != c {
                    for j in 0..n {
                        a.swap(p * n + j, c * n + j);
                    }
                    det = -det;
                }
                det *= a[c * n + c];
                for r in c + 1..n {
                    let f = a[r * n + c] / a[c * n + c];
                    for j in c..n {
                        a[r * n + j] -= f * a[c * n + j];
                    }
                }
            }
            dets.push(det);
        }
        Ok(vec![ArrayD::from_shape_vec(IxDyn(&s[..s.len() - 2]), dets).map_err(|e| e.to_string())?])
    }
}

pub fn kernels() -> BTreeMap<String, Box<dyn CustomKernel>> {
    let mut k: BTreeMap<String, Box<dyn CustomKernel>> = BTreeMap::new();
    k.insert("CustomTopK".into(), Box::new(CustomTopK));
    k.insert("MatrixDeterminant".into(), Box::new(MatrixDeterminant));
    k
}

/// numpy.allclose(got, want, rtol, atol) with equal shapes; Err describes the worst value.
/// The rule is the library's (`mlrewrite::run::compare`), the one `mlrewrite run` applies.
pub fn allclose(got: &ArrayD<f32>, want: &ArrayD<f32>, rtol: f64, atol: f64) -> Result<(), String> {
    mlrewrite::run::compare::allclose(got, want, mlrewrite::run::compare::Tolerance { rtol, atol, rms_scaled: false }).map(|_| ())
}

pub fn shared_dir() -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared not present");
        None
    }
}
