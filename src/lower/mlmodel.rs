//! Reading and writing `.mlmodel` files: one serialized `CoreML.Specification.Model`, no header.
//!
//! Writing is atomic: the bytes go to a temporary file in the destination folder, which is then
//! renamed over the destination, so a failure never leaves a half-written model behind.
//!
//! The destination is treated with care, as `cp` would: an existing target that is not a
//! regular file (a directory, a device such as `/dev/full`, a FIFO, a socket) is refused rather
//! than replaced by a regular file; a symlink is followed and its target replaced (the link
//! stays); a new file gets `0666` less the umask, an existing one keeps its permissions.
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
    #[error("cannot write {path}: it exists and is {kind}, not a regular file (choose another output path)")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("cannot write {path}: the folder {folder} does not exist")]
    NoFolder { path: PathBuf, folder: PathBuf },
}

/// What an existing non-regular file is, for the error.
fn file_kind(m: &std::fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// The file a write to `path` must replace: `path` itself, or the final target of a symlink
/// chain (relative links resolve against the link's folder).
fn resolve_links(path: &Path) -> Result<PathBuf, MlModelError> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p).map_err(|cause| MlModelError::Write { path: path.to_owned(), cause })?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(MlModelError::Write { path: path.to_owned(), cause: std::io::Error::other("too many levels of symbolic links") })
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

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename), under
/// the destination policy of the module comment.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), MlModelError> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] of what `fill` writes into the temporary file (unbuffered: `fill`
/// buffers as it needs).
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) -> Result<(), MlModelError> {
    let target = resolve_links(path)?;
    let err = |cause| MlModelError::Write { path: path.to_owned(), cause };
    let existing = match std::fs::metadata(&target) {
        Ok(m) if !m.is_file() => return Err(MlModelError::NotRegular { path: path.to_owned(), kind: file_kind(&m) }),
        Ok(m) => Some(m.permissions()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(err(e)),
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(MlModelError::NoFolder { path: path.to_owned(), folder: dir });
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".mlrewrite-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // open(2) applies the umask to 0666, as for any file a tool creates.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(&dir).map_err(err)?;
    fill(tmp.as_file_mut()).map_err(err)?;
    if let Some(perms) = existing {
        tmp.as_file().set_permissions(perms).map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(&target).map_err(|e| err(e.error))?;
    Ok(())
}

/// Encodes `model` and writes it atomically to `path`.
///
/// The encoding streams into the file through a buffer of [`CHUNK`] bytes instead of first
/// building the whole model in memory: a 100 MB model used to take a second 100 MB buffer
/// (and its page faults) before the first byte was written.
pub fn write_model(path: &Path, model: &Model) -> Result<(), MlModelError> {
    write_atomic_with(path, |f| encode_to(model, f))
}

/// Encodes `model` into `out` through a [`CHUNK`]-byte buffer; the bytes are those of
/// `model.encode_to_vec()`.
pub fn encode_to(model: &Model, out: &mut impl Write) -> std::io::Result<()> {
    let mut sink = Chunked { buf: Vec::with_capacity(CHUNK), out, err: None };
    model.encode(&mut sink).map_err(std::io::Error::other)?;
    sink.flush();
    match sink.err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// How much encoded model [`write_model`] buffers before writing.
pub const CHUNK: usize = 1 << 20;

/// A `BufMut` that hands its bytes to a writer every [`CHUNK`] bytes. prost's encoder cannot
/// fail midway, so the first write error is kept and later bytes are dropped.
struct Chunked<'a, W: Write> {
    buf: Vec<u8>,
    out: &'a mut W,
    err: Option<std::io::Error>,
}

impl<W: Write> Chunked<'_, W> {
    fn flush(&mut self) {
        if self.err.is_none() && !self.buf.is_empty() {
            if let Err(e) = self.out.write_all(&self.buf) {
                self.err = Some(e);
            }
        }
        self.buf.clear();
    }
}

// SAFETY: every method forwards to `Vec<u8>`'s implementation after making room; `flush` only
// empties the vector, which keeps `chunk_mut`'s contract (a slice of spare capacity).
unsafe impl<W: Write> bytes::BufMut for Chunked<'_, W> {
    fn remaining_mut(&self) -> usize {
        // Unbounded as a file: prost checks the model's encoded length against this.
        usize::MAX - self.buf.len()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: the caller initialised `cnt` bytes of the slice `chunk_mut` returned.
        unsafe { self.buf.advance_mut(cnt) }
    }

    fn chunk_mut(&mut self) -> &mut bytes::buf::UninitSlice {
        if self.buf.len() >= CHUNK {
            self.flush();
        }
        self.buf.chunk_mut()
    }

    fn put_slice(&mut self, src: &[u8]) {
        if self.buf.len() + src.len() > CHUNK {
            self.flush();
            if src.len() >= CHUNK {
                if self.err.is_none() {
                    if let Err(e) = self.out.write_all(src) {
                        self.err = Some(e);
                    }
                }
                return;
            }
        }
        self.buf.extend_from_slice(src);
    }
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
    fn streamed_encoding_is_the_encoded_bytes() {
        use crate::proto::coreml::{model::Type, NeuralNetwork, NeuralNetworkLayer, WeightParams};
        // Weights larger than a chunk, and many small fields crossing chunk boundaries.
        let weights = |n: usize, k: f32| WeightParams { float_value: (0..n).map(|i| i as f32 * k).collect(), ..Default::default() };
        let layers = (0..3000)
            .map(|i| NeuralNetworkLayer {
                name: format!("layer{i}"),
                layer: Some(crate::proto::coreml::neural_network_layer::Layer::InnerProduct(Box::new(crate::proto::coreml::InnerProductLayerParams {
                    weights: Some(weights(if i == 7 { CHUNK } else { 97 }, i as f32)),
                    ..Default::default()
                }))),
                ..Default::default()
            })
            .collect();
        let model = Model { specification_version: 4, r#type: Some(Type::NeuralNetwork(NeuralNetwork { layers, ..Default::default() })), ..Default::default() };
        let mut out = vec![];
        encode_to(&model, &mut out).unwrap();
        assert!(out.len() > 2 * CHUNK);
        assert!(out == model.encode_to_vec());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.mlmodel");
        write_model(&path, &model).unwrap();
        assert!(std::fs::read(&path).unwrap() == out);
    }

    #[test]
    fn a_write_error_is_reported() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let model = Model { specification_version: 4, ..Default::default() };
        assert_eq!(encode_to(&model, &mut Full).unwrap_err().to_string(), "disk full");
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

    #[test]
    fn a_directory_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(dir.path(), b"x").unwrap_err();
        assert!(err.to_string().contains("is a directory, not a regular file"), "{err}");
        assert!(dir.path().is_dir());
    }

    #[test]
    fn a_missing_folder_is_named_without_the_temp_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope").join("m.mlmodel");
        let err = write_atomic(&path, b"x").unwrap_err().to_string();
        assert!(err.contains("the folder") && err.contains("does not exist") && !err.contains(".mlrewrite-"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_and_links_followed() {
        use std::os::unix::fs::PermissionsExt;
        let err = write_atomic(Path::new("/dev/null"), b"x").unwrap_err();
        assert!(err.to_string().contains("is a device"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(write_atomic(&fifo, b"x").unwrap_err().to_string().contains("a FIFO"));

        let real = dir.path().join("real.mlmodel");
        std::fs::write(&real, b"old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.mlmodel");
        std::os::unix::fs::symlink("real.mlmodel", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o640, "existing permissions kept");
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_0666_less_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.mlmodel");
        write_atomic(&path, b"x").unwrap();
        // The umask of the test process: a file created by std with 0666 shows it.
        let probe = dir.path().join("probe");
        std::fs::write(&probe, b"").unwrap();
        let want = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, want);
    }
}
