//! Bad bytes never panic the importer: arbitrary bytes, every truncation of every small
//! corpus and fixture file, byte mutations of the fixtures, and for the 6.9 MB MobileNet
//! (every truncation would be quadratic: 6.9 M decodes of up to 6.9 MB) every top-level field
//! boundary (each `node` ends at one) plus 1000 seeded random offsets. Each input goes through
//! import and, when that succeeds, inference; errors are fine, panics are not.

mod common;

use bytes::Bytes;
use mlrewrite::ir::{import_bytes, infer, ShapeRegistry};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn import_and_infer(bytes: &[u8]) {
    if let Ok(mut g) = import_bytes(Bytes::copy_from_slice(bytes), Path::new("fuzz.pb")) {
        let _ = infer(&mut g, &ShapeRegistry::tensorflow());
    }
}

fn small_graphs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<PathBuf> = Vec::new();
    for dir in [root.join("tests/fixtures"), root.join("examples")] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            v.extend(rd.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "pb")));
        }
    }
    if let Some(c) = common::corpus_dir() {
        v.extend(common::corpus_names().iter().map(|n| c.join(format!("{n}.pb"))));
    }
    v.retain(|p| std::fs::metadata(p).map(|m| m.len() < 200_000).unwrap_or(false));
    v.sort();
    v
}

#[test]
fn every_truncation_of_small_graphs() {
    for path in small_graphs() {
        let bytes = std::fs::read(&path).unwrap();
        for n in 0..bytes.len() {
            import_and_infer(&bytes[..n]);
        }
    }
}

/// Offsets where a top-level field of the GraphDef ends (varint key, then a varint length for
/// length-delimited fields).
fn top_level_boundaries(b: &[u8]) -> Vec<usize> {
    fn varint(b: &[u8], mut i: usize) -> Option<(u64, usize)> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(i)?;
            i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some((v, i));
            }
        }
        None
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let Some((key, j)) = varint(b, i) else { break };
        i = match key & 7 {
            0 => match varint(b, j) {
                Some((_, k)) => k,
                None => break,
            },
            2 => match varint(b, j) {
                Some((len, k)) => k + len as usize,
                None => break,
            },
            1 => j + 8,
            5 => j + 4,
            _ => break,
        };
        out.push(i.min(b.len()));
    }
    out
}

#[test]
fn mobilenet_truncations_at_node_boundaries_and_random_offsets() {
    let Some(c) = common::corpus_dir() else { return };
    let bytes = std::fs::read(c.join("mobilenet_v2_035.pb")).unwrap();
    let mut offsets = top_level_boundaries(&bytes);
    assert!(offsets.len() > 689, "expected a boundary per node, found {}", offsets.len());
    // Boundaries minus one byte cut the last field short.
    offsets.extend(offsets.clone().iter().map(|o| o.saturating_sub(1)));
    // A fixed-seed LCG (Knuth's MMIX constants) so the offsets are the same on every run.
    let mut state: u64 = 0x5eed;
    for _ in 0..1000 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        offsets.push((state >> 33) as usize % bytes.len());
    }
    for n in offsets {
        import_and_infer(&bytes[..n]);
    }
}

proptest! {
    // 512 cases by default; PROPTEST_CASES=100000 for a deeper run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        .. ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        import_and_infer(&bytes);
    }

    #[test]
    fn mutated_fixtures(file in 0usize..64, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let files = small_graphs();
        let path = &files[file % files.len()];
        let mut bytes = std::fs::read(path).unwrap();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        import_and_infer(&bytes);
    }
}

