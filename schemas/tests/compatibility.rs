//! Schema evolution: every current schema must be fully compatible, both ways, with every
//! released version of it (`avro/released/<Name>.v<N>.avsc`), and the check must be able to fail.

use std::path::{Path, PathBuf};

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use apache_avro::Schema;
use serde_json::{json, Value};
use sxfleet_schemas::catalog::{self, CATALOG};
use sxfleet_schemas::{
    encode, schema, Canonical, EventPayload, FleetEvent, Link, LinkState, Source,
};

fn released_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("avro/released")
}

/// Every released snapshot: (schema name, version, path).
fn released() -> Vec<(String, u32, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(released_dir()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let stem = file
            .strip_suffix(".avsc")
            .unwrap_or_else(|| panic!("{file}: not .avsc"));
        let (name, version) = stem
            .rsplit_once(".v")
            .unwrap_or_else(|| panic!("{file}: not <Name>.v<N>.avsc"));
        let version = version
            .parse()
            .unwrap_or_else(|_| panic!("{file}: bad version"));
        out.push((name.to_owned(), version, path));
    }
    out.sort();
    out
}

fn parse_file(path: &Path) -> Schema {
    Schema::parse_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `reader` can read everything `writer` wrote. Partial compatibility (e.g. an enum symbol the
/// reader lacks, without a default) counts as a failure.
fn can_read(writer: &Schema, reader: &Schema) -> Result<(), String> {
    match SchemaCompatibility::can_read(writer, reader) {
        Ok(Compatibility::Full) => Ok(()),
        Ok(Compatibility::Partial) => Err("only partially compatible".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

/// Full (forward + backward) compatibility between a released version and the current schema.
fn fully_compatible(released: &Schema, current: &Schema) -> Result<(), String> {
    can_read(released, current).map_err(|e| format!("current cannot read released data: {e}"))?;
    can_read(current, released)
        .map_err(|e| format!("released readers cannot read current data: {e}"))
}

#[test]
fn every_released_snapshot_belongs_to_the_catalog() {
    let snapshots = released();
    assert!(!snapshots.is_empty());
    for (name, version, path) in &snapshots {
        let entry =
            catalog::by_name(name).unwrap_or_else(|| panic!("{}: unknown schema", path.display()));
        assert!(
            *version >= 1 && *version <= entry.version,
            "{}: version",
            path.display()
        );
        assert_eq!(parse_file(path).name().unwrap().name(), name.as_str());
    }
}

/// The current text encodes exactly like the released snapshot of its version (same Parsing
/// Canonical Form), so bytes written today are bytes of that version. Changing a schema's shape
/// means releasing a new version (see schemas/README.md).
#[test]
fn current_schemas_match_the_snapshot_of_their_version() {
    for entry in CATALOG {
        let path = released_dir().join(format!("{}.v{}.avsc", entry.name, entry.version));
        assert!(
            path.exists(),
            "{} has no released snapshot {}",
            entry.name,
            path.display()
        );
        let current = schema(entry.id).unwrap();
        assert_eq!(
            parse_file(&path).canonical_form(),
            current.canonical_form(),
            "{} differs from {}: release a new version (schemas/README.md)",
            entry.name,
            path.display()
        );
    }
}

#[test]
fn current_schemas_are_fully_compatible_with_every_released_version() {
    for (name, version, path) in released() {
        let entry = catalog::by_name(&name).unwrap();
        let current = schema(entry.id).unwrap();
        if let Err(problem) = fully_compatible(&parse_file(&path), current) {
            panic!("{name} is not fully compatible with released v{version}: {problem}");
        }
    }
}

fn released_json(name: &str) -> Value {
    let path = released_dir().join(format!("{name}.v1.avsc"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The named type `name` anywhere inside `schema`.
fn named_mut<'a>(schema: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    let is_it = schema.get("name").and_then(Value::as_str) == Some(name)
        && matches!(
            schema.get("type").and_then(Value::as_str),
            Some("record" | "enum")
        );
    if is_it {
        return Some(schema);
    }
    match schema {
        Value::Array(items) => items.iter_mut().find_map(|v| named_mut(v, name)),
        Value::Object(map) => map.values_mut().find_map(|v| named_mut(v, name)),
        _ => None,
    }
}

fn mutated(name: &str, record: &str, change: impl FnOnce(&mut Value)) -> Schema {
    let mut json = released_json(name);
    change(named_mut(&mut json, record).unwrap());
    Schema::parse(&json).unwrap()
}

fn field_mut<'a>(record: &'a mut Value, field: &str) -> &'a mut Value {
    let fields = record["fields"].as_array_mut().unwrap();
    fields.iter_mut().find(|f| f["name"] == field).unwrap()
}

#[test]
fn breaking_changes_are_reported_incompatible() {
    let v1 = parse_file(&released_dir().join("FleetEvent.v1.avsc"));

    // A new required field without a default: the new reader cannot read v1 data.
    let new_required = mutated("FleetEvent", "FleetEvent", |r| {
        r["fields"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "tenant", "type": "string", "doc": "d"}));
    });
    let err = fully_compatible(&v1, &new_required).unwrap_err();
    assert!(
        err.starts_with("current cannot read released data"),
        "{err}"
    );

    // A removed symbol of a closed enum: v1 data may carry it.
    let removed_symbol = mutated("FleetEvent", "ReplayPhase", |e| {
        e["symbols"] = json!(["BEGIN", "CHUNK"]);
    });
    assert!(fully_compatible(&v1, &removed_symbol).is_err());

    // A removed field without default: v1 readers cannot read new data.
    let removed_field = mutated("FleetEvent", "FleetEvent", |r| {
        r["fields"]
            .as_array_mut()
            .unwrap()
            .retain(|f| f["name"] != "replayed");
    });
    let err = fully_compatible(&v1, &removed_field).unwrap_err();
    assert!(
        err.starts_with("released readers cannot read current data"),
        "{err}"
    );

    // A narrowed type: long -> int.
    let narrowed = mutated("FleetEvent", "FleetEvent", |r| {
        field_mut(r, "seq")["type"] = json!("int");
    });
    assert!(fully_compatible(&v1, &narrowed).is_err());

    // The same for a nested shared type in another schema.
    let node_v1 = parse_file(&released_dir().join("Node.v1.avsc"));
    let renamed = mutated("Node", "Hardware", |r| {
        field_mut(r, "serial")["name"] = json!("serial_number");
        field_mut(r, "serial_number")
            .as_object_mut()
            .unwrap()
            .remove("default");
    });
    assert!(fully_compatible(&node_v1, &renamed).is_err());
}

#[test]
fn compatible_changes_pass_and_resolve() {
    let v1 = parse_file(&released_dir().join("FleetEvent.v1.avsc"));
    // An optional field with default null and a new symbol on an enum with a default.
    let evolved = mutated("FleetEvent", "FleetEvent", |r| {
        r["fields"].as_array_mut().unwrap().push(json!({
            "name": "tenant", "type": ["null", "string"], "default": null, "doc": "d"
        }));
        field_mut(r, "source")["type"]["symbols"] =
            json!(["KAFKA_RAW", "HTTP", "REPLAY", "UNKNOWN", "MQTT"]);
    });
    fully_compatible(&v1, &evolved).unwrap();

    // And data written today really resolves to the evolved reader schema.
    let event = FleetEvent {
        event_id: "e".into(),
        node_id: "n".into(),
        seq: 1,
        event_time_ms: 2,
        received_ms: 3,
        source: Source::Http,
        replayed: false,
        payload: EventPayload::Link(Link {
            state: LinkState::Lost,
            via: None,
        }),
    };
    let bytes = encode(&event).unwrap();
    let reader = GenericDatumReader::builder(FleetEvent::schema().unwrap())
        .reader_schema(&evolved)
        .build()
        .unwrap();
    let value = reader.read_value(&mut &bytes[5..]).unwrap();
    let apache_avro::types::Value::Record(fields) = value else {
        panic!("not a record: {value:?}");
    };
    let tenant = fields.iter().find(|(name, _)| name == "tenant").unwrap();
    assert_eq!(
        tenant.1,
        apache_avro::types::Value::Union(0, Box::new(apache_avro::types::Value::Null))
    );
}
