//! Confluent wire format: byte 0 = magic 0, bytes 1..5 = schema id (big-endian u32), then the
//! Avro binary datum.
//!
//! Values go straight through serde (`GenericDatumWriter::write_ser` /
//! `GenericDatumReader::read_deser`), never through apache-avro's `Value` tree.
//!
//! Decoding uses the catalog schema of the id in the header as the writer schema; no schema
//! resolution happens. A registry (or an older released version) would plug in here: look up the
//! writer schema by id and resolve it to the reader's schema.

use apache_avro::Schema;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::catalog::{self, CatalogEntry};
use crate::compiled;
use crate::error::{CodecError, PayloadError};

/// Byte 0 of every message.
pub const MAGIC: u8 = 0;
/// Length of the header: magic byte + 4-byte schema id.
pub const HEADER_LEN: usize = 5;

/// A type with a fixed schema in the catalog.
///
/// `Wire` is what the Avro datum deserializes into; `from_wire` turns it into `Self`. For plain
/// records both are `Self`; envelope types (FleetEvent, ControlEvent) decode into their wire struct
/// and check it, so a bad envelope is a typed [`PayloadError`], not a serde message.
/// Encoding goes through `Self`'s `Serialize`, which must write the schema's record.
pub trait Canonical: Sized {
    /// Catalog entry of the schema.
    const ENTRY: &'static CatalogEntry;
    /// Schema id written in the header.
    const SCHEMA_ID: u32 = Self::ENTRY.id;
    /// What the datum deserializes into.
    type Wire: DeserializeOwned;

    /// Checks and converts a decoded wire value.
    ///
    /// # Errors
    /// [`PayloadError`] when the wire value breaks a rule the schema cannot express.
    fn from_wire(wire: Self::Wire) -> Result<Self, PayloadError>;

    /// The parsed, self-contained schema.
    ///
    /// # Errors
    /// [`CodecError::SchemaLoad`] if the embedded schemas failed to load (a bug).
    fn schema() -> Result<&'static Schema, CodecError> {
        compiled::schema(Self::SCHEMA_ID)
    }

    /// The `.avsc` source as written (it may reference shared types by name).
    fn avsc() -> &'static str {
        Self::ENTRY.avsc
    }

    /// The self-contained schema JSON (shared types inlined).
    ///
    /// # Errors
    /// As for [`Canonical::schema`].
    fn expanded_schema_json() -> Result<&'static str, CodecError> {
        compiled::expanded_schema_json(Self::SCHEMA_ID)
    }
}

/// Implements [`Canonical`] for a plain record that is its own wire type.
macro_rules! plain_canonical {
    ($($ty:ty => $entry:expr),+ $(,)?) => {$(
        impl $crate::codec::Canonical for $ty {
            const ENTRY: &'static $crate::catalog::CatalogEntry = &$entry;
            type Wire = Self;
            fn from_wire(wire: Self) -> Result<Self, $crate::error::PayloadError> {
                Ok(wire)
            }
        }
    )+};
}
pub(crate) use plain_canonical;

/// Encodes `value` as a new framed message.
///
/// # Errors
/// [`CodecError::Encode`] if the value does not fit the schema (a bug for this crate's types);
/// [`CodecError::SchemaLoad`] if the embedded schemas failed to load.
pub fn encode<T: Canonical + Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut buf = Vec::with_capacity(128);
    encode_into(value, &mut buf)?;
    Ok(buf)
}

/// Appends the framed message for `value` to `buf`. On error `buf` is left as it was.
///
/// # Errors
/// As for [`encode`].
pub fn encode_into<T: Canonical + Serialize>(
    value: &T,
    buf: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let codec = compiled::codec(T::SCHEMA_ID)?;
    let start = buf.len();
    buf.push(MAGIC);
    buf.extend_from_slice(&T::SCHEMA_ID.to_be_bytes());
    match codec.writer.write_ser(buf, value) {
        Ok(_) => Ok(()),
        Err(source) => {
            buf.truncate(start);
            Err(CodecError::Encode {
                schema: codec.entry.name,
                source,
            })
        }
    }
}

/// Reads the schema id from a message header without decoding the datum.
///
/// # Errors
/// [`CodecError::TooShort`] if `bytes` is shorter than the header; [`CodecError::BadMagic`] if
/// byte 0 is not 0. The id itself is not checked against the catalog.
pub fn peek_schema_id(bytes: &[u8]) -> Result<u32, CodecError> {
    split_header(bytes).map(|(id, _)| id)
}

fn split_header(bytes: &[u8]) -> Result<(u32, &[u8]), CodecError> {
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(CodecError::TooShort { len: bytes.len() });
    };
    let [magic, id @ ..] = *header;
    if magic != MAGIC {
        return Err(CodecError::BadMagic(magic));
    }
    Ok((u32::from_be_bytes(id), body))
}

/// Decodes a framed message as `T`.
///
/// The whole message must be consumed: trailing bytes mean it was not written with `T`'s schema.
///
/// # Errors
/// [`CodecError::TooShort`], [`CodecError::BadMagic`] for a bad header;
/// [`CodecError::UnknownSchemaId`] if the id is not in the catalog;
/// [`CodecError::SchemaMismatch`] if it belongs to another type; [`CodecError::Decode`] or
/// [`CodecError::TrailingBytes`] for a malformed datum; [`CodecError::Payload`] if an envelope's
/// kind and payload disagree. All of these are [`crate::ErrorClass::BadData`].
pub fn decode<T: Canonical>(bytes: &[u8]) -> Result<T, CodecError> {
    let (id, mut body) = split_header(bytes)?;
    if id != T::SCHEMA_ID {
        if let Some((entry, value)) = compiled::resolve_previous(id, &mut body)? {
            if entry.id == T::SCHEMA_ID {
                return finish::<T>(entry.name, body, apache_avro::from_value(&value));
            }
        }
        return Err(match catalog::by_id(id) {
            Some(_) => CodecError::SchemaMismatch {
                expected: T::SCHEMA_ID,
                found: id,
            },
            None => CodecError::UnknownSchemaId(id),
        });
    }
    let codec = compiled::codec(id)?;
    let wire = codec.reader.read_deser(&mut body);
    finish::<T>(codec.entry.name, body, wire)
}

/// Checks that the datum used every byte and converts it from its wire form.
fn finish<T: Canonical>(
    schema: &'static str,
    rest: &[u8],
    wire: Result<T::Wire, apache_avro::Error>,
) -> Result<T, CodecError> {
    let wire = wire.map_err(|source| CodecError::Decode { schema, source })?;
    if !rest.is_empty() {
        return Err(CodecError::TrailingBytes {
            schema,
            count: rest.len(),
        });
    }
    Ok(T::from_wire(wire)?)
}
