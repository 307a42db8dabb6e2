//! A table defined here, outside the list, runs through the same generic pieces the listed
//! tables use: routing a payload into its row ([`Entry::decode`]), the batch (push, revoke,
//! typed read-back), its DDL per server, its Arrow schema against that DDL, the Parquet files
//! of a batch, and DataFusion over them with its `_final` view. Adding a real table is this
//! file's `Probe` in `src/tables/`, one line in `tables::each` and one migration step.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{encode, Alert};
use sxfleet_sinks::backend::parquet::{encode as encode_files, query, ParquetStore};
use sxfleet_sinks::batch::Batch;
use sxfleet_sinks::tables::arrow::{col, Column, Kind};
use sxfleet_sinks::tables::ddl::{qualified, Replacing, Step};
use sxfleet_sinks::tables::row::datetime;
use sxfleet_sinks::tables::{Coords, Entry, RowError, SourceRow, Table, TableRow, TopicRole};
use sxfleet_sinks::ServerCaps;

/// Alert scores per alert: a made-up table over the alerts topic.
struct Probe;

#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
struct ProbeRow {
    alert_id: String,
    at: u32,
    score: f64,
    topic: String,
    partition: i32,
    offset: i64,
}

impl SourceRow for ProbeRow {
    fn source(&self) -> Coords<'_> {
        Coords {
            topic: &self.topic,
            partition: self.partition,
            offset: self.offset,
        }
    }
    fn node_id(&self) -> &str {
        ""
    }
}

impl Table for Probe {
    const NAME: &'static str = "probe";
    const ROLE: TopicRole = TopicRole::Alerts;
    const REPLACING: Option<Replacing> = Some(Replacing {
        table: "probe",
        key: &["alert_id"],
        version: None,
    });
    type Record = Alert;
    type Row = ProbeRow;

