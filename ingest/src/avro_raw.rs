//! Avro raw messages: the Confluent wire format on the raw topic, decoded with the writer
//! schema and turned into the JSON object of the raw contract. Pure: the writer schema is
//! passed in (the [`crate::registry`] fetches it).
//!
//! The mapping (documented in `docs/ingest.md`, "Avro raw messages"):
//!
//! | Avro | JSON |
//! |---|---|
//! | record | object; fields whose value is null are left out |
//! | union | the value of its branch |
//! | map | object |
//! | array | array |
//! | enum | its symbol (string) |
//! | int, long | integer |
//! | float, double | number (a float by its shortest decimal text); NaN and infinities are rejected |
//! | boolean, string | boolean, string |
//! | bytes, fixed | standard base64 text (with padding) |
//! | `timestamp-millis` / `-micros` / `-nanos` | RFC 3339 UTC text with 3 / 6 / 9 fraction digits and `Z` |
//! | `local-timestamp-*` | the same without `Z` |
//! | `date`, `time-millis`, `time-micros` | `YYYY-MM-DD`, `HH:MM:SS.sss`, `HH:MM:SS.ssssss` |
//! | `uuid` | hyphenated lower-case text |
//! | `decimal`, `big-decimal`, `duration` | rejected (`invalid_avro`): not part of the raw contract |
//!
//! Only the top level must be a record, and schemas that refer to themselves (recursive types)
//! are refused: decoding recursion must stay bounded by the schema, never by the payload.

use std::collections::HashSet;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{Name, NamesRef, ResolvedSchema, Schema};
use apache_avro::types::Value as Avro;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Number, Value};
use sxfleet_schemas::{peek_schema_id, HEADER_LEN};
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use crate::reject::{ReasonCode, Rejection};

/// A message that starts with the Confluent magic byte: its schema id and the Avro datum.
///
/// # Errors
/// [`ReasonCode::InvalidAvro`] when the message is shorter than the 5-byte header or does not
/// start with the magic byte.
pub fn split(raw: &[u8]) -> Result<(u32, &[u8]), Rejection> {
    let id = peek_schema_id(raw).map_err(|error| invalid(error.to_string()))?;
    Ok((id, raw.get(HEADER_LEN..).unwrap_or_default()))
}

/// Parses and checks writer schema `id` (its text as the registry returned it).
///
/// # Errors
/// [`ReasonCode::InvalidAvro`] when the text is not an Avro schema, its top level is not a
/// record, or it is recursive.
pub fn writer_schema(id: u32, text: &str) -> Result<Schema, Rejection> {
    let schema = Schema::parse_str(text)
        .map_err(|error| invalid(format!("writer schema {id} does not parse: {error}")))?;
    let Schema::Record(record) = &schema else {
        return Err(invalid(format!(
            "writer schema {id} is not a record at the top level"
        )));
    };
    let resolved = ResolvedSchema::try_from(&schema)
        .map_err(|error| invalid(format!("writer schema {id} does not resolve: {error}")))?;
    let mut walk = Walk {
        names: resolved.get_names(),
        open: Vec::new(),
        done: HashSet::new(),
    };
    if let Some(name) = walk.recursion(&schema) {
        return Err(invalid(format!(
            "writer schema {id} ({}) is recursive through {name}; raw messages need a non-recursive schema",
            record.name
        )));
    }
    Ok(schema)
}

/// Decodes the Avro datum written with `schema` (writer schema `id`) into the raw contract's
/// JSON object.
///
/// # Errors
/// [`ReasonCode::InvalidAvro`] when the bytes do not decode with the schema, leave bytes over,
/// or hold a value the raw contract has no JSON form for.
pub fn decode(id: u32, schema: &Schema, datum: &[u8]) -> Result<Map<String, Value>, Rejection> {
    let reader = GenericDatumReader::builder(schema)
        .build()
        .map_err(|error| invalid(format!("writer schema {id} cannot read: {error}")))?;
    let mut input = Datum {
        rest: datum,
        ran_out: false,
    };
    let value = reader.read_value(&mut input).map_err(|error| {
        invalid(format!(
            "the datum does not decode with writer schema {id}: {error}"
        ))
    })?;
    if input.ran_out {
        // apache-avro reads a union index at the end of the input as branch 0 (null), so a
        // datum cut off before trailing optional fields would otherwise decode.
        return Err(invalid(format!(
            "the datum ends before its writer schema {id} does"
        )));
    }
    if !input.rest.is_empty() {
        return Err(invalid(format!(
            "{} bytes left after the datum of writer schema {id}",
            input.rest.len()
        )));
    }
    object(value).map_err(|error| invalid(format!("writer schema {id}: {error}")))
}

