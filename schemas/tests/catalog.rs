//! Every schema parses, the catalog is consistent with the files on disk, the schemas follow the
//! house rules (docs, nullable defaults, timestamp logical types) and the Rust enums match them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use apache_avro::Schema;
use serde_json::Value;
use sxfleet_schemas::catalog::{self, ids, CATALOG, NAMESPACE, SHARED_TYPES};
use sxfleet_schemas::*;

fn expanded(id: u32) -> Value {
    serde_json::from_str(expanded_schema_json(id).unwrap()).unwrap()
}

#[test]
fn every_catalog_schema_parses_and_expands_standalone() {
    for entry in CATALOG {
        let parsed = schema(entry.id).unwrap_or_else(|e| panic!("{}: {e:?}", entry.name));
        let name = parsed.name().expect("top-level schema is named");
        assert_eq!(name.name(), entry.name);
        assert_eq!(name.namespace(), Some(NAMESPACE));
        // The expanded JSON needs no other schema.
        let alone = Schema::parse_str(expanded_schema_json(entry.id).unwrap()).unwrap();
        assert_eq!(
            alone.canonical_form(),
            parsed.canonical_form(),
            "{}",
            entry.name
        );
        // The source text names the same record.
        let source: Value = serde_json::from_str(entry.avsc).unwrap();
        assert_eq!(source["name"], entry.name);
        assert_eq!(source["namespace"], NAMESPACE);
    }
}

#[test]
fn shared_types_parse_on_their_own() {
    let parsed = Schema::parse_list(SHARED_TYPES.iter().map(|s| s.avsc)).unwrap();
    let names: Vec<_> = parsed
        .iter()
        .map(|s| s.name().unwrap().name().to_owned())
        .collect();
    let expected: Vec<_> = SHARED_TYPES.iter().map(|s| s.name.to_owned()).collect();
    assert_eq!(names, expected);
}

#[test]
fn ids_and_names_are_unique_and_fixed() {
    let ids: BTreeSet<_> = CATALOG.iter().map(|e| e.id).collect();
    let names: BTreeSet<_> = CATALOG.iter().map(|e| e.name).collect();
    assert_eq!(ids.len(), CATALOG.len());
    assert_eq!(names.len(), CATALOG.len());
    assert_eq!(FleetEvent::SCHEMA_ID, 1027);
    assert_eq!(ControlEvent::SCHEMA_ID, 1026);
    assert_eq!(Node::SCHEMA_ID, 1028);
    assert_eq!(Command::SCHEMA_ID, 1030);
    assert_eq!(CommandStatus::SCHEMA_ID, 1031);
    assert_eq!(Domain::SCHEMA_ID, 1024);
    assert_eq!(BundleVersion::SCHEMA_ID, 1025);
    assert_eq!(Observation::SCHEMA_ID, 1029);
    assert_eq!(catalog::ids::NODE_V1, 1003);
    assert_eq!(DeadLetter::SCHEMA_ID, 1004);
    assert_eq!(
        [
            Relay::SCHEMA_ID,
            Domain::SCHEMA_ID,
            PolicyBundle::SCHEMA_ID,
            Observation::SCHEMA_ID
        ],
        [
            ids::RELAY,
            ids::DOMAIN,
            ids::POLICY_BUNDLE,
            ids::OBSERVATION
        ]
    );
    assert_eq!(
        [Command::SCHEMA_ID, Artifact::SCHEMA_ID, Timeline::SCHEMA_ID],
        [1030, 1010, 1011]
    );
    assert_eq!(StateTransition::SCHEMA_ID, ids::STATE_TRANSITION);
    assert_eq!(StateTransition::SCHEMA_ID, 1019);
    assert_eq!(
        catalog::previous_by_id(1012).unwrap().name,
        "StateTransition"
    );
    assert_eq!(
        catalog::by_name("StateTransition").unwrap().topic,
        Some("fleet.transitions.v1")
    );
    assert_eq!(catalog::by_id(1028).unwrap().name, "Node");
    for (id, name) in [
        (1016, "Node"),
        (1017, "FleetEvent"),
        (1002, "ControlEvent"),
        (1006, "Domain"),
        (1018, "Observation"),
        (1020, "ControlEvent"),
        (1021, "FleetEvent"),
        (1022, "Observation"),
        (1023, "Node"),
        (1009, "Command"),
    ] {
        assert_eq!(catalog::previous_by_id(id).unwrap().name, name, "{id}");
    }
    assert_eq!(
        catalog::by_name("Domain").unwrap().topic,
        Some("fleet.domains.v1")
    );
    assert_eq!(
        catalog::by_name("BundleVersion").unwrap().topic,
        Some("fleet.bundles.v1")
    );
    assert_eq!(catalog::previous_by_id(1003).unwrap().name, "Node");
    assert_eq!(
        catalog::by_name("DeadLetter").unwrap().topic,
        Some("fleet.dlq.v1")
    );
    assert!(catalog::by_id(1).is_none());
    assert_eq!(FleetEvent::avsc(), catalog::FLEET_EVENT.avsc);
    assert!(std::ptr::eq(
        FleetEvent::schema().unwrap(),
        schema(1027).unwrap()
    ));
}