    fn row(alert: &Alert, at: Coords<'_>) -> Result<ProbeRow, RowError> {
        Ok(ProbeRow {
            alert_id: alert.alert_id.clone(),
            at: datetime(alert.at_ms),
            score: alert.score,
            topic: at.topic.to_owned(),
            partition: at.partition,
            offset: at.offset,
        })
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        let codec = if caps.codecs { " CODEC(Gorilla)" } else { "" };
        format!(
            "CREATE TABLE IF NOT EXISTS {}
(
    alert_id String,
    at DateTime('UTC'),
    score Float64{codec},
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = ReplacingMergeTree()
ORDER BY alert_id",
            qualified(database, Self::NAME)
        )
    }

    fn columns() -> Vec<Column<ProbeRow>> {
        vec![
            col("alert_id", Kind::Str(|r| &r.alert_id)),
            col("at", Kind::DateTime(|r| r.at)),
            col("score", Kind::F64(|r| r.score)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

fn alert(id: &str, score: f64) -> Alert {
    Alert {
        alert_id: id.to_owned(),
        kind: "ATTENTION".to_owned(),
        action: "RAISE".to_owned(),
        subject_kind: "NODE".to_owned(),
        subject_id: "edge-1".to_owned(),
        domain_id: "dom-eu".to_owned(),
        at_ms: 1_772_150_400_123,
        score,
        reasons: vec!["drift".to_owned()],
        detail: String::new(),
    }
}

/// The probe rows routed from encoded alerts at `(partition, offset)` of topic `al`.
fn routed(records: &[(i32, i64, &str, f64)]) -> Batch {
    let probe = Entry::of::<Probe>();
    let mut batch = Batch::new();
    for &(partition, offset, id, score) in records {
        let payload = encode(&alert(id, score)).unwrap();
        let at = Coords {
            topic: "al",
            partition,
            offset,
        };
        let row = probe.decode(&payload, at).unwrap().unwrap();
        assert_eq!(row.table(), "probe");
        batch.push("al", partition, offset, Some(row), payload.len());
    }
    batch
}

#[test]
fn a_payload_of_its_role_becomes_its_row() {
    let probe = Entry::of::<Probe>();
    assert_eq!((probe.name, probe.role), ("probe", TopicRole::Alerts));
    let at = Coords {
        topic: "al",
        partition: 1,
        offset: 9,
    };
    let row = probe
        .decode(&encode(&alert("A:1", 40.5)).unwrap(), at)
        .unwrap()
        .unwrap();
    let expected = ProbeRow {
        alert_id: "A:1".to_owned(),
        at: 1_772_150_400,
        score: 40.5,
        topic: "al".to_owned(),
        partition: 1,
        offset: 9,
    };
    assert_eq!(row, TableRow::new::<Probe>(expected.clone()));
    assert_eq!(row.get::<Probe>(), Some(&expected));
    // Not a payload of its record type: a codec error, which the router dead-letters.
    assert!(probe.decode(b"not avro", at).is_err());
}

#[test]
fn the_batch_holds_and_revokes_its_rows() {
    let mut batch = routed(&[(0, 3, "A:1", 1.0), (1, 7, "A:2", 2.0), (0, 4, "A:1", 3.0)]);
    assert_eq!(batch.rows(), 3);
    let scores: Vec<f64> = batch.table::<Probe>().iter().map(|r| r.score).collect();
    assert_eq!(scores, [1.0, 2.0, 3.0]);
    assert_eq!(batch.drop_partitions(&[("al".to_owned(), 0)]), 2);
    let kept: Vec<i64> = batch.table::<Probe>().iter().map(|r| r.offset).collect();
    assert_eq!(kept, [7]);
    assert_eq!(batch.commit_offsets(), vec![(("al".to_owned(), 1), 8)]);
}

#[test]
fn its_ddl_and_arrow_schema_agree_on_every_server() {
    for version in ["18.16.1", "24.8.4.13"] {
        let caps = ServerCaps::from_version(version).unwrap();
        let entry = Entry::of::<Probe>();
        let sql = Step::Sql(entry.create("fleet", &caps)).sql("fleet", &caps);
        assert!(
            sql.starts_with("CREATE TABLE IF NOT EXISTS `fleet`.`probe`"),
            "{sql}"
        );
        assert_eq!(sql.contains("CODEC"), version != "18.16.1", "{sql}");
        let body = sql
            .split_once("(\n")
            .unwrap()
            .1
            .split_once("\n)")
            .unwrap()
            .0;
        let ddl: Vec<&str> = body
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        let schema = entry.schema();
        let arrow: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(arrow, ddl);
    }
}

#[tokio::test]
async fn its_parquet_files_are_queried_with_final() {
    let dir = tempfile::tempdir().unwrap();
    let store = ParquetStore::open_tables(dir.path(), vec![Probe::NAME]).unwrap();
    // A:1 raised twice (the later score wins under FINAL), A:2 once, on two partitions.
    let batch = routed(&[(0, 3, "A:1", 1.0), (1, 7, "A:2", 2.0), (0, 4, "A:1", 3.0)]);
    let files = encode_files(&batch).unwrap();
    let names: Vec<(&str, String)> = files
        .iter()
        .map(|f| (f.table, f.range.file_name()))
        .collect();
    assert_eq!(
        names,
        [
            ("probe", "part-al-0-3-4.parquet".to_owned()),
            ("probe", "part-al-1-7-7.parquet".to_owned())
        ]
    );
    store.write(std::sync::Arc::new(files)).await.unwrap();
    assert_eq!(
        store.landed().unwrap().into_iter().collect::<Vec<_>>(),
        [(("al".to_owned(), 0), 4), (("al".to_owned(), 1), 7)]
    );

    let ctx = query::session_of(dir.path(), &[Entry::of::<Probe>()])
        .await
        .unwrap();
    let all = query::run(&ctx, "SELECT count(*) FROM probe")
        .await
        .unwrap();
    assert_eq!(query::labelled_counts(&all, false).unwrap()[0].1, 3);
    let sql = "SELECT alert_id, CAST(score AS BIGINT) FROM probe_final ORDER BY alert_id";
    let live = query::run(&ctx, sql).await.unwrap();
    assert_eq!(
        query::labelled_counts(&live, true).unwrap(),
        [("A:1".to_owned(), 3), ("A:2".to_owned(), 2)]
    );
}
