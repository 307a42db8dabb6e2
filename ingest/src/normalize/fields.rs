//! Typed reads of fields from a raw JSON object, each failing with a precise [`Rejection`].

use serde_json::{Map, Value};
use sxfleet_schemas::{AvroEnum, StringMap};

use crate::reject::{ReasonCode, Rejection};

/// Longest id we accept (node, domain, bundle, controller ids).
const MAX_ID_LEN: usize = 128;

/// A raw JSON object with typed accessors. `prefix` names the enclosing object in messages
/// (for nested objects such as `hardware.`).
pub(super) struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: &'a str,
}

impl<'a> Fields<'a> {
    pub(super) fn new(map: &'a Map<String, Value>) -> Self {
        Self { map, prefix: "" }
    }

    fn present(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn missing(&self, name: &str) -> Rejection {
        Rejection::new(
            ReasonCode::MissingField,
            format!("required field `{}{name}` is missing", self.prefix),
        )
    }

    fn wrong(&self, name: &str, expected: &str, value: &Value) -> Rejection {
        Rejection::new(
            ReasonCode::WrongType,
            format!(
                "field `{}{name}` must be {expected}, got {}",
                self.prefix,
                json_kind(value)
            ),
        )
    }

    pub(super) fn opt_str(&self, name: &str) -> Result<Option<String>, Rejection> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong(name, "a string", other)),
        }
    }

    pub(super) fn str(&self, name: &str) -> Result<String, Rejection> {
        self.opt_str(name)?.ok_or_else(|| self.missing(name))
    }

    /// A required id: non-empty, at most 128 characters of `[A-Za-z0-9._:-]`.
    pub(super) fn id(&self, name: &str) -> Result<String, Rejection> {
        let value = self.str(name)?;
        check_id(&format!("{}{name}", self.prefix), &value)?;
        Ok(value)
    }

    pub(super) fn opt_id(&self, name: &str) -> Result<Option<String>, Rejection> {
        match self.opt_str(name)? {
            None => Ok(None),
            Some(value) => {
                check_id(&format!("{}{name}", self.prefix), &value)?;
                Ok(Some(value))
            }
        }
    }

    pub(super) fn opt_f64(&self, name: &str, min: f64, max: f64) -> Result<Option<f64>, Rejection> {
        match self.present(name) {
            None => Ok(None),
            Some(value) => {
                let number = value
                    .as_f64()
                    .ok_or_else(|| self.wrong(name, "a number", value))?;
                if !(min..=max).contains(&number) {
                    return Err(Rejection::new(
                        ReasonCode::OutOfRange,
                        format!(
                            "field `{}{name}` = {number} is outside {min}..={max}",
                            self.prefix
                        ),
                    ));
                }
                Ok(Some(number))
            }
        }
    }

    /// An optional non-negative integer that fits in an Avro long.
    pub(super) fn opt_count(&self, name: &str) -> Result<Option<i64>, Rejection> {
        match self.present(name) {
            None => Ok(None),
            Some(value) => match value.as_u64() {
                Some(n) => i64::try_from(n).map(Some).map_err(|_| {
                    Rejection::new(
                        ReasonCode::OutOfRange,
                        format!("field `{}{name}` = {n} is too large", self.prefix),
                    )
                }),
                None if value.is_number() => Err(Rejection::new(
                    ReasonCode::OutOfRange,
                    format!(
                        "field `{}{name}` must be a non-negative integer, got {value}",
                        self.prefix
                    ),
                )),
                None => Err(self.wrong(name, "a non-negative integer", value)),
            },
        }
    }

    pub(super) fn count(&self, name: &str) -> Result<i64, Rejection> {
        self.opt_count(name)?.ok_or_else(|| self.missing(name))
    }

    /// A required enumeration value: one of `allowed`, matched case-insensitively against
    /// the Avro symbols.
    pub(super) fn symbol<T: AvroEnum>(&self, name: &str, allowed: &[T]) -> Result<T, Rejection> {
        let value = self.str(name)?;
        allowed
            .iter()
            .copied()
            .find(|variant| variant.symbol().eq_ignore_ascii_case(&value))
            .ok_or_else(|| {
                let symbols: Vec<&str> = allowed.iter().map(|v| v.symbol()).collect();
                Rejection::new(
                    ReasonCode::BadEnum,
                    format!(
                        "field `{}{name}` = {value:?} is not one of {}",
                        self.prefix,
                        symbols.join("|")
                    ),
                )
            })
    }

    pub(super) fn opt_symbol<T: AvroEnum>(
        &self,
        name: &str,
        allowed: &[T],
    ) -> Result<Option<T>, Rejection> {
        match self.present(name) {
            None => Ok(None),
            Some(_) => self.symbol(name, allowed).map(Some),
        }
    }

    pub(super) fn str_list(&self, name: &str) -> Result<Vec<String>, Rejection> {
        match self.present(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.wrong(name, "an array of strings", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(name, "an array of strings", other)),
        }
    }

    /// An optional list of ids of at most `max` entries (`via`: relay hops). `None` when
    /// absent; an empty array is `Some(vec![])`.
    pub(super) fn opt_id_list(
        &self,
        name: &str,
        max: usize,
    ) -> Result<Option<Vec<String>>, Rejection> {
        let Some(value) = self.present(name) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(self.wrong(name, "an array of ids", value));
        };
        if items.len() > max {
            return Err(Rejection::new(
                ReasonCode::OutOfRange,
                format!(
                    "field `{}{name}` has {} entries, at most {max} allowed",
                    self.prefix,
                    items.len()
                ),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(id) => {
                    check_id(&format!("{}{name}[{index}]", self.prefix), id)?;
                    Ok(id.clone())
                }
                other => Err(self.wrong(name, "an array of ids", other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    pub(super) fn opt_bool(&self, name: &str) -> Result<Option<bool>, Rejection> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(name, "a boolean", other)),
        }
    }

    /// An optional positive duration in milliseconds: an integer of milliseconds, or a string
    /// `<n><unit>` with unit `ms`, `s`, `m`, `h` or `d` (see [`duration_ms`]).
    pub(super) fn opt_duration_ms(&self, name: &str) -> Result<Option<i64>, Rejection> {
        let bad = |shown: String| {
            Rejection::new(
                ReasonCode::BadDuration,
                format!(
                    "field `{}{name}` = {shown} is not a positive duration (milliseconds, or \"<n>ms|s|m|h|d\")",
                    self.prefix
                ),
            )
        };
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(text)) => duration_ms(text)
                .map(Some)
                .ok_or_else(|| bad(format!("{text:?}"))),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(ms) if ms > 0 => Ok(Some(ms)),
                _ => Err(bad(n.to_string())),
            },
            Some(other) => Err(self.wrong(name, "a duration string or integer", other)),
        }
    }

    /// A flat object whose values are rendered as text: strings as they are, anything else as
    /// its JSON text (`1500`, `true`, `{"a":1}`).
    pub(super) fn text_map(&self, name: &str) -> Result<StringMap, Rejection> {
        match self.present(name) {
            None => Ok(Default::default()),
            Some(Value::Object(map)) => Ok(map
                .iter()
                .map(|(key, value)| (key.clone(), value_text(value)))
                .collect()),
            Some(other) => Err(self.wrong(name, "an object", other)),
        }
    }

    /// Any present value rendered as text like [`Self::text_map`]'s values; `None` when absent.
    pub(super) fn opt_text(&self, name: &str) -> Option<String> {
        self.present(name).map(value_text)
    }

    /// An optional array of objects.
    pub(super) fn objects(&self, name: &str) -> Result<Vec<&'a Map<String, Value>>, Rejection> {
        match self.present(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Object(map) => Ok(map),
                    other => Err(self.wrong(name, "an array of objects", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(name, "an array of objects", other)),
        }
    }

    /// A nested object, read with the same accessors; `None` when absent.
    pub(super) fn opt_object(
        &self,
        name: &'a str,
        prefix: &'a str,
    ) -> Result<Option<Fields<'a>>, Rejection> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields { map, prefix })),
            Some(other) => Err(self.wrong(name, "an object", other)),
        }
    }

    /// Names of fields not in `known`.
    pub(super) fn unknown<'k>(&self, known: &'k [&'k str]) -> Option<&'a str> {
        self.map
            .keys()
            .find(|key| !known.contains(&key.as_str()))
            .map(String::as_str)
    }
}

/// Renders a JSON value as text: strings unquoted, everything else as compact JSON.
pub(super) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A duration string in milliseconds: digits then one unit of `ms`, `s`, `m`, `h`, `d`
/// (`"500ms"`, `"30s"`, `"15m"`, `"2h"`, `"1d"`). `None` when malformed, zero or too large.
pub(super) fn duration_ms(text: &str) -> Option<i64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let scale: i64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    let ms = number.parse::<i64>().ok()?.checked_mul(scale)?;
    (ms > 0).then_some(ms)
}

fn check_id(field: &str, value: &str) -> Result<(), Rejection> {
    let valid_chars = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if value.is_empty() || value.len() > MAX_ID_LEN || !valid_chars {
        return Err(Rejection::new(
            ReasonCode::BadId,
            format!(
                "field `{field}` = {value:?} must be 1..={MAX_ID_LEN} characters of [A-Za-z0-9._:-]"
            ),
        ));
    }
    Ok(())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