fn stems(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "avsc"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_avsc_file_is_in_the_catalog() {
    let avro = Path::new(env!("CARGO_MANIFEST_DIR")).join("avro");
    let top: BTreeSet<String> = CATALOG.iter().map(|e| e.name.to_owned()).collect();
    assert_eq!(stems(&avro), top, "avro/*.avsc vs catalog::CATALOG");
    let shared: BTreeSet<String> = SHARED_TYPES.iter().map(|s| s.name.to_owned()).collect();
    assert_eq!(
        stems(&avro.join("common")),
        shared,
        "avro/common/*.avsc vs SHARED_TYPES"
    );
}

/// `_ms` fields that are durations, not instants.
const DURATIONS_MS: &[&str] = &[
    "rtt_ms",
    "latency_ms",
    "sync_interval_ms",
    "stale_by_ms",
    "drift_age_ms",
    "frequency_ms",
];

fn undocumented(node: &serde_json::Map<String, Value>) -> bool {
    node.get("doc")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
}

/// Walks an expanded schema and reports every house-rule violation.
fn lint(schema: &Value, path: &str, problems: &mut Vec<String>) {
    match schema {
        Value::Array(branches) => {
            if branches.len() != 2 || branches[0] != "null" {
                problems.push(format!("{path}: union is not [\"null\", T]"));
            }
            for b in branches {
                lint(b, path, problems);
            }
        }
        Value::Object(obj) => {
            let kind = obj["type"].as_str();
            if matches!(kind, Some("record" | "enum")) {
                if undocumented(obj) {
                    problems.push(format!("{path}: named type has no doc"));
                }
                if obj.get("namespace").is_some_and(|ns| ns != NAMESPACE) {
                    problems.push(format!("{path}: namespace {}", obj["namespace"]));
                }
            }
            match kind {
                Some("record") => {
                    for field in obj["fields"].as_array().unwrap() {
                        lint_field(field.as_object().unwrap(), path, problems);
                    }
                }
                Some("array") => lint(&obj["items"], path, problems),
                Some("map") => lint(&obj["values"], path, problems),
                _ => {}
            }
        }
        _ => {}
    }
}

fn lint_field(field: &serde_json::Map<String, Value>, path: &str, problems: &mut Vec<String>) {
    let name = field["name"].as_str().unwrap();
    let path = format!("{path}.{name}");
    if undocumented(field) {
        problems.push(format!("{path}: no doc"));
    }
    let ty = &field["type"];
    if ty.is_array() && field.get("default") != Some(&Value::Null) {
        problems.push(format!("{path}: optional field without \"default\": null"));
    }
    if name.ends_with("_ms") && !DURATIONS_MS.contains(&name) {
        let inner = if ty.is_array() { &ty[1] } else { ty };
        if inner["logicalType"] != "timestamp-millis" || inner["type"] != "long" {
            problems.push(format!("{path}: _ms field is not timestamp-millis"));
        }
    }
    lint(ty, &path, problems);
}

#[test]
fn schemas_follow_the_house_rules() {
    for entry in CATALOG {
        let mut problems = Vec::new();
        lint(&expanded(entry.id), entry.name, &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

#[test]
fn the_lint_catches_violations() {
    let bad = serde_json::json!({
        "type": "record", "name": "Bad", "doc": "d",
        "fields": [
            {"name": "a", "type": ["null", "string"], "doc": "no default"},
            {"name": "b_ms", "type": "long", "doc": "plain long"},
            {"name": "c", "type": "string"},
        ]
    });
    let mut problems = Vec::new();
    lint(&bad, "Bad", &mut problems);
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

/// Every enum of the expanded schemas: name -> symbols.
fn avro_enums(schema: &Value, out: &mut BTreeMap<String, Vec<String>>) {
    match schema {
        Value::Array(items) => items.iter().for_each(|v| avro_enums(v, out)),
        Value::Object(obj) => {
            if obj.get("type") == Some(&Value::from("enum")) {
                let symbols = obj["symbols"].as_array().unwrap();
                let symbols = symbols
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect();
                out.insert(obj["name"].as_str().unwrap().to_owned(), symbols);
            }
            obj.values().for_each(|v| avro_enums(v, out));
        }
        _ => {}
    }
}

fn rust_symbols<T: AvroEnum>() -> (String, Vec<String>) {
    let symbols = T::ALL.iter().map(|v| v.symbol().to_owned()).collect();
    (T::AVRO_NAME.to_owned(), symbols)
}

#[test]
fn rust_enums_match_avro_symbols_in_order() {
    let mut avro = BTreeMap::new();
    for entry in CATALOG {
        avro_enums(&expanded(entry.id), &mut avro);
    }
    let rust: BTreeMap<String, Vec<String>> = [
        rust_symbols::<Source>(),
        rust_symbols::<EventKind>(),
        rust_symbols::<NodeKind>(),
        rust_symbols::<Health>(),
        rust_symbols::<AuthorityLevel>(),
        rust_symbols::<DomainLevel>(),
        rust_symbols::<ConnectivityMode>(),
        rust_symbols::<LifecyclePhase>(),
        rust_symbols::<AttestationResult>(),
        rust_symbols::<LinkState>(),
        rust_symbols::<ReplayPhase>(),
        rust_symbols::<ControlKind>(),
        rust_symbols::<AssignTarget>(),
        rust_symbols::<RelayKind>(),
        rust_symbols::<ObservationKind>(),
        rust_symbols::<Delivery>(),
        rust_symbols::<ArtifactKind>(),
        rust_symbols::<TransitionMachine>(),
        rust_symbols::<SyncDirection>(),
        rust_symbols::<EdgeRelation>(),
        rust_symbols::<EdgeState>(),
        rust_symbols::<CommandKind>(),
        rust_symbols::<CommandTarget>(),
        rust_symbols::<AckStatus>(),
        rust_symbols::<CommandState>(),
    ]
    .into_iter()
    .collect();
    assert_eq!(rust, avro);
}

#[test]
fn enum_helpers_agree_with_serde() {
    for mode in ConnectivityMode::ALL {
        assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
        assert_eq!(ConnectivityMode::from_symbol(mode.as_str()), Some(*mode));
        assert_eq!(mode.to_string(), mode.symbol());
    }
    assert_eq!(ConnectivityMode::from_symbol("live"), None);
    assert_eq!(EventKind::Snapshot.payload_field(), Some("snapshot"));
    assert_eq!(
        ControlKind::PolicyBundle.payload_field(),
        Some("policy_bundle")
    );
}
