//! Why an input was rejected: a stable reason code plus a human detail, and the node it came
//! from when that could be read.

/// Stable, machine-readable reason a raw input was rejected. The string forms are part of the
/// DLQ contract (`docs/contracts.md`); never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    /// The message had no value.
    EmptyPayload,
    /// The bytes are not valid JSON (or not UTF-8).
    InvalidJson,
    /// The JSON is valid but not an object.
    NotAnObject,
    /// `type` names no known raw type.
    UnknownType,
    /// A required field is missing (or null).
    MissingField,
    /// A field has the wrong JSON type.
    WrongType,
    /// A field holds a value outside its enumeration.
    BadEnum,
    /// A number lies outside its allowed range.
    OutOfRange,
    /// An id is empty, too long or uses characters outside `[A-Za-z0-9._:-]`.
    BadId,
    /// `ts` is not an RFC 3339 timestamp.
    BadTimestamp,
    /// `ts` lies further in the future than the allowed clock skew.
    FutureTimestamp,
    /// A field the contract does not know, with unknown fields configured to be rejected.
    UnknownField,
    /// Signature verification is on, the node has a registered key, and the message has no
    /// `sig` (a trust violation).
    Unsigned,
    /// `sig` is malformed or does not verify with the node's registered key (a trust
    /// violation).
    BadSignature,
    /// `register.public_key` is not the base64 of a 32-byte ed25519 public key.
    BadKey,
    /// A registration names another public key than the one already registered (first
    /// registration wins; a trust violation).
    KeyConflict,
    /// HTTP: the bearer token may not speak for this line's `node_id`.
    ForbiddenNode,
    /// An Avro message (a schema registry is configured) names a schema id the registry does
    /// not know.
    UnknownSchema,
    /// An Avro message does not decode with its writer schema, or the writer schema is not a
    /// usable raw schema (not Avro, not a record at the top level, recursive, with schema
    /// references), or it holds a value the raw contract has no JSON form for.
    InvalidAvro,
    /// A duration (`frequency`) is neither a positive integer of milliseconds nor a string
    /// `<n>ms|s|m|h|d`.
    BadDuration,
    /// HTTP: the line belongs on the other lane (`replay` messages go to `/v1/replay`, only
    /// they do).
    WrongLane,
    /// A `command` breaks its contract: no single `target.node` / `target.domain`, no
    /// `authority`, an unknown `kind` or `delivery`, a `custom` command without `params.name`,
    /// or both `expires` and `ttl`.
    BadCommand,
    /// HTTP: the credential may not issue commands under this command's `authority.controller_id`.
    ForbiddenController,
}

impl serde::Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl ReasonCode {
    /// The code as written to the DLQ.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::EmptyPayload => "empty_payload",
            ReasonCode::InvalidJson => "invalid_json",
            ReasonCode::NotAnObject => "not_an_object",
            ReasonCode::UnknownType => "unknown_type",
            ReasonCode::MissingField => "missing_field",
            ReasonCode::WrongType => "wrong_type",
            ReasonCode::BadEnum => "bad_enum",
            ReasonCode::OutOfRange => "out_of_range",
            ReasonCode::BadId => "bad_id",
            ReasonCode::BadTimestamp => "bad_timestamp",
            ReasonCode::FutureTimestamp => "future_timestamp",
            ReasonCode::UnknownField => "unknown_field",
            ReasonCode::Unsigned => "unsigned",
            ReasonCode::BadSignature => "bad_signature",
            ReasonCode::BadKey => "bad_key",
            ReasonCode::KeyConflict => "key_conflict",
            ReasonCode::UnknownSchema => "unknown_schema",
            ReasonCode::InvalidAvro => "invalid_avro",
            ReasonCode::ForbiddenNode => "forbidden_node",
            ReasonCode::WrongLane => "wrong_lane",
            ReasonCode::BadDuration => "bad_duration",
            ReasonCode::BadCommand => "bad_command",
            ReasonCode::ForbiddenController => "forbidden_controller",
        }
    }

    /// True for the codes that also emit a trust-violation event for the node.
    pub fn is_trust_violation(self) -> bool {
        matches!(
            self,
            ReasonCode::Unsigned | ReasonCode::BadSignature | ReasonCode::KeyConflict
        )
    }
}

/// A rejected input: why, in words, and the node it came from if that could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Stable reason code.
    pub code: ReasonCode,
    /// Human-readable detail naming the field and the problem.
    pub detail: String,
}

impl Rejection {
    /// A rejection with `code` and `detail`.
    pub fn new(code: ReasonCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

/// What a rejected message could tell about itself, for the DLQ record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Why.
    pub rejection: Rejection,
    /// The `node_id` field, if the message had a readable one.
    pub node_id: Option<String>,
}
