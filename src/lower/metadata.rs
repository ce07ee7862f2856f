//! App-facing metadata: author, license, version and description of the model, and a
//! description per input and output, as coremltools sets `model.author`,
//! `model.input_description[...]` and so on. Xcode shows them in the model's page and in the
//! generated class's doc comments. Applied after lowering, so the conversion itself (and its
//! bytes without these options) is unchanged.

use crate::proto::coreml::{FeatureDescription, Metadata, Model};
use std::collections::BTreeMap;

/// What `convert --author/--license/--version/--description/--input-description/
/// --output-description` set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelInfo {
    pub author: Option<String>,
    pub license: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    /// Feature description by input name.
    pub inputs: BTreeMap<String, String>,
    /// Feature description by output name.
    pub outputs: BTreeMap<String, String>,
}

/// A description names a feature the model does not have.
#[derive(Debug, thiserror::Error)]
#[error("{which} description for `{name}`: the model has no {which} of that name; its {which}s are: {available}")]
pub struct MetadataError {
    pub which: &'static str,
    pub name: String,
    pub available: String,
}

impl ModelInfo {
    pub fn is_empty(&self) -> bool {
        *self == ModelInfo::default()
    }

    /// Writes the metadata into `model.description`; existing `userDefined` entries (the
    /// converter's own) stay.
    pub fn apply(&self, model: &mut Model) -> Result<(), MetadataError> {
        let d = model.description.get_or_insert_with(Default::default);
        let m = d.metadata.get_or_insert_with(Metadata::default);
        for (field, value) in [
            (&mut m.author, &self.author),
            (&mut m.license, &self.license),
            (&mut m.version_string, &self.version),
            (&mut m.short_description, &self.description),
        ] {
            if let Some(v) = value {
                *field = v.clone();
            }
        }
        describe(&mut d.input, &self.inputs, "input")?;
        describe(&mut d.output, &self.outputs, "output")
    }
}

fn describe(features: &mut [FeatureDescription], texts: &BTreeMap<String, String>, which: &'static str) -> Result<(), MetadataError> {
    for (name, text) in texts {
        let Some(f) = features.iter_mut().find(|f| f.name == *name) else {
            let available = features.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
            return Err(MetadataError { which, name: name.clone(), available });
        };
        f.short_description = text.clone();
    }
    Ok(())
}

/// Parses `NAME=TEXT` (a `--input-description`/`--output-description` value).
pub fn parse_description(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, text)) if !name.is_empty() => Ok((name.to_string(), text.to_string())),
        _ => Err(format!("`{s}`: expected NAME=TEXT")),
    }
}