/// Converts a decoded top-level record into a JSON object.
///
/// # Errors
/// A [`Problem`] naming the field whose value has no JSON form (or a top level that is not a
/// record).
pub fn object(value: Avro) -> Result<Map<String, Value>, Problem> {
    match value {
        Avro::Record(fields) => record(fields),
        other => Err(Problem::new(format!(
            "the top level is {}, not a record",
            kind(&other)
        ))),
    }
}

/// The datum being decoded; notes whether the decoder asked for more than it holds.
struct Datum<'a> {
    rest: &'a [u8],
    ran_out: bool,
}

impl std::io::Read for Datum<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.rest.is_empty() && !buf.is_empty() {
            self.ran_out = true;
            return Ok(0);
        }
        self.rest.read(buf)
    }
}

fn invalid(detail: impl Into<String>) -> Rejection {
    Rejection::new(ReasonCode::InvalidAvro, detail)
}

/// A value without a JSON form, and where it sits (built on the way out, so the success path
/// allocates no paths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Path segments, innermost first.
    path: Vec<String>,
    /// What is wrong.
    what: String,
}

impl Problem {
    fn new(what: String) -> Self {
        Self {
            path: Vec::new(),
            what,
        }
    }

    fn within(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            return f.write_str(&self.what);
        }
        let mut path = String::new();
        for segment in self.path.iter().rev() {
            if !path.is_empty() && !segment.starts_with('[') {
                path.push('.');
            }
            path.push_str(segment);
        }
        write!(f, "field `{path}`: {}", self.what)
    }
}

fn record(fields: Vec<(String, Avro)>) -> Result<Map<String, Value>, Problem> {
    let mut map = Map::new();
    for (name, value) in fields {
        let value = branch(value);
        if matches!(value, Avro::Null) {
            continue;
        }
        match json(value) {
            Ok(json) => {
                map.insert(name, json);
            }
            Err(problem) => return Err(problem.within(name)),
        }
    }
    Ok(map)
}

/// The value inside (possibly nested) union branches.
fn branch(value: Avro) -> Avro {
    match value {
        Avro::Union(_, inner) => branch(*inner),
        other => other,
    }
}

fn json(value: Avro) -> Result<Value, Problem> {
    Ok(match value {
        Avro::Null => Value::Null,
        Avro::Boolean(b) => Value::Bool(b),
        Avro::Int(n) => Value::from(n),
        Avro::Long(n) => Value::from(n),
        // A float's shortest decimal text, read as a double: 0.1f32 becomes 0.1, not
        // 0.10000000149011612.
        Avro::Float(x) => number(x.to_string().parse::<f64>().unwrap_or(f64::NAN))?,
        Avro::Double(x) => number(x)?,
        Avro::Bytes(bytes) | Avro::Fixed(_, bytes) => Value::String(STANDARD.encode(bytes)),
        Avro::String(text) => Value::String(text),
        Avro::Enum(_, symbol) => Value::String(symbol),
        Avro::Union(_, inner) => json(*inner)?,
        Avro::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                out.push(json(item).map_err(|p| p.within(format!("[{index}]")))?);
            }
            Value::Array(out)
        }
        Avro::Map(entries) => {
            let mut out = Map::new();
            for (key, item) in entries {
                match json(item) {
                    Ok(item) => {
                        out.insert(key, item);
                    }
                    Err(problem) => return Err(problem.within(key)),
                }
            }
            Value::Object(out)
        }
        Avro::Record(fields) => Value::Object(record(fields)?),
        Avro::Date(days) => Value::String(date(days)?),
        Avro::TimeMillis(ms) => Value::String(time_of_day(i64::from(ms) * 1_000_000, 3)?),
        Avro::TimeMicros(us) => Value::String(time_of_day(us.saturating_mul(1_000), 6)?),
        Avro::TimestampMillis(ms) => Value::String(instant(i128::from(ms) * 1_000_000, 3, true)?),
        Avro::TimestampMicros(us) => Value::String(instant(i128::from(us) * 1_000, 6, true)?),
        Avro::TimestampNanos(ns) => Value::String(instant(i128::from(ns), 9, true)?),
        Avro::LocalTimestampMillis(ms) => {
            Value::String(instant(i128::from(ms) * 1_000_000, 3, false)?)
        }
        Avro::LocalTimestampMicros(us) => Value::String(instant(i128::from(us) * 1_000, 6, false)?),
        Avro::LocalTimestampNanos(ns) => Value::String(instant(i128::from(ns), 9, false)?),
        Avro::Uuid(uuid) => Value::String(uuid.hyphenated().to_string()),
        unsupported @ (Avro::Decimal(_) | Avro::BigDecimal(_) | Avro::Duration(_)) => {
            return Err(Problem::new(format!(
                "{} values have no form in the raw contract",
                kind(&unsupported)
            )))
        }
    })
}

