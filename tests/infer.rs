//! Type and shape inference against TensorFlow: every tensor of the public corpus and of the
//! project fixtures gets the dtype TensorFlow gave it, and every dim we claim to know equals
//! the one TensorFlow computed (`static_shape` from TF's own shape inference, `shape` from
//! running it; both recorded by `tools/make_fixtures.py`). Dims TensorFlow knows statically
//! must be known here too.

mod common;

use mlrewrite::ir::{import_file, infer, Dim, Graph, Outlet, Shape, ShapeRegistry};
use mlrewrite::rules::{LoadOptions, RuleSet};
use std::path::{Path, PathBuf};

fn load(path: &Path) -> Graph {
    load_with(path, &ShapeRegistry::tensorflow())
}

fn load_with(path: &Path, shapes: &ShapeRegistry) -> Graph {
    let mut g = import_file(path).unwrap_or_else(|e| panic!("{e}"));
    infer(&mut g, shapes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    g
}

/// Fixtures of ops Rust has no shape function for: their shapes come from the `infer` items
/// of the user rules they are converted with, as `convert --rules DIR` would load them.
const USER_INFERS: &[(&str, &str)] = &[("custom_dilation_reshape", "tests/fixtures/rules/custom_dilation")];

fn shapes_for(name: &str) -> ShapeRegistry {
    match USER_INFERS.iter().find(|(n, _)| *n == name) {
        None => ShapeRegistry::tensorflow(),
        Some((_, dir)) => {
            let user = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
            let set = RuleSet::load(&LoadOptions { user: vec![user], no_std: false }).unwrap();
            (*set.compile().unwrap().shapes).clone()
        }
    }
}

fn outlet(g: &Graph, tensor: &str) -> Outlet {
    let (name, idx) = tensor.rsplit_once(':').unwrap();
    let node = g.find(name).unwrap_or_else(|| panic!("no node {name}"));
    Outlet { node, output: idx.parse().unwrap() }
}

/// Compares our shape with TensorFlow's: `None` in `tf_static` (or a null dim) is unknown
/// there. Returns an error message or `Ok(true)` when ours is at least as precise.
fn check(ours: &Shape, tf_static: &serde_json::Value, tf_run: Option<&serde_json::Value>) -> Result<(), String> {
    let run: Option<Vec<u64>> = tf_run.and_then(|v| v.as_array()).map(|a| a.iter().map(|d| d.as_u64().unwrap()).collect());
    match (ours, tf_static.as_array()) {
        (Shape::Unknown, None) => Ok(()),
        (Shape::Unknown, Some(_)) => Err(format!("unknown rank, TensorFlow knows {tf_static}")),
        (Shape::Ranked(d), st) => {
            if let Some(st) = st {
                if st.len() != d.len() {
                    return Err(format!("rank {} but TensorFlow says {tf_static}", d.len()));
                }
                for (k, (x, t)) in d.iter().zip(st).enumerate() {
                    match (x, t.as_u64()) {
                        (Dim::Known(a), Some(b)) if *a != b => return Err(format!("dim {k} is {a}, TensorFlow says {b}")),
                        (Dim::Known(_), _) => {}
                        (_, Some(b)) => return Err(format!("dim {k} unknown, TensorFlow knows {b}")),
                        _ => {}
                    }
                }
            }
            if let Some(run) = run {
                if run.len() != d.len() {
                    return Err(format!("rank {} but the run gave {run:?}", d.len()));
                }
                for (k, (x, r)) in d.iter().zip(&run).enumerate() {
                    if let Dim::Known(a) = x {
                        if a != r {
                            return Err(format!("dim {k} is {a}, the run gave {r}"));
                        }
                    }
                }
            }
            Ok(())
        }
    }
}

fn fixture_jsons() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut v = Vec::new();
    for dir in ["tests/fixtures", "examples"] {
        if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
            for e in rd {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "json") && p.with_extension("pb").exists() {
                    v.push(p);
                }
            }
        }
    }
    v.sort();
    v
}

