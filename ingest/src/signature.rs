//! Ed25519 message signatures: what is signed, and checking it. Pure.
//!
//! A node signs a raw message by adding a field `sig` holding the standard base64 (with
//! padding) of the 64-byte ed25519 signature over the message's **canonical bytes**: the JSON
//! object without its `sig` field, written compactly (no whitespace), object keys sorted by
//! their UTF-8 bytes at every level, strings with JSON's minimal escapes (`\"`, `\\`, control
//! characters), numbers as written by serde_json. That is what Python's
//! `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` produces for
//! strings, integers and booleans (keep floats out of signed messages, or write them as
//! serde_json does). A replay chunk is signed as a whole: the signature covers the events it
//! carries; `sig` fields inside `events` are not checked.
//!
//! The node's key is the standard base64 of its 32-byte ed25519 public key, as registered in
//! `register.public_key`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Map, Value};

use crate::reject::{ReasonCode, Rejection};

/// Name of the signature field.
pub const SIG_FIELD: &str = "sig";

/// A message's signature, as found in the raw object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signed {
    /// The message has no `sig` field.
    Unsigned,
    /// The message has one: the text of `sig` and the canonical bytes it should sign.
    Signed {
        /// Value of the `sig` field (expected: base64 of 64 bytes).
        sig: String,
        /// The canonical bytes of the message without `sig`.
        canonical: Vec<u8>,
    },
    /// `sig` is present but not a string.
    Malformed,
}

/// Reads the signature of a raw message object.
pub fn signed(map: &Map<String, Value>) -> Signed {
    match map.get(SIG_FIELD) {
        None => Signed::Unsigned,
        Some(Value::String(sig)) => {
            let mut canonical = Vec::new();
            write_object(map, Some(SIG_FIELD), &mut canonical);
            Signed::Signed {
                sig: sig.clone(),
                canonical,
            }
        }
        Some(_) => Signed::Malformed,
    }
}

/// The canonical bytes of `value` (see the module docs), for signing.
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(value, &mut out);
    out
}

/// Parses a registered public key (standard base64 of 32 bytes).
///
/// # Errors
/// A [`Rejection`] with [`ReasonCode::BadKey`] when it is not such a key.
pub fn public_key(text: &str) -> Result<VerifyingKey, Rejection> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|error| Rejection::new(ReasonCode::BadKey, format!("public_key: {error}")))?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
        Rejection::new(
            ReasonCode::BadKey,
            format!("public_key has {} bytes, not 32", bytes.len()),
        )
    })?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|error| Rejection::new(ReasonCode::BadKey, format!("public_key: {error}")))
}

/// Checks `signed` against `key`.
///
/// # Errors
/// A [`Rejection`] with [`ReasonCode::Unsigned`] when there is no signature, or
/// [`ReasonCode::BadSignature`] when it is malformed or does not verify.
pub fn verify(key: &VerifyingKey, signed: &Signed) -> Result<(), Rejection> {
    let (sig, canonical) = match signed {
        Signed::Unsigned => {
            return Err(Rejection::new(
                ReasonCode::Unsigned,
                "the node has a registered key but the message has no `sig`",
            ))
        }
        Signed::Malformed => {
            return Err(Rejection::new(
                ReasonCode::BadSignature,
                "`sig` is not a string",
            ))
        }
        Signed::Signed { sig, canonical } => (sig, canonical),
    };
    let bad = |detail: String| Rejection::new(ReasonCode::BadSignature, detail);
    let bytes = STANDARD
        .decode(sig)
        .map_err(|error| bad(format!("`sig` is not base64: {error}")))?;
    let signature = Signature::from_slice(&bytes)
        .map_err(|_| bad(format!("`sig` has {} bytes, not 64", bytes.len())))?;
    key.verify(canonical, &signature)
        .map_err(|_| bad("`sig` does not verify with the node's registered key".to_owned()))
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => write_object(map, None, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        // Scalars: serde_json's compact form. Writing into a Vec cannot fail.
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

fn write_object(map: &Map<String, Value>, skip: Option<&str>, out: &mut Vec<u8>) {
    let mut keys: Vec<&String> = map.keys().filter(|k| Some(k.as_str()) != skip).collect();
    keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    out.push(b'{');
    for (index, key) in keys.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
        out.push(b':');
        if let Some(value) = map.get(key) {
            write_value(value, out);
        }
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use serde_json::json;

    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn sign(value: &Value) -> String {
        STANDARD.encode(key().sign(&canonical_bytes(value)).to_bytes())
    }

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn canonical_form_sorts_keys_at_every_level_and_drops_whitespace() {
        let value = json!({"b": 1, "a": {"z": [true, null, "x\"y"], "c": "é"}});
        assert_eq!(
            String::from_utf8(canonical_bytes(&value)).unwrap(),
            r#"{"a":{"c":"é","z":[true,null,"x\"y"]},"b":1}"#
        );
    }

    #[test]
    fn a_signed_message_verifies_and_any_change_breaks_it() {
        let body =
            json!({"type": "heartbeat", "node_id": "n-1", "seq": 3, "ts": "2026-01-01T00:00:00Z"});
        let verifying = key().verifying_key();
        let mut message = map(body.clone());
        message.insert("sig".into(), Value::String(sign(&body)));
        assert_eq!(verify(&verifying, &signed(&message)), Ok(()));

        message.insert("seq".into(), json!(4));
        assert_eq!(
            verify(&verifying, &signed(&message)).unwrap_err().code,
            ReasonCode::BadSignature
        );
        message.remove("sig");
        assert_eq!(
            verify(&verifying, &signed(&message)).unwrap_err().code,
            ReasonCode::Unsigned
        );
        message.insert("sig".into(), json!(12));
        assert_eq!(signed(&message), Signed::Malformed);
        message.insert("sig".into(), json!("bm90IGEgc2lnbmF0dXJl"));
        assert_eq!(
            verify(&verifying, &signed(&message)).unwrap_err().code,
            ReasonCode::BadSignature
        );
    }

    #[test]
    fn public_keys_are_base64_of_32_bytes() {
        let text = STANDARD.encode(key().verifying_key().to_bytes());
        assert_eq!(public_key(&text).unwrap(), key().verifying_key());
        assert_eq!(public_key("AAAA").unwrap_err().code, ReasonCode::BadKey);
        assert_eq!(public_key("%%").unwrap_err().code, ReasonCode::BadKey);
    }
}
