//! Classifier models (`convert --class-labels FILE`), as coremltools' `ct.ClassifierConfig`
//! makes them for the Neural Network backend (`make_nn_classifier`): the `neuralNetwork`
//! becomes a `neuralNetworkClassifier` with the same layers and the class labels; the
//! probabilities output becomes a dictionary (label -> probability) and a label output
//! (`classLabel`, string or int64) is added, named by the description's
//! `predictedFeatureName` and `predictedProbabilitiesName`. Core ML then returns the label of
//! the highest probability. Applied after lowering, like the metadata: the layers do not change.
//!
//! Unlike coremltools (which always takes the first output as the probabilities, whatever
//! blob it names) the probabilities output is the one chosen, and the label count must equal
//! its number of values when its shape is known: a mismatch would make Core ML fail at
//! prediction time, far from the cause.

use crate::proto::coreml::feature_type::Type;
use crate::proto::coreml::neural_network_classifier::ClassLabels as ProtoLabels;
use crate::proto::coreml::{
    dictionary_feature_type, model, DictionaryFeatureType, FeatureDescription, FeatureType, Int64FeatureType, Int64Vector, Model,
    NeuralNetworkClassifier, StringFeatureType, StringVector,
};
use std::path::Path;

/// The name coremltools gives the predicted-label output.
pub const PREDICTED_FEATURE: &str = "classLabel";

/// Class labels: integers when every label parses as one (as a numeric class id), else strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassLabels {
    Strings(Vec<String>),
    Ints(Vec<i64>),
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error("reading class labels {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("class labels {path}: line {line} is empty (one label per line; remove blank lines)")]
    EmptyLabel { path: String, line: usize },
    #[error("class labels {path}: the file has no labels")]
    NoLabels { path: String },
    #[error("class labels {path}: label `{label}` appears twice (lines {first} and {second})")]
    Duplicate { path: String, label: String, first: usize, second: usize },
    #[error("--class-labels: the model is a {0}, not a neuralNetwork")]
    NotNeuralNetwork(&'static str),
    #[error("--probabilities-output `{name}`: the model has no output of that name; its outputs are: {available}")]
    NoSuchOutput { name: String, available: String },
    #[error("--class-labels: the model has {0} outputs; choose the probabilities with --probabilities-output NAME")]
    AmbiguousOutput(usize),
    #[error("--class-labels: {labels} labels, but the probabilities output `{output}` has {values} values (shape {shape:?})")]
    CountMismatch { labels: usize, output: String, values: i64, shape: Vec<i64> },
    #[error("--class-labels: the model already has an output named `{0}` (the predicted label's name)")]
    LabelNameTaken(String),
}

impl ClassLabels {
    /// Reads one label per line (a trailing newline and `\r\n` endings are fine).
    pub fn read(path: &Path) -> Result<ClassLabels, ClassifierError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ClassifierError::Read { path: p.clone(), source })?;
        ClassLabels::parse(&text, &p)
    }

    /// Parses the text of a labels file; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<ClassLabels, ClassifierError> {
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            return Err(ClassifierError::NoLabels { path: path.into() });
        }
        let mut seen = std::collections::HashMap::new();
        for (i, l) in lines.iter().enumerate() {
            if l.trim().is_empty() {
                return Err(ClassifierError::EmptyLabel { path: path.into(), line: i + 1 });
            }
            if let Some(first) = seen.insert(*l, i + 1) {
                return Err(ClassifierError::Duplicate { path: path.into(), label: l.to_string(), first, second: i + 1 });
            }
        }
        let ints: Option<Vec<i64>> = lines.iter().map(|l| l.trim().parse().ok()).collect();
        Ok(match ints {
            Some(v) => ClassLabels::Ints(v),
            None => ClassLabels::Strings(lines.iter().map(|l| l.to_string()).collect()),
        })
    }

    pub fn len(&self) -> usize {
        match self {
            ClassLabels::Strings(v) => v.len(),
            ClassLabels::Ints(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The label at `index`, as text.
    pub fn get(&self, index: usize) -> Option<String> {
        match self {
            ClassLabels::Strings(v) => v.get(index).cloned(),
            ClassLabels::Ints(v) => v.get(index).map(|i| i.to_string()),
        }
    }

    /// The labels of a classifier model, if it is one.
    pub fn of_model(m: &Model) -> Option<ClassLabels> {
        match &m.r#type {
            Some(model::Type::NeuralNetworkClassifier(c)) => match &c.class_labels {
                Some(ProtoLabels::StringClassLabels(s)) => Some(ClassLabels::Strings(s.vector.clone())),
                Some(ProtoLabels::Int64ClassLabels(i)) => Some(ClassLabels::Ints(i.vector.clone())),
                None => None,
            },
            _ => None,
        }
    }
}

fn feature_type(t: Type) -> Option<FeatureType> {
    Some(FeatureType { r#type: Some(t), ..Default::default() })
}

/// Makes `model` (a lowered `neuralNetwork`) a classifier over `labels`; `probabilities` names
/// the output holding the class probabilities (default: the single output).
pub fn make_classifier(model: &mut Model, labels: &ClassLabels, probabilities: Option<&str>) -> Result<(), ClassifierError> {
    let nn = match model.r#type.take() {
        Some(model::Type::NeuralNetwork(nn)) => nn,
        other => {
            let kind = match &other {
                Some(model::Type::NeuralNetworkClassifier(_)) => "neuralNetworkClassifier",
                Some(model::Type::NeuralNetworkRegressor(_)) => "neuralNetworkRegressor",
                _ => "model of another type",
            };
            model.r#type = other;
            return Err(ClassifierError::NotNeuralNetwork(kind));
        }
    };
    let result = describe(model, labels, probabilities);
    let blob = match result {
        Ok(blob) => blob,
        Err(e) => {
            model.r#type = Some(model::Type::NeuralNetwork(nn));
            return Err(e);
        }
    };
    let class_labels = match labels {
        ClassLabels::Strings(v) => ProtoLabels::StringClassLabels(StringVector { vector: v.clone() }),
        ClassLabels::Ints(v) => ProtoLabels::Int64ClassLabels(Int64Vector { vector: v.clone() }),
    };
    model.r#type = Some(model::Type::NeuralNetworkClassifier(NeuralNetworkClassifier {
        layers: nn.layers,
        preprocessing: nn.preprocessing,
        array_input_shape_mapping: nn.array_input_shape_mapping,
        image_input_shape_mapping: nn.image_input_shape_mapping,
        update_params: nn.update_params,
        label_probability_layer_name: blob,
        class_labels: Some(class_labels),
    }));
    Ok(())
}