fn number(x: f64) -> Result<Value, Problem> {
    Number::from_f64(x)
        .map(Value::Number)
        .ok_or_else(|| Problem::new(format!("{x} is not a JSON number")))
}

/// RFC 3339 text of an instant `nanos` after the epoch, with `digits` fraction digits, in UTC
/// (`Z`) or as a local time without offset.
fn instant(nanos: i128, digits: u32, utc: bool) -> Result<String, Problem> {
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| Problem::new(format!("timestamp {nanos} ns is out of range")))?;
    let seconds = at
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .map_err(|error| Problem::new(format!("timestamp {nanos} ns: {error}")))?;
    let fraction = at.nanosecond() / 10u32.pow(9 - digits);
    let zone = if utc { "Z" } else { "" };
    Ok(format!(
        "{seconds}.{fraction:0width$}{zone}",
        width = digits as usize
    ))
}

fn date(days: i32) -> Result<String, Problem> {
    let out_of_range = || Problem::new(format!("date {days} days after the epoch is out of range"));
    let epoch =
        Date::from_calendar_date(1970, time::Month::January, 1).map_err(|_| out_of_range())?;
    epoch
        .checked_add(time::Duration::days(i64::from(days)))
        .ok_or_else(out_of_range)?
        .format(format_description!("[year]-[month]-[day]"))
        .map_err(|_| out_of_range())
}

/// `HH:MM:SS.fff` of `nanos` after midnight, with `digits` fraction digits.
fn time_of_day(nanos: i64, digits: u32) -> Result<String, Problem> {
    let out_of_range = || Problem::new(format!("time of day {nanos} ns is out of range"));
    let day = 86_400 * 1_000_000_000;
    if !(0..day).contains(&nanos) {
        return Err(out_of_range());
    }
    let seconds = nanos / 1_000_000_000;
    let time = Time::from_hms(
        (seconds / 3600) as u8,
        (seconds / 60 % 60) as u8,
        (seconds % 60) as u8,
    )
    .map_err(|_| out_of_range())?;
    let whole = time
        .format(format_description!("[hour]:[minute]:[second]"))
        .map_err(|_| out_of_range())?;
    let fraction = (nanos % 1_000_000_000) / 10i64.pow(9 - digits);
    Ok(format!(
        "{whole}.{fraction:0width$}",
        width = digits as usize
    ))
}

fn kind(value: &Avro) -> &'static str {
    match value {
        Avro::Null => "null",
        Avro::Boolean(_) => "a boolean",
        Avro::Int(_) | Avro::Long(_) => "an integer",
        Avro::Float(_) | Avro::Double(_) => "a number",
        Avro::Bytes(_) | Avro::Fixed(..) => "bytes",
        Avro::String(_) => "a string",
        Avro::Enum(..) => "an enum",
        Avro::Union(..) => "a union",
        Avro::Array(_) => "an array",
        Avro::Map(_) => "a map",
        Avro::Record(_) => "a record",
        Avro::Decimal(_) | Avro::BigDecimal(_) => "decimal",
        Avro::Duration(_) => "duration",
        _ => "a date or time",
    }
}

/// Walks a schema looking for a named type that contains itself.
struct Walk<'s> {
    names: &'s NamesRef<'s>,
    /// Named types being walked (the path from the top).
    open: Vec<&'s Name>,
    /// Named types already known not to recurse.
    done: HashSet<&'s Name>,
}

impl<'s> Walk<'s> {
    /// The name of a type that refers back to itself, if any.
    fn recursion(&mut self, schema: &'s Schema) -> Option<String> {
        match schema {
            Schema::Record(record) => {
                if self.open.contains(&&record.name) {
                    return Some(record.name.to_string());
                }
                if self.done.contains(&record.name) {
                    return None;
                }
                self.open.push(&record.name);
                let found = record
                    .fields
                    .iter()
                    .find_map(|field| self.recursion(&field.schema));
                self.open.pop();
                self.done.insert(&record.name);
                found
            }
            Schema::Ref { name } => {
                if self.open.contains(&name) {
                    return Some(name.to_string());
                }
                match self.names.get(name) {
                    Some(named) => self.recursion(named),
                    None => None,
                }
            }
            Schema::Array(array) => self.recursion(&array.items),
            Schema::Map(map) => self.recursion(&map.types),
            Schema::Union(union) => union
                .variants()
                .iter()
                .find_map(|variant| self.recursion(variant)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
