//! The `commands` table and node_state's Node v4 columns: row building, Enum8 codes, DDL and
//! Arrow columns.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Int32Type, Int64Type};
use sxfleet_schemas::{AvroEnum, CommandKind, CommandState, CommandTarget, Delivery};

use crate::caps::ServerCaps;
use crate::samples::{self, commands, T0};
use crate::tables::arrow::record_batch;
use crate::tables::commands::{command_row, create, CommandRow, Commands};
use crate::tables::enums::{self, enum8_code, Enum8Values};
use crate::tables::node_state::{node_state_row, NodeState};
use crate::tables::{Coords, RowError, Table};

const AT: Coords<'static> = Coords {
    topic: "t.command-status",
    partition: 2,
    offset: 17,
};

#[test]
fn every_command_symbol_has_its_own_enum8_code() {
    fn check<E: AvroEnum>(values: Enum8Values) {
        for variant in E::ALL {
            assert!(
                enum8_code(values, variant.symbol()).is_some(),
                "{}",
                variant.symbol()
            );
        }
        assert_eq!(values.len(), E::ALL.len(), "{}", E::AVRO_NAME);
    }
    check::<CommandTarget>(enums::COMMAND_TARGET);
    check::<CommandKind>(enums::COMMAND_KIND);
    check::<Delivery>(enums::DELIVERY);
    check::<CommandState>(enums::COMMAND_STATE);
    for values in [
        enums::COMMAND_TARGET,
        enums::COMMAND_KIND,
        enums::DELIVERY,
        enums::COMMAND_STATE,
        enums::LIFECYCLE_PHASE,
    ] {
        for (i, (name, code)) in values.iter().enumerate() {
            for (other_name, other_code) in &values[i + 1..] {
                assert_ne!((name, code), (other_name, other_code));
                assert_ne!(code, other_code, "{name} {other_name}");
            }
        }
    }
    // Widening keeps every code of the shipped type.
    assert_eq!(&enums::LIFECYCLE_PHASE[..8], enums::LIFECYCLE_PHASE_V1);
}

#[test]
fn a_status_record_maps_every_column() {
    let statuses = commands::statuses();
    let lost = statuses
        .iter()
        .find(|s| s.command_id == "cmd-8" && s.status == CommandState::Lost)
        .unwrap();
    let expected = CommandRow {
        command_id: "cmd-8".into(),
        idempotency_key: "cmd-8".into(),
        node_id: "edge-2".into(),
        domain_id: "edge-zone-a1".into(),
        target_kind: 1,
        target_id: "edge-2".into(),
        kind: 3,
        delivery: 1,
        status: 9,
        reason: "no_ack".into(),
        at: 1_772_000_310,
        at_ms: T0 + 310_000,
        attempts: 1,
        issued_ms: T0,
        expires_ms: T0 + 3_600_000,
        controller_id: "region-a-control".into(),
        rollout: String::new(),
        seq: 3,
        topic: "t.command-status".into(),
        partition: 2,
        offset: 17,
    };
    assert_eq!(command_row(lost, AT).unwrap(), expected);
    let rollout = statuses
        .iter()
        .find(|s| s.rollout.as_deref() == Some("fw@1.9.0"))
        .unwrap();
    let row = command_row(rollout, AT).unwrap();
    assert_eq!(
        (row.rollout.as_str(), row.kind, row.expires_ms),
        ("fw@1.9.0", 2, 0)
    );
    let rogue = statuses.iter().find(|s| s.node_id.is_empty()).unwrap();
    let row = command_row(rogue, AT).unwrap();
    assert_eq!((row.target_kind, row.status, row.seq), (2, 10, 0));
    assert_eq!(crate::tables::SourceRow::node_id(&row), "");
}

#[test]
fn a_negative_seq_is_an_error() {
    let mut status = commands::statuses().remove(0);
    status.seq = -1;
    assert_eq!(
        command_row(&status, AT),
        Err(RowError::Negative {
            field: "seq",
            value: -1
        })
    );
}

#[test]
fn the_table_collapses_a_record_written_twice_and_has_the_arrow_columns() {
    for version in ["18.16.1", "24.8.4.13"] {
        let caps = ServerCaps::from_version(version).unwrap();
        let sql = create("db", &caps);
        assert!(sql.contains("ENGINE = ReplacingMergeTree()"), "{sql}");
        assert!(
            sql.contains("ORDER BY (node_id, command_id, seq, status)"),
            "{sql}"
        );
        assert!(
            sql.contains("status Enum8('UNKNOWN' = 0, 'ACCEPTED' = 1,"),
            "{sql}"
        );
        assert_eq!(sql.contains("LowCardinality"), version != "18.16.1");
    }
    let rows: Vec<CommandRow> = commands::statuses()
        .iter()
        .map(|s| command_row(s, AT).unwrap())
        .collect();
    let refs: Vec<&CommandRow> = rows.iter().collect();
    let batch = record_batch(Commands::NAME, &Commands::columns(), &refs).unwrap();
    let status = batch.column_by_name("status").unwrap().as_string::<i32>();
    assert_eq!((status.value(0), status.value(1)), ("ACCEPTED", "HELD"));
    let attempts = batch.column_by_name("attempts").unwrap();
    assert_eq!(attempts.as_primitive::<Int32Type>().value(4), 3);
}

#[test]
fn a_twin_in_maintenance_reads_maintenance_with_its_commands() {
    let twins = commands::twins();
    let edge_2 = twins.iter().find(|t| t.id == "edge-2").unwrap();
    let row = node_state_row(edge_2, AT).unwrap();
    assert_eq!(row.lifecycle_phase, 9);
    assert_eq!(
        (
            row.commands_pending,
            row.commands_held,
            row.maintenance_since_ms
        ),
        (1, 1, commands::MAINTENANCE_SINCE)
    );
    // Outside MAINTENANCE the Avro phase; the full sample sets every Node v4 field.
    let row = node_state_row(&samples::node("edge-7", 1), AT).unwrap();
    assert_eq!(row.lifecycle_phase, 6);
    assert_eq!((row.commands_pending, row.commands_held), (2, 1));
    assert_eq!(row.maintenance_since_ms, T0 - 65);
    let batch = record_batch(NodeState::NAME, &NodeState::columns(), &[&row]).unwrap();
    let since = batch.column_by_name("maintenance_since_ms").unwrap();
    assert_eq!(since.as_primitive::<Int64Type>().value(0), T0 - 65);
}