/// Random small graphs of registered ops with attrs of the right kinds but arbitrary values
/// (the OpDef says which attrs and kinds): exercises every shape function and the evaluator
/// on inputs no real graph has.
mod random_graphs {
    use super::common::*;
    use mlrewrite::ir::opdefs::{self, ArgType};
    use mlrewrite::ir::{import_graph_def, infer, ShapeRegistry};
    use mlrewrite::proto::tensorflow::{attr_value, AttrValue, NodeDef, TensorProto};
    use proptest::prelude::*;
    use std::path::Path;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
        fn int(&mut self) -> i64 {
            self.below(9) as i64 - 3
        }
    }

    const DTYPES: [i32; 3] = [1, 3, 9]; // DT_FLOAT, DT_INT32, DT_INT64

    fn random_const(r: &mut Rng, name: &str) -> NodeDef {
        let dtype = DTYPES[r.below(3) as usize];
        let rank = r.below(4) as usize;
        let dims: Vec<i64> = (0..rank).map(|_| r.below(4) as i64).collect();
        let n: i64 = dims.iter().product();
        let mut t = TensorProto { dtype, tensor_shape: Some(shape_proto(&dims)), ..Default::default() };
        for _ in 0..n {
            match dtype {
                1 => t.float_val.push(r.int() as f32 * 0.5),
                3 => t.int_val.push(r.int() as i32),
                _ => t.int64_val.push(r.int()),
            }
        }
        node(name, "Const", &[], &[("dtype", a_type(dtype)), ("value", AttrValue { value: Some(attr_value::Value::Tensor(Box::new(t))) })])
    }

    fn random_attr(r: &mut Rng, kind: &str, allowed: Option<&Vec<String>>) -> AttrValue {
        use attr_value::{ListValue, Value};
        let v = match kind {
            "int" => Value::I(r.int().abs() % 4),
            "float" => Value::F(r.int() as f32 * 0.25),
            "bool" => Value::B(r.below(2) == 1),
            "type" => Value::Type(match allowed {
                Some(a) if !a.is_empty() => mlrewrite::ir::DType::from_tf_name(&a[r.below(a.len() as u64) as usize]).map_or(1, |d| d.to_tf()),
                _ => DTYPES[r.below(3) as usize],
            }),
            "string" => {
                let s = match allowed {
                    Some(a) if !a.is_empty() => a[r.below(a.len() as u64) as usize].clone(),
                    _ => ["SAME", "VALID", "NHWC", "ij,jk->ik", "", "...i,i->..."][r.below(6) as usize].to_string(),
                };
                Value::S(s.into_bytes().into())
            }
            "shape" => Value::Shape(shape_proto(&(0..r.below(4)).map(|_| r.int()).collect::<Vec<_>>())),
            "list(int)" => Value::List(Box::new(ListValue { i: (0..r.below(6)).map(|_| r.int()).collect(), ..Default::default() })),
            "list(float)" => Value::List(Box::new(ListValue { f: (0..r.below(4)).map(|_| r.int() as f32).collect(), ..Default::default() })),
            "list(type)" => Value::List(Box::new(ListValue { r#type: (0..r.below(3)).map(|_| DTYPES[r.below(3) as usize]).collect(), ..Default::default() })),
            "list(shape)" => Value::List(Box::new(ListValue::default())),
            _ => Value::I(0),
        };
        AttrValue { value: Some(v) }
    }

    fn random_graph(seed: u64) -> mlrewrite::proto::tensorflow::GraphDef {
        let mut r = Rng(seed);
        let ops = ShapeRegistry::tensorflow();
        let ops: Vec<&str> = ops.ops().into_iter().filter(|o| !matches!(*o, "Const" | "Placeholder")).collect();
        let mut nodes = vec![placeholder("p", &(0..r.below(5)).map(|_| r.below(5) as i64 + if r.below(5) == 0 { -2 } else { 0 }).collect::<Vec<_>>())];
        for i in 0..(1 + r.below(4)) {
            nodes.push(random_const(&mut r, &format!("c{i}")));
        }
        for i in 0..(1 + r.below(6)) {
            let op = ops[r.below(ops.len() as u64) as usize];
            let mut attrs: Vec<(String, AttrValue)> = Vec::new();
            let mut inputs = 1 + r.below(3) as usize;
            if let Some(def) = opdefs::lookup(op) {
                for a in &def.attrs {
                    if r.below(6) > 0 || a.default.is_none() {
                        attrs.push((a.name.clone(), random_attr(&mut r, &a.kind, a.allowed.as_ref())));
                    }
                }
                for (name, v) in attrs.iter_mut() {
                    if def.inputs.iter().chain(&def.outputs).any(|x| x.number_attr.as_deref() == Some(name.as_str())) {
                        *v = a_int(1 + r.below(3) as i64);
                    }
                }
                let attrs_ir = mlrewrite::ir::Attrs(
                    attrs.iter().filter_map(|(k, v)| mlrewrite::ir::Attr::from_proto(v).ok().map(|a| (k.clone(), a))).collect(),
                );
                inputs = opdefs::expand_args(&def.inputs, &attrs_ir).map_or(inputs, |v| v.len());
                let _ = ArgType::List(String::new());
            }
            let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
            let ins: Vec<String> = (0..inputs).map(|_| names[r.below(names.len() as u64) as usize].clone()).collect();
            let ins: Vec<&str> = ins.iter().map(|s| s.as_str()).collect();
            let attrs: Vec<(&str, AttrValue)> = attrs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            nodes.push(node(&format!("n{i}"), op, &ins, &attrs));
        }
        graph(nodes)
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
            .. ProptestConfig::default()
        })]

        #[test]
        fn random_graphs_never_panic(seed in any::<u64>()) {
            let gd = random_graph(seed);
            if let Ok(mut g) = import_graph_def(&gd, Path::new("random.pb")) {
                let _ = infer(&mut g, &ShapeRegistry::tensorflow());
            }
        }
    }
}

