//! The Avro -> JSON mapping, schema checks, and property tests over corrupt datums.

use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use proptest::prelude::*;
use serde_json::json;
use sxfleet_schemas::Source;

use super::*;
use crate::config::NormalizerConfig;
use crate::context::RawContext;
use crate::normalize::normalize_map;

const ID: u32 = 7;

fn parsed(text: &str) -> Schema {
    writer_schema(ID, text).unwrap()
}

/// Encodes `value` (JSON, resolved against `schema` by apache-avro) as an Avro datum.
fn encode(schema: &Schema, value: Value) -> Vec<u8> {
    let value = Avro::try_from(value).unwrap().resolve(schema).unwrap();
    encode_avro(schema, value)
}

fn encode_avro(schema: &Schema, value: Avro) -> Vec<u8> {
    GenericDatumWriter::builder(schema)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap()
}

fn framed(datum: &[u8]) -> Vec<u8> {
    let mut raw = vec![0];
    raw.extend_from_slice(&ID.to_be_bytes());
    raw.extend_from_slice(datum);
    raw
}

fn code(result: Result<impl std::fmt::Debug, Rejection>) -> ReasonCode {
    result.unwrap_err().code
}

/// A heartbeat as producers are advised to write it (see `schemas/raw/Heartbeat.avsc`).
const HEARTBEAT: &str = r#"{"type": "record", "name": "Heartbeat", "namespace": "t",
  "fields": [
    {"name": "type", "type": "string"},
    {"name": "node_id", "type": "string"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "seq", "type": "long"},
    {"name": "event_id", "type": ["null", "string"], "default": null},
    {"name": "rtt_ms", "type": ["null", "double"], "default": null},
    {"name": "loss_pct", "type": ["null", "float"], "default": null},
    {"name": "health", "type": ["null", {"type": "enum", "name": "Health",
                                          "symbols": ["OK", "DEGRADED", "FAILED", "UNKNOWN"]}],
     "default": null},
    {"name": "uptime_s", "type": ["null", "long"], "default": null}]}"#;

fn heartbeat_value() -> Value {
    json!({"type": "heartbeat", "node_id": "n-1", "ts": 1_767_225_600_123i64, "seq": 4,
           "rtt_ms": 12.5, "loss_pct": 0.1, "health": "DEGRADED"})
}

#[test]
fn a_heartbeat_becomes_the_raw_contract_object_with_nulls_left_out() {
    let schema = parsed(HEARTBEAT);
    let object = decode(ID, &schema, &encode(&schema, heartbeat_value())).unwrap();
    assert_eq!(
        Value::Object(object.clone()),
        json!({"type": "heartbeat", "node_id": "n-1", "ts": "2026-01-01T00:00:00.123Z",
               "seq": 4, "rtt_ms": 12.5, "loss_pct": 0.1, "health": "DEGRADED"})
    );
    // And it normalizes like the same message written as JSON.
    let ctx = RawContext {
        source: Source::KafkaRaw,
        received_ms: 1_767_225_600_500,
    };
    let from_avro = normalize_map(&NormalizerConfig::default(), &object, ctx).unwrap();
    let json_text = br#"{"type":"heartbeat","node_id":"n-1","ts":"2026-01-01T00:00:00.123Z","seq":4,"rtt_ms":12.5,"loss_pct":0.1,"health":"degraded"}"#;
    let from_json = crate::normalize(&NormalizerConfig::default(), json_text, ctx).unwrap();
    assert_eq!(from_avro, from_json);
}

