//! Local snapshots of a store partition, stamped with the changelog offset they reflect, so a
//! restart replays only the changelog's tail.
//!
//! File `<dir>/<changelog>/<partition>.snap`, written to a temporary file and renamed into place:
//!
//! ```text
//! "SXSNAP01" | format_version u32 | partition i32 | next_offset i64 | written_ms i64 | count u64
//! | count × (key_len u32, key, value_len u32, value) | crc32 u32 (of everything before)
//! ```
//! All integers big-endian. Anything that does not check out (magic, CRC, version, partition,
//! truncation) makes [`read`] report the snapshot unusable; the caller then restores from the
//! full changelog, never from a doubtful file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"SXSNAP01";

/// A snapshot read back from disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The changelog offset to continue restoring from.
    pub next_offset: i64,
    /// Wall-clock time the snapshot was written (epoch ms); used only to judge its age.
    pub written_ms: i64,
    /// Every (key, encoded value) of the partition.
    pub entries: Vec<(Box<str>, Vec<u8>)>,
}

/// Why a snapshot could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing the file failed.
    #[error("snapshot file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid snapshot of this store partition and format.
    #[error("snapshot file {path} is unusable: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What did not check out.
        reason: String,
    },
}

/// The snapshot file of `partition` of `changelog` under `dir`.
pub fn path(dir: &Path, changelog: &str, partition: i32) -> PathBuf {
    dir.join(changelog).join(format!("{partition}.snap"))
}

/// Writes a snapshot atomically (temporary file, fsync, rename).
///
/// # Errors
/// [`SnapshotError::Io`] when the file cannot be written.
pub fn write<'a>(
    file: &Path,
    format_version: u32,
    partition: i32,
    next_offset: i64,
    written_ms: i64,
    entries: impl ExactSizeIterator<Item = (&'a str, Vec<u8>)>,
) -> Result<(), SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: file.to_owned(),
        source,
    };
    let mut buf = Vec::with_capacity(64 + entries.len() * 64);
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&format_version.to_be_bytes());
    buf.extend_from_slice(&partition.to_be_bytes());
    buf.extend_from_slice(&next_offset.to_be_bytes());
    buf.extend_from_slice(&written_ms.to_be_bytes());
    buf.extend_from_slice(&(entries.len() as u64).to_be_bytes());
    for (key, value) in entries {
        buf.extend_from_slice(&(key.len() as u32).to_be_bytes());
        buf.extend_from_slice(key.as_bytes());
        buf.extend_from_slice(&(value.len() as u32).to_be_bytes());
        buf.extend_from_slice(&value);
    }
    let crc = crc32fast::hash(&buf);
    buf.extend_from_slice(&crc.to_be_bytes());
    if let Some(parent) = file.parent() {
        fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = file.with_extension("snap.tmp");
    let mut out = fs::File::create(&tmp).map_err(io)?;
    out.write_all(&buf).map_err(io)?;
    out.sync_all().map_err(io)?;
    fs::rename(&tmp, file).map_err(io)
}

/// Reads the snapshot at `file`: `Ok(None)` when there is none.
///
/// # Errors
/// [`SnapshotError::Invalid`] when the file exists but is not a whole, intact snapshot of
/// `partition` in `format_version`; [`SnapshotError::Io`] when it cannot be read.
pub fn read(
    file: &Path,
    format_version: u32,
    partition: i32,
) -> Result<Option<Snapshot>, SnapshotError> {
    let bytes = match fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SnapshotError::Io {
                path: file.to_owned(),
                source,
            })
        }
    };
    let invalid = |reason: &str| SnapshotError::Invalid {
        path: file.to_owned(),
        reason: reason.to_owned(),
    };
    let (body, crc) = bytes
        .split_last_chunk::<4>()
        .ok_or_else(|| invalid("truncated"))?;
    if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
        return Err(invalid("checksum mismatch"));
    }
    let mut reader = Reader { bytes: body };
    if reader.take(8).ok_or_else(|| invalid("truncated"))? != MAGIC {
        return Err(invalid("not a snapshot file"));
    }
    let version = reader.u32().ok_or_else(|| invalid("truncated"))?;
    if version != format_version {
        return Err(invalid(&format!(
            "format version {version}, expected {format_version}"
        )));
    }
    let stored_partition = reader.i32().ok_or_else(|| invalid("truncated"))?;
    if stored_partition != partition {
        return Err(invalid(&format!(
            "holds partition {stored_partition}, expected {partition}"
        )));
    }
    let next_offset = reader.i64().ok_or_else(|| invalid("truncated"))?;
    let written_ms = reader.i64().ok_or_else(|| invalid("truncated"))?;
    let count = reader.u64().ok_or_else(|| invalid("truncated"))?;
    let mut entries = Vec::with_capacity(count.min(1 << 20) as usize);
    for _ in 0..count {
        let key_len = reader.u32().ok_or_else(|| invalid("truncated"))? as usize;
        let key = reader.take(key_len).ok_or_else(|| invalid("truncated"))?;
        let key = std::str::from_utf8(key).map_err(|_| invalid("key is not UTF-8"))?;
        let value_len = reader.u32().ok_or_else(|| invalid("truncated"))? as usize;
        let value = reader.take(value_len).ok_or_else(|| invalid("truncated"))?;
        entries.push((Box::from(key), value.to_vec()));
    }
    if !reader.bytes.is_empty() {
        return Err(invalid("trailing bytes"));
    }
    Ok(Some(Snapshot {
        next_offset,
        written_ms,
        entries,
    }))
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    fn i32(&mut self) -> Option<i32> {
        self.array().map(i32::from_be_bytes)
    }

    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_be_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }
}

#[cfg(test)]
mod tests;
