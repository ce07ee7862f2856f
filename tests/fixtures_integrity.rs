//! Integrity of the committed fixtures written by `tools/make_fixtures.py` and
//! `tools/make_layer_fixtures.py`: every file decodes with mlrewrite's own protos and agrees
//! with its metadata. Other tests rely on these files; a regenerated fixture that no longer
//! matches its manifest, or a layer kind our `coreml.proto` subset does not know (prost would
//! silently drop it), fails here with the file named, rather than deep inside a conversion test.

use mlrewrite::lower::mlmodel::read_model;
use mlrewrite::proto::coreml::{feature_type, model, FeatureDescription, Model, NeuralNetwork};
use mlrewrite::proto::tensorflow::GraphDef;
use ndarray::ArrayD;
use ndarray_npy::NpzReader;
use prost::Message;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Shapes of every array of an `.npz`, whatever its element type (f32, i32 or i64).
fn npz_shapes(path: &Path) -> BTreeMap<String, Vec<usize>> {
    let open = || NpzReader::new(File::open(path).unwrap()).unwrap();
    let names = open().names().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut shapes = BTreeMap::new();
    for name in names {
        let f32s: Result<ArrayD<f32>, _> = open().by_name(&name);
        let i32s: Result<ArrayD<i32>, _> = open().by_name(&name);
        let i64s: Result<ArrayD<i64>, _> = open().by_name(&name);
        let shape = match (f32s, i32s, i64s) {
            (Ok(a), _, _) => a.shape().to_vec(),
            (_, Ok(a), _) => a.shape().to_vec(),
            (_, _, Ok(a)) => a.shape().to_vec(),
            (Err(e), _, _) => panic!("{}: array {name}: {e}", path.display()),
        };
        shapes.insert(name, shape);
    }
    shapes
}

fn json_shape(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("shape is a list")
        .iter()
        .map(|d| d.as_u64().expect("concrete dims are non-negative") as usize)
        .collect()
}

fn neural_network(model: &Model) -> &NeuralNetwork {
    match &model.r#type {
        Some(model::Type::NeuralNetwork(nn)) => nn,
        other => panic!("expected a NeuralNetwork model, got {other:?}"),
    }
}

fn declared_shape(f: &FeatureDescription) -> Vec<usize> {
    match f.r#type.as_ref().and_then(|t| t.r#type.as_ref()) {
        Some(feature_type::Type::MultiArrayType(a)) => a.shape.iter().map(|&d| d as usize).collect(),
        other => panic!("feature {} is not a multi-array: {other:?}", f.name),
    }
}

/// The oneof field name of a layer, lower-cased (`batchedMatmul` -> `batchedmatmul`), taken from
/// the Debug name of prost's variant (`BatchedMatmul(...)`) so no table has to be kept in sync.
fn layer_kind(layer: &mlrewrite::proto::coreml::NeuralNetworkLayer) -> Option<String> {
    let debug = format!("{:?}", layer.layer.as_ref()?);
    Some(debug.split('(').next().unwrap_or_default().to_lowercase())
}

