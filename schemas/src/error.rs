//! Errors of the codec and of the wire-to-domain conversions.

/// Who must act on an error (see STYLE.md, "Typed errors that say who must act").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The input is malformed: send it to the DLQ, count it, commit its offset and go on.
    BadData,
    /// A bug in this crate or its caller (our own value does not fit our own schema, an embedded
    /// schema does not load): stop the partition and alert.
    Internal,
}

/// An embedded schema failed to parse or to build its writer/reader.
///
/// Cannot happen in a released build: the crate's tests load every schema. Kept as an error so
/// the data path never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("embedded schema {schema} failed to load: {message}")]
pub struct SchemaLoadError {
    /// Schema name, or `<catalog>` when the combined parse failed.
    pub schema: String,
    /// What apache-avro reported.
    pub message: String,
}

/// Encoding or decoding a Confluent-framed Avro message failed.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The message is shorter than the 5-byte header (magic byte + schema id).
    #[error("message is {len} bytes, shorter than the 5-byte Confluent header")]
    TooShort {
        /// Length of the message.
        len: usize,
    },
    /// Byte 0 is not the Confluent magic byte 0.
    #[error("bad magic byte {0:#04x}, expected 0x00")]
    BadMagic(u8),
    /// The schema id is not in the catalog.
    #[error("unknown schema id {0}")]
    UnknownSchemaId(u32),
    /// The schema id is in the catalog but belongs to another type than the one requested.
    #[error("schema id {found} does not match the requested type (schema id {expected})")]
    SchemaMismatch {
        /// Schema id of the requested type.
        expected: u32,
        /// Schema id found in the message.
        found: u32,
    },
    /// The datum decoded but bytes were left over: the message was not written with this schema.
    #[error("{count} trailing bytes after the {schema} datum")]
    TrailingBytes {
        /// Record name.
        schema: &'static str,
        /// Number of unread bytes.
        count: usize,
    },
    /// The value does not fit its schema. Our own types always fit, so this is a bug.
    #[error("cannot encode {schema}")]
    Encode {
        /// Record name.
        schema: &'static str,
        /// What apache-avro reported.
        #[source]
        source: apache_avro::Error,
    },
    /// The Avro datum is malformed (truncated, bad union index, invalid UTF-8...).
    #[error("cannot decode {schema}")]
    Decode {
        /// Record name.
        schema: &'static str,
        /// What apache-avro reported.
        #[source]
        source: apache_avro::Error,
    },
    /// The datum decoded but breaks an envelope rule (kind and payload disagree).
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The embedded schemas failed to load.
    #[error(transparent)]
    SchemaLoad(#[from] SchemaLoadError),
}

impl CodecError {
    /// Who must act on this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            CodecError::TooShort { .. }
            | CodecError::BadMagic(_)
            | CodecError::UnknownSchemaId(_)
            | CodecError::SchemaMismatch { .. }
            | CodecError::TrailingBytes { .. }
            | CodecError::Decode { .. }
            | CodecError::Payload(_) => ErrorClass::BadData,
            CodecError::Encode { .. } | CodecError::SchemaLoad(_) => ErrorClass::Internal,
        }
    }
}

/// An envelope record (FleetEvent, ControlEvent) whose `kind` and payload fields disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// `kind` names a payload field that is null.
    #[error("{record} of kind {kind} has no `{field}` payload")]
    Missing {
        /// Record name.
        record: &'static str,
        /// The `kind` symbol.
        kind: &'static str,
        /// The payload field that should be set.
        field: &'static str,
    },
    /// Payload fields other than the one `kind` names are set.
    #[error("{record} of kind {kind} also carries payload fields {fields:?}")]
    Unexpected {
        /// Record name.
        record: &'static str,
        /// The `kind` symbol.
        kind: &'static str,
        /// The extra payload fields that are set.
        fields: Vec<&'static str>,
    },
    /// `kind` is UNKNOWN: the record was written with a newer kind this reader does not know.
    #[error("{record} has kind UNKNOWN (written by a newer schema?)")]
    UnknownKind {
        /// Record name.
        record: &'static str,
    },
}

/// Checks that among the payload fields `set` (name, is set), only `expected` is set.
pub(crate) fn only_payload(
    record: &'static str,
    kind: &'static str,
    expected: &'static str,
    set: &[(&'static str, bool)],
) -> Result<(), PayloadError> {
    let fields: Vec<&'static str> = set
        .iter()
        .filter(|(field, is_set)| *is_set && *field != expected)
        .map(|(field, _)| *field)
        .collect();
    if fields.is_empty() {
        Ok(())
    } else {
        Err(PayloadError::Unexpected {
            record,
            kind,
            fields,
        })
    }
}
