//! RowBinary inserts into every table read back with the same values, against the real
//! ClickHouse (18.16 from `dev/services`: validation off, LZ4 insert bodies).

mod common;

use common::{samples, TestDb, TWIN_AT};
use sxfleet_sinks::backend::clickhouse::insert::insert_rows;
use sxfleet_sinks::migrate::migrate;
use sxfleet_sinks::tables::dlq::{dlq_row, DlqRow};
use sxfleet_sinks::tables::domains::{domain_row, DomainRow};
use sxfleet_sinks::tables::events::{event_row, EventRow};
use sxfleet_sinks::tables::node_state::node_state_row;
use sxfleet_sinks::tables::node_state::NodeStateRow;
use sxfleet_sinks::tables::policy_bundles::{bundle_row, BundleRow};
use sxfleet_sinks::tables::Coords;

fn at(topic: &str, offset: i64) -> Coords<'_> {
    Coords {
        topic,
        partition: 1,
        offset,
    }
}

#[tokio::test]
async fn every_table_round_trips() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let client = ch.client();

    let events: Vec<EventRow> = vec![
        event_row(&samples::register_event("gw-1", 1), at("t.ev", 10)).unwrap(),
        event_row(&samples::heartbeat_event("gw-1", 2), at("t.ev", 11)).unwrap(),
        event_row(&samples::heartbeat_event("edge-2", 3), at("t.ev", 12)).unwrap(),
    ];
    insert_rows(&client, "events", &events, None)
        .await
        .expect("insert events");
    let back: Vec<EventRow> = client
        .query("SELECT ?fields FROM events ORDER BY offset")
        .fetch_all()
        .await
        .expect("read events");
    assert_eq!(back, events);

    let mut bare = sxfleet_schemas::Node::new("n-bare");
    bare.version = 1;
    let nodes: Vec<NodeStateRow> = vec![
        node_state_row(&samples::node("edge-7", 4), TWIN_AT).unwrap(),
        node_state_row(&bare, TWIN_AT).unwrap(),
    ];
    insert_rows(&client, "node_state", &nodes, None)
        .await
        .expect("insert node_state");
    let back: Vec<NodeStateRow> = client
        .query("SELECT ?fields FROM node_state FINAL ORDER BY node_id")
        .fetch_all()
        .await
        .expect("read node_state");
    assert_eq!(back, vec![nodes[0].clone(), nodes[1].clone()]);

    let mut binary = samples::dead_letter();
    binary.original = vec![0xff, 0x00, 0xfe, b'\n', b'\t', b'\\', b'\''];
    let dlq: Vec<DlqRow> = vec![
        dlq_row(&samples::dead_letter(), at("t.dlq", 0)).unwrap(),
        dlq_row(&binary, at("t.dlq", 1)).unwrap(),
    ];
    insert_rows(&client, "dlq", &dlq, None)
        .await
        .expect("insert dlq");
    let back: Vec<DlqRow> = client
        .query("SELECT ?fields FROM dlq ORDER BY dlq_offset")
        .fetch_all()
        .await
        .expect("read dlq");
    assert_eq!(back, dlq);

    // The server's own view of the enum and time columns, independent of our row types.
    // (A zero DateTime prints as 0000-00-00 on 18.16 and 1970-01-01 later: compare numbers.)
    let text = common::tsv(
        &ch,
        &format!(
            "SELECT kind, source, toString(event_time), payload FROM `{}`.events \
             WHERE offset = 11",
            db.name
        ),
    )
    .await;
    assert_eq!(
        text,
        "HEARTBEAT\tHTTP\t2026-02-25 06:13:22\t{\"rtt_ms\":42.5,\"loss_pct\":0.25,\
         \"bandwidth_kbps\":5000,\"backlog_messages\":12,\"health\":\"DEGRADED\",\"uptime_s\":3600,\
         \"via\":[\"relay-7\",\"sat-link-2\"],\"battery_pct\":null}\n"
    );
    let text = common::tsv(
        &ch,
        &format!(
            "SELECT kind, connectivity, lifecycle_phase, health, attestation, \
             toUInt32(updated_at), rtt_ms, arrayStringConcat(tags, '|') \
             FROM `{}`.node_state FINAL ORDER BY node_id",
            db.name
        ),
    )
    .await;
    assert_eq!(
        text,
        "EDGE\tREPLAYING\tQUARANTINED\tFAILED\tVERIFIED\t1772000000\t120.25\ta|b c\n\
         UNKNOWN\tUNKNOWN\tPROVISIONING\tUNKNOWN\tNONE\t0\t\\N\t\n"
    );

    // Domains and bundle versions (Domain v2, BundleVersion).
    let domains: Vec<DomainRow> = (samples::tree::domains().iter().enumerate())
        .map(|(i, d)| domain_row(d, at("t.dom", i as i64)).unwrap())
        .collect();
    insert_rows(&client, "domains", &domains, None)
        .await
        .expect("insert domains");
    let back: Vec<DomainRow> = client
        .query("SELECT ?fields FROM domains FINAL ORDER BY offset")
        .fetch_all()
        .await
        .expect("read domains");
    assert_eq!(back, domains);
    let bundles: Vec<BundleRow> = (common::tree::bundles().iter().enumerate())
        .map(|(i, b)| bundle_row(b, at("t.bun", i as i64)).unwrap())
        .collect();
    insert_rows(&client, "policy_bundles", &bundles, None)
        .await
        .expect("insert bundles");
    let back: Vec<BundleRow> = client
        .query("SELECT ?fields FROM policy_bundles ORDER BY offset")
        .fetch_all()
        .await
        .expect("read bundles");
    assert_eq!(back, bundles);
    let text = common::tsv(
        &ch,
        &format!(
            "SELECT edge_peers, edge_changed_ms, domain_path, last_sync_ms FROM `{}`.node_state \
             FINAL WHERE node_id = 'edge-7'",
            db.name
        ),
    )
    .await;
    assert_eq!(
        text,
        format!(
            "['peer-1']\t[{}]\t['global','dom-eu']\t{}\n",
            samples::T0 - 70,
            samples::T0 - 25
        )
    );
}

#[tokio::test]
async fn node_state_final_keeps_the_highest_version() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let client = ch.client();

    let mut newer = samples::node("edge-1", 9);
    newer.region = "eu-north".to_owned();
    let older = samples::node("edge-1", 8);
    // Newer first, then the older one in a later insert (a replayed twin): FINAL must still
    // return version 9, so the order of arrival does not matter.
    for node in [&newer, &older] {
        let row = node_state_row(node, TWIN_AT).unwrap();
        insert_rows(&client, "node_state", &[row], None)
            .await
            .expect("insert");
    }
    let raw: u64 = client
        .query("SELECT count() FROM node_state")
        .fetch_one()
        .await
        .expect("count");
    assert_eq!(raw, 2, "both versions are stored until a merge");
    let back: Vec<NodeStateRow> = client
        .query("SELECT ?fields FROM node_state FINAL")
        .fetch_all()
        .await
        .expect("read");
    assert_eq!(back, vec![node_state_row(&newer, TWIN_AT).unwrap()]);
    assert_eq!(back[0].region, "eu-north");
}
