//! Reading the SSTable that a TensorBundle checkpoint's `variables.index` is.
//!
//! TensorFlow writes the index with its copy of LevelDB's table format, uncompressed: data
//! blocks of prefix-compressed `(key, value)` entries with a restart array, an index block
//! whose values are the data blocks' handles, and a 48-byte footer (metaindex handle, index
//! handle, padding, magic). Every block is followed by a compression byte and the masked
//! CRC32C of block and byte, which is checked: a corrupted index must not yield wrong weights.

use std::path::{Path, PathBuf};

/// The table magic number, the footer's last 8 bytes (little-endian).
const MAGIC: u64 = 0xdb47_7524_8b80_fb57;
const FOOTER_LEN: usize = 48;
/// Compression byte plus masked CRC32C after each block.
const TRAILER_LEN: usize = 5;

/// Why a table could not be read; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: not an SSTable ({why})")]
    Format { path: PathBuf, why: String },
    #[error("{path}: block at offset {offset} is compressed (type {kind}); TensorFlow writes checkpoint indexes uncompressed")]
    Compressed { path: PathBuf, offset: u64, kind: u8 },
    #[error("{path}: checksum mismatch in the block at offset {offset} (the file is corrupted)")]
    Checksum { path: PathBuf, offset: u64 },
}

/// The masked CRC32C that LevelDB and TensorFlow store: rotated and offset so a CRC of data
/// holding CRCs stays well distributed.
pub fn mask_crc(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[derive(Debug, Clone, Copy)]
struct Handle {
    offset: u64,
    size: u64,
}

fn handle(buf: &[u8], pos: &mut usize) -> Option<Handle> {
    Some(Handle { offset: varint(buf, pos)?, size: varint(buf, pos)? })
}

struct Reader<'a> {
    path: &'a Path,
    file: &'a [u8],
}

impl Reader<'_> {
    fn format(&self, why: impl Into<String>) -> TableError {
        TableError::Format { path: self.path.to_owned(), why: why.into() }
    }

    /// The contents of a block, after checking its trailer.
    fn block(&self, h: Handle) -> Result<&[u8], TableError> {
        let start = usize::try_from(h.offset).map_err(|_| self.format("block offset out of range"))?;
        let len = usize::try_from(h.size).map_err(|_| self.format("block size out of range"))?;
        let end = start
            .checked_add(len)
            .and_then(|e| e.checked_add(TRAILER_LEN))
            .filter(|&e| e <= self.file.len())
            .ok_or_else(|| self.format(format!("block at offset {start} runs past the end of the file")))?;
        let data = &self.file[start..start + len];
        let kind = self.file[start + len];
        let stored = u32::from_le_bytes(self.file[start + len + 1..end].try_into().expect("4 bytes"));
        if mask_crc(crc32c::crc32c_append(crc32c::crc32c(data), &[kind])) != stored {
            return Err(TableError::Checksum { path: self.path.to_owned(), offset: h.offset });
        }
        if kind != 0 {
            return Err(TableError::Compressed { path: self.path.to_owned(), offset: h.offset, kind });
        }
        Ok(data)
    }

    /// The entries of a block, keys restored from their shared prefixes.
    fn entries(&self, block: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>, TableError> {
        let bad = || self.format("malformed block entries");
        if block.len() < 4 {
            return Err(bad());
        }
        let restarts = u32::from_le_bytes(block[block.len() - 4..].try_into().expect("4 bytes")) as usize;
        let limit = restarts.checked_mul(4).and_then(|r| (block.len() - 4).checked_sub(r)).ok_or_else(bad)?;
        let mut out = Vec::new();
        let mut key: Vec<u8> = Vec::new();
        let mut pos = 0;
        while pos < limit {
            let shared = varint(block, &mut pos).ok_or_else(bad)? as usize;
            let unshared = varint(block, &mut pos).ok_or_else(bad)? as usize;
            let value_len = varint(block, &mut pos).ok_or_else(bad)? as usize;
            let key_end = pos.checked_add(unshared).filter(|&e| e <= limit).ok_or_else(bad)?;
            let value_end = key_end.checked_add(value_len).filter(|&e| e <= limit).ok_or_else(bad)?;
            if shared > key.len() {
                return Err(bad());
            }
            key.truncate(shared);
            key.extend_from_slice(&block[pos..key_end]);
            out.push((key.clone(), block[key_end..value_end].to_vec()));
            pos = value_end;
        }
        Ok(out)
    }
}

/// Every `(key, value)` of the table in `file` (the bytes of `path`), in key order.
pub fn read_table(path: &Path, file: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>, TableError> {
    let r = Reader { path, file };
    if file.len() < FOOTER_LEN {
        return Err(r.format(format!("{} bytes, shorter than the footer", file.len())));
    }
    let footer = &file[file.len() - FOOTER_LEN..];
    if u64::from_le_bytes(footer[40..].try_into().expect("8 bytes")) != MAGIC {
        return Err(r.format("bad magic number"));
    }
    let mut pos = 0;
    let _metaindex = handle(footer, &mut pos).ok_or_else(|| r.format("bad footer"))?;
    let index = handle(footer, &mut pos).ok_or_else(|| r.format("bad footer"))?;
    let mut out = Vec::new();
    for (_, value) in r.entries(r.block(index)?)? {
        let h = handle(&value, &mut 0).ok_or_else(|| r.format("bad block handle in the index block"))?;
        out.extend(r.entries(r.block(h)?)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_as_leveldb_does() {
        // LevelDB's crc32c_test: Unmask(Mask(crc)) == crc and Mask(crc) != crc.
        let crc = crc32c::crc32c(b"foo");
        assert_ne!(mask_crc(crc), crc);
        assert_eq!(mask_crc(crc).wrapping_sub(0xa282_ead8).rotate_left(15), crc);
    }

    #[test]
    fn short_or_foreign_files_are_named() {
        let e = read_table(Path::new("v.index"), b"abc").unwrap_err().to_string();
        assert!(e.contains("v.index") && e.contains("shorter than the footer"), "{e}");
        let e = read_table(Path::new("v.index"), &[0u8; 64]).unwrap_err().to_string();
        assert!(e.contains("bad magic"), "{e}");
    }
}