#[test]
fn layer_cases_decode_and_match_their_manifest() {
    let dir = root().join("tests/fixtures/layers");
    let manifest = read_json(&dir.join("manifest.json"));
    let cases = manifest.as_array().expect("manifest is a list");
    assert!(cases.len() >= 100, "expected the full set of layer cases, found {}", cases.len());
    let mut kinds_seen = BTreeSet::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let path = dir.join(format!("{name}.mlmodel"));
        let model = read_model(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            model.specification_version as u64,
            case["specification_version"].as_u64().unwrap(),
            "{name}: specification version"
        );
        let nn = neural_network(&model);
        let rank5 = nn.array_input_shape_mapping == 0;
        assert_eq!(rank5, case["rank5_mapping"].as_bool().unwrap(), "{name}: shape mapping");

        let mut kinds = BTreeSet::new();
        for layer in &nn.layers {
            let kind = layer_kind(layer)
                .unwrap_or_else(|| panic!("{name}: layer {} has a kind our proto lacks", layer.name));
            kinds.insert(kind);
        }
        let expected: BTreeSet<String> = case["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_lowercase())
            .collect();
        assert_eq!(kinds, expected, "{name}: layer kinds");
        kinds_seen.extend(kinds);

        let desc = model.description.as_ref().expect("model description");
        let arrays = npz_shapes(&dir.join(format!("{name}.npz")));
        for (features, key) in [(&desc.input, "inputs"), (&desc.output, "outputs")] {
            let listed = case[key].as_array().unwrap();
            assert_eq!(features.len(), listed.len(), "{name}: number of {key}");
            for (f, l) in features.iter().zip(listed) {
                assert_eq!(f.name, l["name"].as_str().unwrap(), "{name}: {key} order");
                let shape = json_shape(&l["shape"]);
                assert_eq!(declared_shape(f), shape, "{name}: declared shape of {}", f.name);
                assert_eq!(arrays.get(&f.name), Some(&shape), "{name}: npz array {}", f.name);
            }
        }
        assert_eq!(arrays.len(), desc.input.len() + desc.output.len(), "{name}: npz has extras");
    }
    assert!(kinds_seen.len() >= 100, "only {} layer kinds covered", kinds_seen.len());
}

/// Every `NAME.json` next to a `NAME.pb` (test fixtures and the bundled example).
fn graph_fixtures() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in [root().join("tests/fixtures"), root().join("examples")] {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "pb") {
                found.push(path.with_extension(""));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn graph_fixtures_decode_and_list_every_tensor() {
    let stems = graph_fixtures();
    assert!(stems.len() >= 25, "expected the full set of graph fixtures, found {}", stems.len());
    for stem in stems {
        let label = stem.display().to_string();
        let bytes = std::fs::read(stem.with_extension("pb")).unwrap();
        let graph = GraphDef::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("{label}: {e}"));
        let meta = read_json(&stem.with_extension("json"));
        assert_eq!(graph.node.len() as u64, meta["nodes"].as_u64().unwrap(), "{label}: nodes");
        assert_eq!(bytes.len() as u64, meta["bytes"].as_u64().unwrap(), "{label}: bytes");

        let mut ops: BTreeMap<&str, u64> = BTreeMap::new();
        for node in &graph.node {
            assert!(!node.name.is_empty() && !node.op.is_empty(), "{label}: unnamed node");
            *ops.entry(node.op.as_str()).or_default() += 1;
        }
        let listed: BTreeMap<&str, u64> = meta["ops"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(ops, listed, "{label}: op histogram");

        // `tensors` lists node outputs in graph order: `node:0`, `node:1`, ... for every node
        // with outputs (NoOp has none).
        let nodes: BTreeSet<&str> = graph.node.iter().map(|n| n.name.as_str()).collect();
        let tensors = meta["tensors"].as_array().unwrap();
        let mut covered = BTreeSet::new();
        for t in tensors {
            let tensor = t["tensor"].as_str().unwrap();
            let (node, index) = tensor.rsplit_once(':').unwrap();
            assert!(nodes.contains(node), "{label}: tensor {tensor} of an unknown node");
            index.parse::<usize>().unwrap_or_else(|_| panic!("{label}: tensor {tensor}"));
            let shape = json_shape(&t["shape"]);
            if let Some(stat) = t["static_shape"].as_array() {
                assert_eq!(stat.len(), shape.len(), "{label}: rank of {tensor}");
                for (s, d) in stat.iter().zip(&shape) {
                    let s = s.as_i64().unwrap();
                    assert!(s == -1 || s as usize == *d, "{label}: {tensor} static {s} vs {d}");
                }
            }
            covered.insert(node);
        }
        for node in &graph.node {
            if node.op != "NoOp" {
                assert!(covered.contains(node.name.as_str()), "{label}: {} not in tensors", node.name);
            }
        }

        let arrays = npz_shapes(&stem.with_extension("npz"));
        for key in ["inputs", "outputs", "probes"] {
            for entry in meta[key].as_array().into_iter().flatten() {
                let tensor = entry["tensor"].as_str().unwrap();
                assert_eq!(
                    arrays.get(tensor),
                    Some(&json_shape(&entry["shape"])),
                    "{label}: npz array {tensor}"
                );
            }
        }
    }
}
