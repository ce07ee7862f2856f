//! Reading and writing `.mlmodel` files: one serialized `CoreML.Specification.Model`, no header.
//!
//! Writing is atomic: the bytes go to a temporary file in the destination folder, which is then
//! renamed over the destination, so a failure never leaves a half-written model behind.
//!
//! Errors keep the underlying error in a `cause` field printed in their message, not as a
//! `source`: the binary prints the chain with `{err:#}`, which would repeat a source.

use crate::proto::coreml::Model;
use prost::Message;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors of reading or writing a `.mlmodel`; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum MlModelError {
    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("{path} is not a Core ML model (CoreML.Specification.Model): {cause}")]
    Decode { path: PathBuf, cause: prost::DecodeError },
    #[error("cannot write {path}: {cause}")]
    Write { path: PathBuf, cause: std::io::Error },
}

/// Decodes a `Model` from bytes; `path` only names the source in errors.
pub fn decode_model(bytes: &[u8], path: &Path) -> Result<Model, MlModelError> {
    Model::decode(bytes).map_err(|cause| MlModelError::Decode { path: path.to_owned(), cause })
}

/// Reads and decodes a `.mlmodel` file.
pub fn read_model(path: &Path) -> Result<Model, MlModelError> {
    let bytes = std::fs::read(path)
        .map_err(|cause| MlModelError::Read { path: path.to_owned(), cause })?;
    decode_model(&bytes, path)
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), MlModelError> {
    let err = |cause| MlModelError::Write { path: path.to_owned(), cause };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Encodes `model` and writes it atomically to `path`.
pub fn write_model(path: &Path, model: &Model) -> Result<(), MlModelError> {
    write_atomic(path, &model.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_model_is_an_error_naming_the_file() {
        let model = Model { specification_version: 4, ..Default::default() };
        let mut bytes = model.encode_to_vec();
        bytes.push(0x0a); // a length-delimited field 1 with no length
        let err = decode_model(&bytes, Path::new("broken.mlmodel")).unwrap_err();
        assert!(err.to_string().contains("broken.mlmodel"), "{err}");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.mlmodel");
        let model = Model { specification_version: 5, ..Default::default() };
        write_model(&path, &model).unwrap();
        write_model(&path, &model).unwrap();
        assert_eq!(read_model(&path).unwrap(), model);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
