//! Reading and writing `.npz` archives of named arrays (inputs, outputs, goldens), with
//! errors naming the file and the array. Every numeric dtype TensorFlow goldens use (f32,
//! f64, i32, i64, bool, u8) is read and converted to f32, since Core ML blobs are floats.

use ndarray::ArrayD;
use ndarray_npy::{NpzReader, NpzWriter, ReadNpzError};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum NpzError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a readable .npz archive: {message}")]
    Archive { path: PathBuf, message: String },
    #[error("{path}: array `{name}` has a dtype that is not supported (f32, f64, i32, i64, bool, u8 are): {message}")]
    Dtype { path: PathBuf, name: String, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    /// Writing the file itself (the message names the path).
    #[error(transparent)]
    Output(crate::lower::mlmodel::MlModelError),
}

/// Reads every array of an `.npz` file, keyed by name (without `.npy`), as f32.
pub fn read_npz(path: &Path) -> Result<BTreeMap<String, ArrayD<f32>>, NpzError> {
    let file = File::open(path).map_err(|source| NpzError::Open { path: path.to_owned(), source })?;
    let archive = |e: ReadNpzError| NpzError::Archive { path: path.to_owned(), message: e.to_string() };
    let mut npz = NpzReader::new(file).map_err(archive)?;
    let names = npz.names().map_err(archive)?;
    let mut out = BTreeMap::new();
    for name in names {
        let a = read_one(&mut npz, &name).map_err(|message| NpzError::Dtype { path: path.to_owned(), name: name.clone(), message })?;
        out.insert(name, a);
    }
    Ok(out)
}

fn read_one<R: std::io::Read + std::io::Seek>(npz: &mut NpzReader<R>, name: &str) -> Result<ArrayD<f32>, String> {
    macro_rules! attempt {
        ($t:ty, $conv:expr) => {
            match npz.by_name::<ndarray::OwnedRepr<$t>, ndarray::IxDyn>(name) {
                Ok(a) => return Ok(a.mapv($conv)),
                Err(ReadNpzError::Npy(ndarray_npy::ReadNpyError::WrongDescriptor(_))) => {}
                Err(e) => return Err(e.to_string()),
            }
        };
    }
    attempt!(f32, |v| v);
    attempt!(f64, |v| v as f32);
    attempt!(i32, |v| v as f32);
    attempt!(i64, |v| v as f32);
    attempt!(bool, |v| if v { 1.0 } else { 0.0 });
    attempt!(u8, |v| v as f32);
    Err("dtype not recognised".into())
}

/// Writes arrays as f32 `.npy` members of a new `.npz` (names in map order), atomically and
/// under the same destination policy as models (`lower::mlmodel::write_atomic`).
pub fn write_npz(path: &Path, arrays: &BTreeMap<String, ArrayD<f32>>) -> Result<(), NpzError> {
    let err = |message: String| NpzError::Write { path: path.to_owned(), message };
    let mut npz = NpzWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, a) in arrays {
        npz.add_array(name.as_str(), a).map_err(|e| err(e.to_string()))?;
    }
    let bytes = npz.finish().map_err(|e| err(e.to_string()))?.into_inner();
    crate::lower::mlmodel::write_atomic(path, &bytes).map_err(NpzError::Output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npz");
        let mut m = BTreeMap::new();
        m.insert("x:0".to_string(), ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]).into_dyn());
        write_npz(&p, &m).unwrap();
        assert_eq!(read_npz(&p).unwrap(), m);
        let err = read_npz(&dir.path().join("nope.npz")).unwrap_err();
        assert!(err.to_string().contains("nope.npz"), "{err}");
    }
}
