//! A TensorBundle checkpoint (`variables/variables.index` plus `variables.data-NNNNN-of-MMMMM`
//! shards): the index maps each variable's checkpoint key to a `BundleEntryProto` saying which
//! shard holds its bytes, where, and their masked CRC32C; the empty key holds the
//! `BundleHeaderProto` (shard count, byte order). Values are read lazily, per variable, and
//! each is checked against its checksum before it becomes a constant.

use super::sstable::{self, TableError};
use crate::proto::tensorflow::{bundle_header_proto::Endianness, BundleEntryProto, BundleHeaderProto, TensorProto};
use bytes::Bytes;
use prost::Message;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Why a checkpoint or one of its variables could not be read; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{path}: entry `{key}` is not a valid {what}: {cause}")]
    Decode { path: PathBuf, key: String, what: &'static str, cause: prost::DecodeError },
    #[error("{path}: the checkpoint has no header entry")]
    NoHeader { path: PathBuf },
    #[error("{path}: the checkpoint is big-endian; only little-endian checkpoints are read")]
    BigEndian { path: PathBuf },
    #[error("{path}: no variable `{key}` in the checkpoint")]
    NoVariable { path: PathBuf, key: String },
    #[error("{path}: variable `{key}` is {why}, which is not supported")]
    Unsupported { path: PathBuf, key: String, why: String },
    #[error("{path}: variable `{key}` lies in shard {shard}, which is missing: {cause}")]
    MissingShard { path: PathBuf, key: String, shard: i32, cause: std::io::Error },
    #[error("{path}: variable `{key}` (bytes {offset}..{end}) lies past the end of the shard ({len} bytes)")]
    ShortShard { path: PathBuf, key: String, offset: u64, end: u64, len: usize },
    #[error("{path}: checksum mismatch for variable `{key}` (the shard is corrupted)")]
    Checksum { path: PathBuf, key: String },
}

/// An opened checkpoint: its entries, and the shards read so far.
pub struct Bundle {
    /// `variables/variables` (the prefix the index and shard names extend).
    prefix: PathBuf,
    num_shards: i32,
    entries: BTreeMap<String, BundleEntryProto>,
    shards: HashMap<i32, Bytes>,
}

impl Bundle {
    /// Reads `PREFIX.index` (`prefix` is `.../variables/variables`).
    pub fn open(prefix: &Path) -> Result<Bundle, BundleError> {
        let index = with_suffix(prefix, ".index");
        let file = std::fs::read(&index).map_err(|cause| BundleError::Read { path: index.clone(), cause })?;
        let mut header = None;
        let mut entries = BTreeMap::new();
        for (key, value) in sstable::read_table(&index, &file)? {
            let key = String::from_utf8_lossy(&key).into_owned();
            let decode = |what, cause| BundleError::Decode { path: index.clone(), key: key.clone(), what, cause };
            if key.is_empty() {
                header = Some(BundleHeaderProto::decode(value.as_slice()).map_err(|c| decode("BundleHeaderProto", c))?);
            } else {
                let entry = BundleEntryProto::decode(value.as_slice()).map_err(|c| decode("BundleEntryProto", c))?;
                entries.insert(key, entry);
            }
        }
        let header = header.ok_or_else(|| BundleError::NoHeader { path: index.clone() })?;
        if header.endianness() == Endianness::Big {
            return Err(BundleError::BigEndian { path: index });
        }
        Ok(Bundle { prefix: prefix.to_owned(), num_shards: header.num_shards, entries, shards: HashMap::new() })
    }