/// Inputs the fuzz targets (`fuzz/`, `tools/fuzz.sh`) found crashing, kept as regressions:
/// `import_graphdef_frame_missing_input` is a Keras GRU's lowered TF1 loop with one input
/// renamed, which the frame rebuild indexed without checking (a panic, now an error naming
/// the node and the input).
#[test]
fn fuzz_regressions_are_clear_errors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let path = dir.join("import_graphdef_frame_missing_input.pb");
    let err = import_bytes(Bytes::from(std::fs::read(&path).unwrap()), &path).err().expect("a malformed frame must be refused");
    let text = err.to_string();
    assert!(text.contains("names no node of the graph") && text.contains("mCdel/gru/while/enter/_9"), "{text}");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pb") {
            import_and_infer(&std::fs::read(path).unwrap());
        }
    }
}

/// Runs a `run_model` fuzz input (the fuzz target's layout: a 2-byte model length, the
/// model, then f32 input values, cycled) and returns the run's error, if any.
fn run_fuzz_input(name: &str) -> Option<String> {
    run_fuzz_input_with(name, None)
}

fn run_fuzz_input_with(name: &str, max_loop_iterations: Option<u64>) -> Option<String> {
    use mlrewrite::lower::mlmodel::decode_model;
    use mlrewrite::proto::coreml::feature_type;
    use mlrewrite::run::{Interpreter, RunOptions};
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz").join(name);
    let data = std::fs::read(&path).unwrap();
    let split = (u16::from_le_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (model_bytes, values) = data[2..].split_at(split);
    let model = decode_model(model_bytes, &path).expect("the model decodes");
    let interp = Interpreter::new(&model, RunOptions { max_loop_iterations, ..Default::default() }).expect("the interpreter accepts it");
    let mut vals = values.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).cycle();
    let mut inputs = std::collections::BTreeMap::new();
    for f in model.description.iter().flat_map(|d| &d.input) {
        let Some(feature_type::Type::MultiArrayType(a)) = f.r#type.as_ref().and_then(|t| t.r#type.as_ref()) else { panic!("a multiarray input") };
        let shape: Vec<usize> = a.shape.iter().map(|&d| d as usize).collect();
        let v: Vec<f32> = (0..shape.iter().product::<usize>()).map(|_| vals.next().unwrap_or(0.0)).collect();
        inputs.insert(f.name.clone(), ndarray::ArrayD::from_shape_vec(shape, v).unwrap());
    }
    interp.run(inputs).err().map(|e| e.to_string())
}