#[test]
fn fixture_tensors_match_tensorflow_shapes() {
    let files = fixture_jsons();
    assert!(!files.is_empty(), "tests/fixtures has no fixtures");
    let mut failures = Vec::new();
    let mut total = 0;
    for json in files {
        let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let name = json.file_stem().unwrap().to_string_lossy().into_owned();
        let g = load_with(&json.with_extension("pb"), &shapes_for(&name));
        for t in meta["tensors"].as_array().unwrap() {
            total += 1;
            let tensor = t["tensor"].as_str().unwrap();
            let f = g.fact(outlet(&g, tensor)).unwrap();
            let dtype = f.dtype.map(|d| d.numpy_name().to_string());
            if dtype.as_deref() != t["dtype"].as_str() {
                failures.push(format!("{name}: {tensor} ({}): dtype {dtype:?}, TensorFlow {}", t["op"], t["dtype"]));
            }
            if let Err(e) = check(&f.shape, &t["static_shape"], Some(&t["shape"])) {
                failures.push(format!("{name}: {tensor} ({}): {} — {e}", t["op"], f.shape));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {total} tensors differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn corpus_outputs_and_probes_match_tensorflow_and_every_tensor_is_typed() {
    let Some(dir) = common::corpus_dir() else { return };
    for name in common::corpus_names() {
        let g = load(&dir.join(format!("{name}.pb")));
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap()).unwrap();
        for key in ["inputs", "outputs", "probes"] {
            for t in meta[key].as_array().into_iter().flatten() {
                let f = g.fact(outlet(&g, t["tensor"].as_str().unwrap())).unwrap();
                assert!(f.shape.is_fully_known(), "{name}: {} has shape {}", t["tensor"], f.shape);
                check(&f.shape, &t["shape"], None).unwrap_or_else(|e| panic!("{name}: {}: {e}", t["tensor"]));
            }
        }
        for id in g.node_ids() {
            let n = g.node(id);
            for (k, f) in n.outputs.iter().enumerate() {
                assert!(f.dtype.is_some(), "{name}: {}:{k} ({}) has no dtype", n.name, n.op);
                // FusedBatchNormV3's reserve_space_3 has no static shape in TensorFlow either.
                let tf_unknown = n.op.starts_with("FusedBatchNorm") && k == 5;
                assert!(tf_unknown || f.shape.is_fully_known(), "{name}: {}:{k} ({}) has shape {}", n.name, n.op, f.shape);
            }
        }
    }
}

#[test]
fn symbolic_batch_flows_through_computed_reshape() {
    // dynamic_batch: Placeholder [-1, 6] → ... → Reshape(Pack(StridedSlice(Shape)), 2, 4).
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dynamic_batch.pb");
    let g = load(&path);
    let f = g.fact(outlet(&g, "Reshape:0")).unwrap();
    assert_eq!(f.shape.to_string(), "[x.d0, 2, 4]");
}

#[test]
fn an_op_without_shape_function_imports_and_can_be_declared_from_outside() {
    use common::*;
    use mlrewrite::ir::{import_graph_def, DType, OutputDecl};
    let gd = graph(vec![
        placeholder("x", &[2, 3]),
        node("c", "MyCustomOp", &["x"], &[]),
        node("y", "Identity", &["c"], &[("T", a_type(F32))]),
    ]);
    let mut g = import_graph_def(&gd, Path::new("custom.pb")).unwrap();
    let report = infer(&mut g, &ShapeRegistry::tensorflow()).unwrap();
    assert_eq!(report.no_shape_fn.get("MyCustomOp"), Some(&vec!["c".to_string()]));
    assert_eq!(g.fact(outlet(&g, "y:0")).unwrap().shape, Shape::Unknown);
    assert!(report.incomplete.contains_key("Identity"));

    let mut reg = ShapeRegistry::tensorflow();
    reg.declare("MyCustomOp", vec![OutputDecl::LikeInput(0)]);
    let mut g = import_graph_def(&gd, Path::new("custom.pb")).unwrap();
    let report = infer(&mut g, &reg).unwrap();
    assert!(report.no_shape_fn.is_empty() && report.incomplete.is_empty(), "{report:?}");
    let f = g.fact(outlet(&g, "y:0")).unwrap();
    assert_eq!((f.dtype, &f.shape), (Some(DType::F32), &Shape::known(&[2u64, 3])));

    reg.declare("MyCustomOp", vec![OutputDecl::Fixed(DType::F16, Shape::known(&[6u64]))]);
    let mut g = import_graph_def(&gd, Path::new("custom.pb")).unwrap();
    infer(&mut g, &reg).unwrap();
    assert_eq!(g.fact(outlet(&g, "c:0")).unwrap().shape, Shape::known(&[6u64]));
}

#[test]
fn inconsistent_shapes_are_errors_naming_the_node() {
    use common::*;
    use mlrewrite::ir::import_graph_def;
    let gd = graph(vec![
        placeholder("a", &[2, 3]),
        placeholder("b", &[4]),
        node("sum", "AddV2", &["a", "b"], &[("T", a_type(F32))]),
    ]);
    let mut g = import_graph_def(&gd, Path::new("bad.pb")).unwrap();
    let e = infer(&mut g, &ShapeRegistry::tensorflow()).unwrap_err();
    assert_eq!(e.to_string(), "node `sum` (AddV2): incompatible shapes [2, 3] and [4]");
}

#[test]
fn partial_shape_arithmetic_keeps_the_batch_symbol() {
    // Flatten with a dynamic batch, as Keras writes it: reshape(x, [shape(x)[0], prod(shape(x)[1:])]),
    // and a head split: reshape(y, [shape(y)[0] * 1, 4, 2]).
    use common::*;
    use mlrewrite::ir::import_graph_def;
    let ss = |name: &str, input: &str, b: &str, e: &str, shrink: i64, end_mask: i64| {
        node(
            name,
            "StridedSlice",
            &[input, b, e, "one"],
            &[("T", a_type(I32)), ("Index", a_type(I32)), ("shrink_axis_mask", a_int(shrink)), ("end_mask", a_int(end_mask))],
        )
    };
    let gd = graph(vec![
        placeholder("x", &[-1, 2, 4]),
        const_i32("zero", &[1], &[0]),
        const_i32("one", &[1], &[1]),
        const_i32("axis0", &[1], &[0]),
        const_i32("four", &[], &[4]),
        const_i32("two", &[], &[2]),
        const_i32("unit", &[], &[1]),
        node("shape", "Shape", &["x"], &[("T", a_type(F32)), ("out_type", a_type(I32))]),
        ss("batch", "shape", "zero", "one", 1, 0),
        ss("rest", "shape", "one", "one", 0, 1),
        node("size", "Prod", &["rest", "axis0"], &[("T", a_type(I32)), ("Tidx", a_type(I32)), ("keep_dims", a_bool(false))]),
        node("flat_shape", "Pack", &["batch", "size"], &[("T", a_type(I32)), ("N", a_int(2)), ("axis", a_int(0))]),
        node("flat", "Reshape", &["x", "flat_shape"], &[("T", a_type(F32)), ("Tshape", a_type(I32))]),
        node("b1", "Mul", &["batch", "unit"], &[("T", a_type(I32))]),
        node("heads_shape", "Pack", &["b1", "four", "two"], &[("T", a_type(I32)), ("N", a_int(3)), ("axis", a_int(0))]),
        node("heads", "Reshape", &["flat", "heads_shape"], &[("T", a_type(F32)), ("Tshape", a_type(I32))]),
    ]);
    let mut g = import_graph_def(&gd, Path::new("flatten.pb")).unwrap();
    let report = infer(&mut g, &ShapeRegistry::tensorflow()).unwrap();
    assert_eq!(g.fact(outlet(&g, "flat:0")).unwrap().shape.to_string(), "[x.d0, 8]");
    assert_eq!(g.fact(outlet(&g, "heads:0")).unwrap().shape.to_string(), "[x.d0, 4, 2]");
    assert!(report.incomplete.is_empty(), "{report:?}");
}

#[test]
fn less_common_ops_have_tensorflow_shapes() {
    // Expected shapes worked by hand from TensorFlow's shape functions.
    use common::*;
    use mlrewrite::ir::import_graph_def;
    let t = |dt: i32| ("T", a_type(dt));
    let gd = graph(vec![
        placeholder("v", &[3, 8, 8, 8, 4]),
        const_f32("w3", &[3, 3, 3, 4, 6], &[0.0]),
        node("c3", "Conv3D", &["v", "w3"], &[t(F32), ("strides", a_ints(&[1, 2, 2, 2, 1])), ("padding", a_str("SAME"))]),
        node("p3", "MaxPool3D", &["v"], &[t(F32), ("ksize", a_ints(&[1, 2, 2, 2, 1])), ("strides", a_ints(&[1, 2, 2, 2, 1])), ("padding", a_str("VALID"))]),
        placeholder("m", &[5, 10]),
        node("tk", "TopK", &["m"], &[t(F32), ("k", a_int(3))]),
        const_i32("ids", &[5], &[0, 1, 0, 2, 1]),
        const_i32("nseg", &[], &[4]),
        node("seg", "UnsortedSegmentSum", &["m", "ids", "nseg"], &[t(F32), ("Tindices", a_type(I32)), ("Tnumsegments", a_type(I32))]),
        const_i32("flen", &[1], &[16]),
        node("rfft", "RFFT", &["m", "flen"], &[("Treal", a_type(F32)), ("Tcomplex", a_type(8))]),
    ]);
    let mut g = import_graph_def(&gd, Path::new("misc.pb")).unwrap();
    infer(&mut g, &ShapeRegistry::tensorflow()).unwrap();
    let s = |n: &str| g.fact(outlet(&g, n)).unwrap().shape.to_string();
    assert_eq!(s("c3:0"), "[3, 4, 4, 4, 6]");
    assert_eq!(s("p3:0"), "[3, 4, 4, 4, 4]");
    assert_eq!((s("tk:0"), s("tk:1")), ("[5, 3]".to_string(), "[5, 3]".to_string()));
    assert_eq!(s("seg:0"), "[4, 10]");
    assert_eq!(s("rfft:0"), "[5, 9]");
}