    /// The checkpoint keys, in order (for error messages and `inspect`).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    fn shard_path(&self, shard: i32) -> PathBuf {
        with_suffix(&self.prefix, &format!(".data-{shard:05}-of-{:05}", self.num_shards))
    }

    /// The value of variable `key` as a `TensorProto` (dtype, shape, raw little-endian
    /// bytes in `tensor_content`), checked against its CRC32C.
    pub fn tensor(&mut self, key: &str) -> Result<TensorProto, BundleError> {
        let index = with_suffix(&self.prefix, ".index");
        let entry = self.entries.get(key).ok_or_else(|| BundleError::NoVariable { path: index.clone(), key: key.into() })?.clone();
        let unsupported = |why: String| BundleError::Unsupported { path: index.clone(), key: key.into(), why };
        let dtype = entry.dtype();
        let Some(elem) = crate::ir::DType::from_tf(entry.dtype).and_then(|d| d.size_of()) else {
            return Err(unsupported(format!("of dtype {}", dtype.as_str_name())));
        };
        // A partitioned variable's entry lists slices (a field this subset omits) and holds
        // no bytes itself: the size check below refuses it.
        let elements: Option<u64> = entry.shape.as_ref().map_or(Some(1), |s| {
            s.dim.iter().try_fold(1u64, |n, d| u64::try_from(d.size).ok().and_then(|d| n.checked_mul(d)))
        });
        if elements.and_then(|n| n.checked_mul(elem as u64)) != Some(entry.size.max(0) as u64) {
            return Err(unsupported(format!("{} bytes for shape {:?} (partitioned or malformed)", entry.size, entry.shape.as_ref().map(|s| s.dim.iter().map(|d| d.size).collect::<Vec<_>>()))));
        }
        let bytes = self.raw(key, &entry)?;
        if sstable::mask_crc(crc32c::crc32c(&bytes)) != entry.crc32c {
            return Err(BundleError::Checksum { path: self.shard_path(entry.shard_id), key: key.into() });
        }
        Ok(TensorProto { dtype: entry.dtype, tensor_shape: entry.shape, tensor_content: bytes, ..Default::default() })
    }

    /// The bytes of a scalar string entry (the checkpoint's `_CHECKPOINTABLE_OBJECT_GRAPH`),
    /// checked against its CRC32C. On disk a string tensor is the varint length of each
    /// element, a masked CRC32C of those lengths, then the bytes; the entry's checksum
    /// covers each length (little-endian u32 when it fits, as TensorFlow writes it, else
    /// u64), the lengths' checksum, and the bytes.
    pub fn string_scalar(&mut self, key: &str) -> Result<Bytes, BundleError> {
        let index = with_suffix(&self.prefix, ".index");
        let entry = self.entries.get(key).ok_or_else(|| BundleError::NoVariable { path: index.clone(), key: key.into() })?.clone();
        let unsupported = |why: &str| BundleError::Unsupported { path: index.clone(), key: key.into(), why: why.into() };
        if entry.dtype != DT_STRING || entry.shape.as_ref().is_some_and(|s| !s.dim.is_empty()) {
            return Err(unsupported("not a scalar string"));
        }
        let raw = self.raw(key, &entry)?;
        let (len, used) = varint(&raw).ok_or_else(|| unsupported("a string with a malformed length"))?;
        let body = used + 4;
        if (raw.len() as u64) < body as u64 + len {
            return Err(unsupported("a string longer than its entry"));
        }
        let lengths = match u32::try_from(len) {
            Ok(l) => crc32c::crc32c(&l.to_le_bytes()),
            Err(_) => crc32c::crc32c(&len.to_le_bytes()),
        };
        let mut crc = crc32c::crc32c_append(lengths, &raw[used..body]);
        crc = crc32c::crc32c_append(crc, &raw[body..body + len as usize]);
        let stored_lengths = u32::from_le_bytes(raw[used..body].try_into().expect("4 bytes"));
        if stored_lengths != sstable::mask_crc(lengths) || sstable::mask_crc(crc) != entry.crc32c {
            return Err(BundleError::Checksum { path: self.shard_path(entry.shard_id), key: key.into() });
        }
        Ok(raw.slice(body..body + len as usize))
    }

    /// The bytes of `entry` in its shard (read once per shard), unchecked.
    fn raw(&mut self, key: &str, entry: &BundleEntryProto) -> Result<Bytes, BundleError> {
        let path = self.shard_path(entry.shard_id);
        if !self.shards.contains_key(&entry.shard_id) {
            let data = std::fs::read(&path)
                .map_err(|cause| BundleError::MissingShard { path: path.clone(), key: key.into(), shard: entry.shard_id, cause })?;
            self.shards.insert(entry.shard_id, Bytes::from(data));
        }
        let shard = &self.shards[&entry.shard_id];
        let (offset, size) = (entry.offset.max(0) as u64, entry.size.max(0) as u64);
        let end = offset + size;
        if end > shard.len() as u64 {
            return Err(BundleError::ShortShard { path, key: key.into(), offset, end, len: shard.len() });
        }
        Ok(shard.slice(offset as usize..end as usize))
    }
}

/// `DataType::DT_STRING`.
const DT_STRING: i32 = 7;

/// A little-endian base-128 varint and the number of bytes it took.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