/// Rewrites the description's outputs for a classifier; returns the probabilities blob.
fn describe(model: &mut Model, labels: &ClassLabels, probabilities: Option<&str>) -> Result<String, ClassifierError> {
    let d = model.description.get_or_insert_with(Default::default);
    let available = || d.output.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
    let index = match probabilities {
        Some(name) => d.output.iter().position(|f| f.name == name).ok_or_else(|| ClassifierError::NoSuchOutput { name: name.into(), available: available() })?,
        None if d.output.len() == 1 => 0,
        None => return Err(ClassifierError::AmbiguousOutput(d.output.len())),
    };
    if d.output.iter().any(|f| f.name == PREDICTED_FEATURE) || d.input.iter().any(|f| f.name == PREDICTED_FEATURE) {
        return Err(ClassifierError::LabelNameTaken(PREDICTED_FEATURE.into()));
    }
    let out = &mut d.output[index];
    if let Some(Type::MultiArrayType(a)) = out.r#type.as_ref().and_then(|t| t.r#type.as_ref()) {
        if !a.shape.is_empty() && a.shape.iter().all(|&n| n > 0) {
            let values: i64 = a.shape.iter().product();
            if values != labels.len() as i64 {
                return Err(ClassifierError::CountMismatch { labels: labels.len(), output: out.name.clone(), values, shape: a.shape.clone() });
            }
        }
    }
    let (key, label_type) = match labels {
        ClassLabels::Strings(_) => (dictionary_feature_type::KeyType::StringKeyType(StringFeatureType {}), Type::StringType(StringFeatureType {})),
        ClassLabels::Ints(_) => (dictionary_feature_type::KeyType::Int64KeyType(Int64FeatureType {}), Type::Int64Type(Int64FeatureType {})),
    };
    out.r#type = feature_type(Type::DictionaryType(DictionaryFeatureType { key_type: Some(key) }));
    let blob = out.name.clone();
    d.predicted_probabilities_name = blob.clone();
    d.predicted_feature_name = PREDICTED_FEATURE.into();
    d.output.push(FeatureDescription { name: PREDICTED_FEATURE.into(), r#type: feature_type(label_type), ..Default::default() });
    Ok(blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_ints_only_when_every_line_is_one() {
        assert_eq!(ClassLabels::parse("3\n1\n-2\n", "f").unwrap(), ClassLabels::Ints(vec![3, 1, -2]));
        assert_eq!(ClassLabels::parse("3\ncat\r\n", "f").unwrap(), ClassLabels::Strings(vec!["3".into(), "cat".into()]));
    }

    #[test]
    fn blank_duplicate_and_missing_labels_are_errors_naming_the_line() {
        assert!(ClassLabels::parse("a\n\nb", "f").unwrap_err().to_string().contains("line 2"));
        assert!(ClassLabels::parse("a\nb\na", "f").unwrap_err().to_string().contains("lines 1 and 3"));
        assert!(matches!(ClassLabels::parse("", "f"), Err(ClassifierError::NoLabels { .. })));
    }
}
