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
    tmp.write_all(bytes).map_err(err)?;
    if let Some(perms) = existing {
        tmp.as_file().set_permissions(perms).map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(&target).map_err(|e| err(e.error))?;
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
