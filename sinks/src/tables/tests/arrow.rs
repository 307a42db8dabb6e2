//! Arrow conversion: schemas follow the DDL, values and nulls land in their columns.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Float64Type, Int32Type, Int64Type, TimeUnit, TimestampSecondType, UInt64Type,
    UInt8Type,
};

use datafusion::arrow::array::RecordBatch;

use crate::samples::{self, T0};
use crate::tables::alerts::{self, Alerts};
use crate::tables::arrow::{record_batch, schema, ConvertError};
use crate::tables::authority_audit::{self, AuthorityAudit};
use crate::tables::commands::{self, Commands};
use crate::tables::ddl::{table, Step};
use crate::tables::dlq::{self, dlq_row, Dlq};
use crate::tables::domains::{self, Domains};
use crate::tables::drift_evaluations::{self, DriftEvaluations};
use crate::tables::events::{self, event_row, Events};
use crate::tables::node_state::{self, node_state_row, NodeState};
use crate::tables::policy_bundles::{self, PolicyBundles};
use crate::tables::transitions::{self, transition_row, Transitions};
use crate::tables::{Coords, Table};

const AT: Coords<'static> = Coords {
    topic: "t.events",
    partition: 3,
    offset: 41,
};

fn names<T: Table>() -> Vec<String> {
    schema(&T::columns())
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// `rows` of table `T` as one record batch.
fn batch_of<T: Table>(rows: &[&T::Row]) -> Result<RecordBatch, ConvertError> {
    record_batch(T::NAME, &T::columns(), rows)
}

/// The column names of the `CREATE TABLE` statement, in order.
fn ddl_columns(create: &str) -> Vec<String> {
    let body = create
        .split_once("(\n")
        .and_then(|(_, rest)| rest.split_once("\n)"))
        .map(|(body, _)| body)
        .unwrap_or_default();
    body.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(|name| name.trim_end_matches(',').to_owned())
        .collect()
}

#[test]
fn every_table_has_the_ddl_columns_in_order() {
    let caps = crate::ServerCaps::from_version("18.16.1").unwrap();
    let db = "db";
    assert_eq!(names::<Events>(), ddl_columns(&events::create(db, &caps)));
    // The created columns, then those migrations added, in migration order (at the end, or
    // where an `AFTER` puts them).
    let with_added = |table: &str, created: String| {
        let mut columns = ddl_columns(&created);
        for migration in crate::backend::clickhouse::migrate::MIGRATIONS {
            for step in (migration.steps)(db, &caps) {
                if let Step::AddColumn {
                    table: added_to,
                    column,
                    definition,
                } = step
                {
                    if added_to != table {
                        continue;
                    }
                    let at = definition
                        .split(" AFTER ")
                        .nth(1)
                        .map_or(columns.len(), |after| {
                            columns.iter().position(|c| c == after).unwrap() + 1
                        });
                    columns.insert(at, column.to_owned());
                }
            }
        }
        columns
    };
    assert_eq!(
        names::<NodeState>(),
        with_added(table::NODE_STATE, node_state::create(db, &caps))
    );
    assert_eq!(
        names::<DriftEvaluations>(),
        ddl_columns(&drift_evaluations::create(db, &caps))
    );
    assert_eq!(names::<Alerts>(), ddl_columns(&alerts::create(db, &caps)));
    assert_eq!(
        names::<AuthorityAudit>(),
        ddl_columns(&authority_audit::create(db, &caps))
    );
    assert_eq!(names::<Dlq>(), ddl_columns(&dlq::create(db, &caps)));
    assert_eq!(
        names::<Transitions>(),
        with_added(table::TRANSITIONS, transitions::create(db, &caps))
    );
    assert_eq!(names::<Domains>(), ddl_columns(&domains::create(db, &caps)));
    assert_eq!(
        names::<PolicyBundles>(),
        ddl_columns(&policy_bundles::create(db, &caps))
    );
    assert_eq!(
        names::<Commands>(),
        ddl_columns(&commands::create(db, &caps))
    );
    assert_eq!(names::<Events>().len(), 13);
}

#[test]
fn event_rows_convert_with_symbols_and_seconds() {
    let first = event_row(&samples::heartbeat_event("edge-1", 5), AT).unwrap();
    let second = event_row(&samples::register_event("edge-2", 1), AT).unwrap();
    let batch = batch_of::<Events>(&[&first, &second]).unwrap();
    assert_eq!(batch.num_rows(), 2);
    let column = |name: &str| batch.column_by_name(name).unwrap().clone();
    let kinds = column("kind");
    let kinds = kinds.as_string::<i32>();
    assert_eq!((kinds.value(0), kinds.value(1)), ("HEARTBEAT", "REGISTER"));
    assert_eq!(column("source").as_string::<i32>().value(0), "HTTP");
    assert_eq!(column("seq").as_primitive::<UInt64Type>().value(0), 5);
    assert_eq!(column("replayed").as_primitive::<UInt8Type>().value(0), 1);
    assert_eq!(
        column("event_time").data_type(),
        &DataType::Timestamp(TimeUnit::Second, Some("UTC".into()))
    );
    assert_eq!(
        column("event_time")
            .as_primitive::<TimestampSecondType>()
            .value(0),
        1_772_000_005
    );
    assert_eq!(
        column("event_time_ms").as_primitive::<Int64Type>().value(0),
        T0 + 5_000
    );
    assert_eq!(column("partition").as_primitive::<Int32Type>().value(1), 3);
    assert_eq!(column("offset").as_primitive::<Int64Type>().value(1), 41);
    assert_eq!(column("node_id").as_string::<i32>().value(1), "edge-2");
}

#[test]
fn node_state_edges_convert_to_parallel_lists() {
    let twins = samples::tree::twins();
    let a1 = twins.iter().find(|n| n.id == "a1-00").unwrap();
    let row = node_state_row(a1, AT).unwrap();
    let batch = batch_of::<NodeState>(&[&row]).unwrap();
    let list = |name: &str| {
        batch
            .column_by_name(name)
            .unwrap()
            .as_list::<i32>()
            .value(0)
    };
    let changed = list("edge_changed_ms");
    let changed = changed.as_primitive::<Int64Type>();
    assert_eq!((changed.len(), changed.value(1)), (2, T0));
    let peers = list("edge_peers");
    assert_eq!(peers.as_string::<i32>().value(1), "a2-00");
    let path = list("domain_path");
    assert_eq!(path.as_string::<i32>().value(2), "edge-zone-a1");
    let last_sync = batch.column_by_name("last_sync_ms").unwrap();
    assert_eq!(
        last_sync.as_primitive::<Int64Type>().value(0),
        samples::tree::AS_OF - 10_000
    );
}

#[test]
fn node_state_lists_and_nullable_measurements() {
    let mut node = samples::node("edge-1", 7);
    node.connectivity.link_quality.rtt_ms = None;
    let without = node_state_row(&node, AT).unwrap();
    let with = crate::tables::node_state::NodeStateRow {
        rtt_ms: Some(12.5),
        tags: vec!["a".into(), "b".into()],
        ..without.clone()
    };
    let batch = batch_of::<NodeState>(&[&without, &with]).unwrap();
    let rtt = batch.column_by_name("rtt_ms").unwrap();
    assert!(rtt.is_null(0));
    assert_eq!(rtt.as_primitive::<Float64Type>().value(1), 12.5);
    let tags = batch
        .column_by_name("tags")
        .unwrap()
        .as_list::<i32>()
        .value(1);
    let tags = tags.as_string::<i32>();
    assert_eq!((tags.len(), tags.value(0), tags.value(1)), (2, "a", "b"));
    let phase = batch.column_by_name("lifecycle_phase").unwrap();
    assert_eq!(
        phase.as_string::<i32>().value(0),
        node.lifecycle.phase.as_str()
    );
    let version = batch.column_by_name("version").unwrap();
    assert_eq!(version.as_primitive::<UInt64Type>().value(0), 7);
    let schema = schema(&NodeState::columns());
    assert!(schema.field_with_name("rtt_ms").unwrap().is_nullable());
    assert!(!schema.field_with_name("drift_score").unwrap().is_nullable());
}

#[test]
fn dlq_bytes_and_transitions_convert() {
    let dead = dlq_row(&samples::dead_letter(), AT).unwrap();
    let batch = batch_of::<Dlq>(&[&dead]).unwrap();
    let original = batch.column_by_name("original").unwrap();
    assert_eq!(
        original.as_binary::<i32>().value(0),
        dead.original.as_slice()
    );
    let entry = transition_row(&samples::connectivity_transition("edge-1", 9), AT).unwrap();
    let batch = batch_of::<Transitions>(&[&entry]).unwrap();
    let machine = batch.column_by_name("machine").unwrap();
    assert_eq!(machine.as_string::<i32>().value(0), "CONNECTIVITY");
    assert_eq!(batch.num_columns(), 18);
    let domain = batch.column_by_name("domain_id").unwrap();
    assert_eq!(domain.as_string::<i32>().value(0), "region-a/a1");
}

#[test]
fn an_enum_code_without_a_symbol_is_an_error() {
    let mut row = event_row(&samples::heartbeat_event("edge-1", 5), AT).unwrap();
    row.kind = 99;
    let err = batch_of::<Events>(&[&row]).unwrap_err();
    assert!(
        matches!(
            err,
            ConvertError::UnknownCode {
                table: "events",
                column: "kind",
                code: 99
            }
        ),
        "{err}"
    );
}

#[test]
fn no_rows_give_an_empty_batch_with_the_schema() {
    let batch = batch_of::<Transitions>(&[]).unwrap();
    assert_eq!(batch.num_rows(), 0);
    assert_eq!(batch.schema(), schema(&Transitions::columns()));
}