/// `sliceBySize` whose begin + size overflowed i64.
#[test]
fn run_model_fuzz_slice_overflow_is_a_clear_error() {
    let err = run_fuzz_input("run_model_slice_by_size_overflow.bin").expect("an out-of-range slice must be refused");
    assert!(err.contains("out of range"), "{err}");
}

/// Two nested loops of huge iteration counts (each under the per-loop limit): the run stops
/// at the limit on all loops together instead of running for hours.
#[test]
fn run_model_fuzz_nested_loops_are_bounded() {
    let err = run_fuzz_input("run_model_nested_loops_timeout.bin").expect("the nested loops must be stopped");
    assert!(err.contains("iterations"), "{err}");
}

/// A loop of copies run up to the iteration limit (a fuzz timeout under the sanitizer): the
/// run ends, with an error naming the limit or with outputs, in bounded time.
#[test]
fn run_model_fuzz_long_loop_ends() {
    if let Some(err) = run_fuzz_input("run_model_long_loop_timeout.bin") {
        assert!(err.contains("iterations"), "{err}");
    }
}

/// `concatND` of inputs of different ranks panicked inside ndarray.
#[test]
fn run_model_fuzz_concat_of_different_ranks_is_a_clear_error() {
    let err = run_fuzz_input("run_model_concat_ranks.bin").expect("a concat of different ranks must be refused");
    assert!(err.contains("cannot be concatenated"), "{err}");
}

/// A third fuzz timeout: a loop whose condition never turns false, run to the default limit.
/// It ends with the limit's error; `max_loop_iterations` lowers the bound (the fuzz target
/// runs with 10,000 so that such inputs stay fast under the sanitizer).
#[test]
fn run_model_fuzz_endless_loop_stops_at_the_limit_given() {
    let err = run_fuzz_input("run_model_loop_timeout2.bin").expect("an endless loop must be stopped");
    assert!(err.contains("ran 1000000 iterations"), "{err}");
    let err = run_fuzz_input_with("run_model_loop_timeout2.bin", Some(25)).expect("an endless loop must be stopped");
    assert!(err.contains("ran 25 iterations") && err.contains("--max-loop-iterations"), "{err}");
}

/// A dynamic reshape whose target dimensions multiply past `usize` (fuzz crash in run_model:
/// "attempt to multiply with overflow" in the element count).
#[test]
fn run_model_fuzz_reshape_target_overflow_is_a_clear_error() {
    let err = run_fuzz_input("run_model_reshape_overflow.bin").expect("an overflowing reshape target must be refused");
    eprintln!("{err}");
    assert!(err.contains("more elements than fit"), "{err}");
}

/// A pooling window that starts past the data (large after-padding): its data range was
/// sliced backwards (fuzz crash in run_model: "slice index starts at 7 but ends at 6").
#[test]
fn run_model_fuzz_pool_window_past_the_data() {
    // The windows past the data hold only padding; the model is otherwise valid and runs.
    assert_eq!(run_fuzz_input("run_model_pool_window_past_data.bin"), None);
}

/// A sort (argsort / top-k) of a lane holding NaNs: the comparison was not an order and the
/// standard sort panicked (fuzz crash in run_model).
#[test]
fn run_model_fuzz_sort_with_nan_runs() {
    assert_eq!(run_fuzz_input("run_model_sort_nan.bin"), None);
}

/// An upsample of an empty input (no channels) by an enormous factor: the output is empty, so
/// the size check passed, and the sampling grid's allocation overflowed (fuzz crash in
/// run_model: "capacity overflow").
#[test]
fn run_model_fuzz_upsample_grid_is_sized_before_allocating() {
    let err = run_fuzz_input("run_model_upsample_empty_huge.bin").expect("the huge grid must be refused");
    assert!(err.contains("limit") || err.contains("finite"), "{err}");
}

/// An upsample whose sampling grids alone took more than 4 GB (fuzz out-of-memory in
/// run_model): the grids are sized before they are built.
#[test]
fn run_model_fuzz_upsample_grids_are_bounded() {
    let err = run_fuzz_input("run_model_upsample_grid_oom.bin").expect("a 168,034,368-row grid must be refused");
    assert!(err.contains("limit"), "{err}");
}
