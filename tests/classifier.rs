//! Classifier models (`convert --class-labels FILE [--probabilities-output NAME]`), as
//! coremltools' `ClassifierConfig` makes them: a `neuralNetworkClassifier` with the labels,
//! the probabilities as a dictionary output and a `classLabel` output, `inspect` shows it, and
//! `run` predicts the label of TensorFlow's highest probability while the probabilities still
//! match TensorFlow's goldens.

mod common;

use common::{mlrewrite, s, text};

use mlrewrite::proto::coreml::feature_type::Type;
use mlrewrite::proto::coreml::neural_network_classifier::ClassLabels;
use mlrewrite::proto::coreml::{model, Model};
use mlrewrite::run::npz::read_npz;
use prost::Message;
use std::path::{Path, PathBuf};



fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The index of TensorFlow's highest probability in the golden output.
fn tf_argmax(npz: &Path, tensor: &str) -> usize {
    let g = read_npz(npz).unwrap();
    let probs = &g[tensor];
    let mut best = 0;
    for (i, &p) in probs.iter().enumerate() {
        if p > probs.as_slice().unwrap()[best] {
            best = i;
        }
    }
    best
}

/// Converts with labels, checks the spec, runs against the goldens; returns `run`'s output.
fn convert_and_run(pb: &Path, npz: &Path, labels: &str, extra: &[&str]) -> (Model, String) {
    let tmp = tempfile::tempdir().unwrap();
    let labels_path = tmp.path().join("labels.txt");
    std::fs::write(&labels_path, labels).unwrap();
    let out = tmp.path().join("c.mlmodel");
    let mut args = vec!["convert", s(pb), "-o", s(&out), "--class-labels", s(&labels_path)];
    args.extend_from_slice(extra);
    let o = mlrewrite(&args);
    assert!(o.status.success(), "{}", text(&o));
    let model = Model::decode(std::fs::read(&out).unwrap().as_slice()).unwrap();
    let o = mlrewrite(&["run", s(&out), "--inputs", s(npz), "--compare", s(npz)]);
    let t = text(&o);
    assert!(o.status.success() && t.contains("PASS: 1 compared"), "{t}");
    let o = mlrewrite(&["inspect", s(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    (model, format!("{t}{}", text(&o)))
}

#[test]
fn string_labels_make_a_classifier_that_predicts_tensorflows_argmax() {
    let dir = root().join("examples");
    let (pb, npz) = (dir.join("tiny_mobilenet.pb"), dir.join("tiny_mobilenet.npz"));
    let names: Vec<String> = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"].map(String::from).to_vec();
    let (model, out) = convert_and_run(&pb, &npz, &(names.join("\n") + "\n"), &[]);

    let d = model.description.as_ref().unwrap();
    assert_eq!((d.predicted_feature_name.as_str(), d.predicted_probabilities_name.as_str()), ("classLabel", "Identity"));
    let types: Vec<(&str, &Type)> = d.output.iter().map(|f| (f.name.as_str(), f.r#type.as_ref().unwrap().r#type.as_ref().unwrap())).collect();
    assert!(matches!(types[..], [("Identity", Type::DictionaryType(_)), ("classLabel", Type::StringType(_))]), "{types:?}");
    let Some(model::Type::NeuralNetworkClassifier(c)) = &model.r#type else { panic!("not a classifier: {:?}", model.r#type.is_some()) };
    assert_eq!(c.label_probability_layer_name, "Identity");
    assert_eq!(c.class_labels, Some(ClassLabels::StringClassLabels(mlrewrite::proto::coreml::StringVector { vector: names.clone() })));
    assert!(!c.layers.is_empty());

    let want = &names[tf_argmax(&npz, "Identity:0")];
    assert!(out.contains(&format!("predicted `classLabel`: {want}\n")), "expected TF's argmax label `{want}` in:\n{out}");
    assert!(out.contains("neuralNetworkClassifier") && out.contains("classifier: 10 string labels [airplane, automobile"), "{out}");
    assert!(out.contains("Identity    dictionary string -> double") && out.contains("classLabel  string"), "{out}");
}

#[test]
fn integer_labels_and_a_chosen_probabilities_output() {
    let fixtures = root().join("tests/fixtures");
    let (pb, npz) = (fixtures.join("gap_dense_softmax.pb"), fixtures.join("gap_dense_softmax.npz"));
    let labels = [40i64, 30, 20, 10, 0];
    let text: String = labels.iter().map(|l| format!("{l}\n")).collect();
    let (model, out) = convert_and_run(&pb, &npz, &text, &["--probabilities-output", "Identity"]);
    let d = model.description.as_ref().unwrap();
    assert!(matches!(d.output[1].r#type.as_ref().unwrap().r#type, Some(Type::Int64Type(_))));
    let Some(model::Type::NeuralNetworkClassifier(c)) = &model.r#type else { panic!("not a classifier") };
    assert_eq!(c.class_labels, Some(ClassLabels::Int64ClassLabels(mlrewrite::proto::coreml::Int64Vector { vector: labels.to_vec() })));
    let want = labels[tf_argmax(&npz, "Identity:0")];
    assert!(out.contains(&format!("predicted `classLabel`: {want}\n")), "{out}");
    assert!(out.contains("dictionary int64 -> double"), "{out}");
}

#[test]
fn wrong_label_counts_and_unknown_outputs_are_errors_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let pb = root().join("tests/fixtures/gap_dense_softmax.pb");
    let out = tmp.path().join("c.mlmodel");
    let labels = tmp.path().join("labels.txt");
    std::fs::write(&labels, "a\nb\nc\n").unwrap();
    let o = mlrewrite(&["convert", s(&pb), "-o", s(&out), "--class-labels", s(&labels)]);
    assert!(!o.status.success() && text(&o).contains("3 labels, but the probabilities output `Identity` has 5 values"), "{}", text(&o));
    assert!(!out.exists());
    std::fs::write(&labels, "a\nb\n\nc\nd\n").unwrap();
    let o = mlrewrite(&["convert", s(&pb), "-o", s(&out), "--class-labels", s(&labels)]);
    assert!(!o.status.success() && text(&o).contains("line 3 is empty"), "{}", text(&o));
    std::fs::write(&labels, "a\nb\nc\nd\ne\n").unwrap();
    let o = mlrewrite(&["convert", s(&pb), "-o", s(&out), "--class-labels", s(&labels), "--probabilities-output", "probs"]);
    assert!(!o.status.success() && text(&o).contains("`probs`: the model has no output of that name; its outputs are: Identity"), "{}", text(&o));
}