#[test]
fn every_avro_type_maps_as_documented() {
    let schema = parsed(
        r#"{"type": "record", "name": "All", "namespace": "t", "fields": [
          {"name": "b", "type": "boolean"},
          {"name": "i", "type": "int"},
          {"name": "l", "type": "long"},
          {"name": "f", "type": "float"},
          {"name": "d", "type": "double"},
          {"name": "s", "type": "string"},
          {"name": "raw", "type": "bytes"},
          {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
          {"name": "e", "type": {"type": "enum", "name": "Kind", "symbols": ["EDGE", "DC"]}},
          {"name": "arr", "type": {"type": "array", "items": ["null", "long"]}},
          {"name": "m", "type": {"type": "map", "values": "string"}},
          {"name": "nested", "type": {"type": "record", "name": "Inner", "fields": [
              {"name": "x", "type": ["null", "string"], "default": null},
              {"name": "y", "type": "long"}]}},
          {"name": "again", "type": "Inner"},
          {"name": "u", "type": ["null", "string", "long"]},
          {"name": "absent", "type": ["null", "string"], "default": null},
          {"name": "ts_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
          {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
          {"name": "ts_ns", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
          {"name": "local_ms", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
          {"name": "day", "type": {"type": "int", "logicalType": "date"}},
          {"name": "t_ms", "type": {"type": "int", "logicalType": "time-millis"}},
          {"name": "t_us", "type": {"type": "long", "logicalType": "time-micros"}},
          {"name": "id", "type": {"type": "string", "logicalType": "uuid"}}]}"#,
    );
    let value = Avro::Record(vec![
        ("b".into(), Avro::Boolean(true)),
        ("i".into(), Avro::Int(-3)),
        ("l".into(), Avro::Long(9_007_199_254_740_993)),
        ("f".into(), Avro::Float(0.1)),
        ("d".into(), Avro::Double(-2.5)),
        ("s".into(), Avro::String("é \"q\"".into())),
        ("raw".into(), Avro::Bytes(vec![0, 1, 2, 254, 255])),
        ("fx".into(), Avro::Fixed(4, vec![1, 2, 3, 4])),
        ("e".into(), Avro::Enum(1, "DC".into())),
        (
            "arr".into(),
            Avro::Array(vec![
                Avro::Union(1, Box::new(Avro::Long(1))),
                Avro::Union(0, Box::new(Avro::Null)),
            ]),
        ),
        (
            "m".into(),
            Avro::Map([("k".to_owned(), Avro::String("v".into()))].into()),
        ),
        (
            "nested".into(),
            Avro::Record(vec![
                (
                    "x".into(),
                    Avro::Union(1, Box::new(Avro::String("in".into()))),
                ),
                ("y".into(), Avro::Long(2)),
            ]),
        ),
        (
            "again".into(),
            Avro::Record(vec![
                ("x".into(), Avro::Union(0, Box::new(Avro::Null))),
                ("y".into(), Avro::Long(3)),
            ]),
        ),
        ("u".into(), Avro::Union(2, Box::new(Avro::Long(5)))),
        ("absent".into(), Avro::Union(0, Box::new(Avro::Null))),
        ("ts_ms".into(), Avro::TimestampMillis(-1)),
        ("ts_us".into(), Avro::TimestampMicros(1_767_225_600_000_001)),
        (
            "ts_ns".into(),
            Avro::TimestampNanos(1_767_225_600_123_456_789),
        ),
        ("local_ms".into(), Avro::LocalTimestampMillis(0)),
        ("day".into(), Avro::Date(20_454)),
        ("t_ms".into(), Avro::TimeMillis(3_723_004)),
        ("t_us".into(), Avro::TimeMicros(86_399_999_999)),
        (
            "id".into(),
            Avro::Uuid(apache_avro::Uuid::from_u128(
                0x0123_4567_89ab_cdef_0123_4567_89ab_cdef,
            )),
        ),
    ]);
    let object = decode(ID, &schema, &encode_avro(&schema, value)).unwrap();
    assert_eq!(
        Value::Object(object),
        json!({
            "b": true, "i": -3, "l": 9_007_199_254_740_993i64, "f": 0.1, "d": -2.5,
            "s": "é \"q\"", "raw": "AAEC/v8=", "fx": "AQIDBA==", "e": "DC",
            "arr": [1, null], "m": {"k": "v"},
            "nested": {"x": "in", "y": 2}, "again": {"y": 3}, "u": 5,
            "ts_ms": "1969-12-31T23:59:59.999Z",
            "ts_us": "2026-01-01T00:00:00.000001Z",
            "ts_ns": "2026-01-01T00:00:00.123456789Z",
            "local_ms": "1970-01-01T00:00:00.000",
            "day": "2026-01-01", "t_ms": "01:02:03.004", "t_us": "23:59:59.999999",
            "id": "01234567-89ab-cdef-0123-456789abcdef"
        })
    );
}

#[test]
fn values_without_a_json_form_are_rejected_with_their_path() {
    let schema = parsed(
        r#"{"type": "record", "name": "R", "namespace": "t", "fields": [
          {"name": "outer", "type": {"type": "array", "items": {"type": "record", "name": "I",
            "fields": [{"name": "x", "type": "double"}]}}}]}"#,
    );
    let value = Avro::Record(vec![(
        "outer".into(),
        Avro::Array(vec![
            Avro::Record(vec![("x".into(), Avro::Double(1.0))]),
            Avro::Record(vec![("x".into(), Avro::Double(f64::NAN))]),
        ]),
    )]);
    let rejection = decode(ID, &schema, &encode_avro(&schema, value)).unwrap_err();
    assert_eq!(rejection.code, ReasonCode::InvalidAvro);
    assert_eq!(
        rejection.detail,
        "writer schema 7: field `outer[1].x`: NaN is not a JSON number"
    );

    let decimal = schema_text_with(
        r#"{"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}"#,
    );
    let datum = [2, 0x01]; // one byte, unscaled 1: 0.01
    let rejection = decode(ID, &parsed(&decimal), &datum).unwrap_err();
    assert_eq!(rejection.code, ReasonCode::InvalidAvro);
    assert!(
        rejection.detail.contains("field `v`: decimal values"),
        "{}",
        rejection.detail
    );
}

fn schema_text_with(field_type: &str) -> String {
    format!(
        r#"{{"type": "record", "name": "One", "namespace": "t",
             "fields": [{{"name": "v", "type": {field_type}}}]}}"#
    )
}

