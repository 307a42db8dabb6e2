//! `docs/ingest.md`, "Avro raw messages", and the schemas of `schemas/raw/` behave as
//! documented: the settings block parses, the example schema is the recommended one, its example
//! record converts to the documented object, and every recommended schema is usable.

mod doc_blocks;

use std::path::Path;

use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use serde_json::Value;
use sxfleet_ingest::avro_raw::{decode, writer_schema};
use sxfleet_ingest::{normalize_map, NormalizerConfig, RawContext};
use sxfleet_schemas::Source;

/// The fenced blocks of the section, by info string.
fn blocks() -> Vec<(String, String)> {
    doc_blocks::fenced_blocks(include_str!("../../docs/ingest.md"), "## Avro raw messages")
}

fn block(info: &str) -> String {
    blocks()
        .into_iter()
        .find(|(i, _)| i == info)
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("no ```{info} block in the Avro section"))
}

fn raw_schema(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../schemas/raw/{name}.avsc"));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_documented_settings_parse() {
    let config: NormalizerConfig = toml::from_str(&block("toml")).unwrap();
    let registry = config.schema_registry.unwrap();
    assert_eq!(registry.url.as_str(), "http://registry.internal:8081/");
    assert_eq!(registry.max_outage, std::time::Duration::from_secs(60));
    assert_eq!(registry.basic_auth.as_ref().unwrap().username, "sxfleet");
    assert!(!format!("{registry:?}").contains("\"...\""));
}

#[test]
fn the_documented_record_converts_to_the_documented_object() {
    let schema_text = block("json schema");
    let schema = writer_schema(1, &schema_text).unwrap();
    let recommended = Schema::parse_str(&raw_schema("Link")).unwrap();
    assert_eq!(schema.canonical_form(), recommended.canonical_form());

    let value: Value = serde_json::from_str(&block("json avro-value")).unwrap();
    let value = Avro::try_from(value).unwrap().resolve(&schema).unwrap();
    let datum = GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap();
    let object = decode(1, &schema, &datum).unwrap();
    let converted: Value = serde_json::from_str(&block("json converted")).unwrap();
    assert_eq!(Value::Object(object.clone()), converted);
    let ctx = RawContext {
        source: Source::KafkaRaw,
        received_ms: 1_767_225_700_000,
    };
    assert!(normalize_map(&NormalizerConfig::default(), &object, ctx).is_ok());
}

#[test]
fn every_recommended_schema_is_usable_and_replay_items_match_their_own_schemas() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/raw");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "avsc"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["Heartbeat", "Link", "Register", "Replay", "Snapshot"]
    );
    for (id, name) in names.iter().enumerate() {
        writer_schema(id as u32, &raw_schema(name)).unwrap_or_else(|r| panic!("{name}: {r:?}"));
    }
    let replay: Value = serde_json::from_str(&raw_schema("Replay")).unwrap();
    let events = replay["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|field| field["name"] == "events")
        .unwrap();
    let items = events["type"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        let mut standalone = item.clone();
        standalone["namespace"] = replay["namespace"].clone();
        let nested = Schema::parse(&standalone).unwrap();
        let name = item["name"].as_str().unwrap();
        let own = Schema::parse_str(&raw_schema(name)).unwrap();
        assert_eq!(nested.canonical_form(), own.canonical_form(), "{name}");
    }
}
