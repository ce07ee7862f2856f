//! Reading and writing `.mlmodel` files loses nothing: every coremltools model of the shared
//! corpus decodes, re-encodes and decodes to an equal `Model`, and the re-encoded bytes are
//! identical to coremltools' (so no field of theirs is missing from our proto schema: prost
//! would drop an unknown field and the bytes would differ). The one permitted difference is
//! the order of map entries (`CustomLayerParams.parameters`): protobuf leaves it open,
//! coremltools writes insertion order and prost's `BTreeMap` writes sorted keys.

mod common;

use mlrewrite::lower::mlmodel::{decode_model, read_model, write_model};
use prost::Message;

#[test]
fn coremltools_models_round_trip_byte_for_byte() {
    let Some(corpus) = common::corpus_dir() else { return };
    let mut names: Vec<_> = std::fs::read_dir(corpus.join("coremltools"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mlmodel"))
        .collect();
    names.sort();
    assert!(names.len() >= 9, "expected the coremltools corpus, found {names:?}");
    let dir = tempfile::tempdir().unwrap();
    for path in names {
        let original = std::fs::read(&path).unwrap();
        let model = read_model(&path).unwrap();
        let out = dir.path().join(path.file_name().unwrap());
        write_model(&out, &model).unwrap();
        let written = std::fs::read(&out).unwrap();
        let again = decode_model(&written, &out).unwrap();
        assert_eq!(again, model, "{}: decode → encode → decode changed the model", path.display());
        assert_eq!(model.encoded_len(), original.len(), "{}: re-encoded length differs", path.display());
        if written == original {
            eprintln!("{}: byte-identical", path.display());
        } else {
            assert!(has_multi_entry_map(&model), "{}: re-encoded bytes differ from coremltools'", path.display());
            // Reordered entries: the same bytes in another order.
            let (mut a, mut b) = (original.clone(), written.clone());
            a.sort_unstable();
            b.sort_unstable();
            assert!(a == b, "{}: re-encoded bytes differ beyond entry order", path.display());
            eprintln!("{}: equal field for field; bytes differ only by map entry order", path.display());
        }
    }
}

fn has_multi_entry_map(m: &mlrewrite::proto::coreml::Model) -> bool {
    use mlrewrite::proto::coreml::{model, neural_network_layer::Layer};
    let layers = match &m.r#type {
        Some(model::Type::NeuralNetwork(n)) => &n.layers,
        Some(model::Type::NeuralNetworkClassifier(n)) => &n.layers,
        Some(model::Type::NeuralNetworkRegressor(n)) => &n.layers,
        _ => return false,
    };
    layers.iter().any(|l| matches!(&l.layer, Some(Layer::Custom(c)) if c.parameters.len() > 1))
}