#[test]
fn writer_schemas_must_be_non_recursive_records() {
    assert_eq!(code(writer_schema(1, "not json")), ReasonCode::InvalidAvro);
    assert_eq!(
        code(writer_schema(1, r#""string""#)),
        ReasonCode::InvalidAvro
    );
    assert_eq!(
        code(writer_schema(
            1,
            r#"{"type": "enum", "name": "E", "symbols": ["A"]}"#
        )),
        ReasonCode::InvalidAvro
    );
    let recursive = r#"{"type": "record", "name": "Node", "fields": [
        {"name": "children", "type": {"type": "array", "items": "Node"}}]}"#;
    let rejection = writer_schema(3, recursive).unwrap_err();
    assert_eq!(rejection.code, ReasonCode::InvalidAvro);
    assert!(
        rejection.detail.contains("recursive"),
        "{}",
        rejection.detail
    );
    let indirect = r#"{"type": "record", "name": "A", "fields": [
        {"name": "b", "type": ["null", {"type": "record", "name": "B", "fields": [
            {"name": "a", "type": ["null", "A"]}]}]}]}"#;
    assert_eq!(code(writer_schema(3, indirect)), ReasonCode::InvalidAvro);
    // A named type used twice is not recursion.
    let reused = r#"{"type": "record", "name": "Pair", "fields": [
        {"name": "l", "type": {"type": "record", "name": "P", "fields": [{"name": "x", "type": "int"}]}},
        {"name": "r", "type": "P"}]}"#;
    assert!(writer_schema(3, reused).is_ok());
}

#[test]
fn headers_and_datums_that_do_not_fit_are_rejected() {
    assert_eq!(code(split(&[0, 0, 0])), ReasonCode::InvalidAvro);
    assert_eq!(split(&framed(&[9, 9])).unwrap(), (ID, &[9u8, 9][..]));
    let schema = parsed(HEARTBEAT);
    let datum = encode(&schema, heartbeat_value());
    // Cut inside a required field, and cut before the trailing optional field.
    let truncated = decode(ID, &schema, &datum[..3]).unwrap_err();
    assert_eq!(truncated.code, ReasonCode::InvalidAvro);
    assert!(
        truncated
            .detail
            .contains("does not decode with writer schema 7"),
        "{}",
        truncated.detail
    );
    let truncated = decode(ID, &schema, &datum[..datum.len() - 1]).unwrap_err();
    assert_eq!(
        truncated.detail,
        "the datum ends before its writer schema 7 does"
    );
    let mut longer = datum.clone();
    longer.push(0);
    let rejection = decode(ID, &schema, &longer).unwrap_err();
    assert_eq!(
        rejection.detail,
        "1 bytes left after the datum of writer schema 7"
    );
}

proptest! {
    #[test]
    fn arbitrary_datums_never_panic_and_fail_with_a_reason(
        datum in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let schema = parsed(HEARTBEAT);
        if let Err(rejection) = decode(ID, &schema, &datum) {
            prop_assert_eq!(rejection.code, ReasonCode::InvalidAvro);
            prop_assert!(!rejection.detail.is_empty());
        }
    }

    #[test]
    fn mutated_datums_decode_to_an_object_or_a_rejection(
        cut in 0usize..64,
        flip in 0usize..64,
        byte in any::<u8>(),
        extra in proptest::collection::vec(any::<u8>(), 0..4),
    ) {
        let schema = parsed(HEARTBEAT);
        let mut datum = encode(&schema, heartbeat_value());
        if flip < datum.len() {
            datum[flip] = byte;
        }
        datum.truncate(cut);
        datum.extend(extra);
        let ctx = RawContext { source: Source::KafkaRaw, received_ms: 1_767_225_600_500 };
        match decode(ID, &schema, &datum) {
            // Still a valid datum: the contract decides, with a reason when it rejects.
            Ok(object) => match normalize_map(&NormalizerConfig::default(), &object, ctx) {
                Ok(records) => prop_assert!(!records.is_empty()),
                Err(rejected) => prop_assert!(!rejected.rejection.detail.is_empty()),
            },
            Err(rejection) => {
                prop_assert_eq!(rejection.code, ReasonCode::InvalidAvro);
                prop_assert!(!rejection.detail.is_empty());
            }
        }
    }
}
