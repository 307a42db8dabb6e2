//! The fleet as a hierarchy and a graph, end to end against the real Kafka and ClickHouse
//! 18.16, and on the Parquet backend: Domain v2, BundleVersion and Node v3 records of seed 000's
//! fleet (`samples::tree`) produced to fresh topics, landed by the sink, and the new tables,
//! views and cookbook queries checked value by value — the same answers on both backends.

mod common;

use common::kafka::{land_in_parquet, start, wait_for, TestTopics};
use common::tree::{df_tsv, expected, expected_heads, produce, query};
use common::TestDb;
use sxfleet_runtime::Shutdown;
use sxfleet_sinks::analytics::status::check::{rule_check_sql, rule_in_rust};
use sxfleet_sinks::cookbook::Dialect;
use sxfleet_sinks::query::run;
use sxfleet_sinks::tables::ddl::table;
use sxfleet_sinks::tables::domains::DomainRow;
use sxfleet_sinks::{fleet_summary, ClickHouse};

async fn ch_tsv(ch: &ClickHouse, sql: &str) -> String {
    let mut cursor = ch
        .client()
        .query(sql)
        .fetch_bytes("TabSeparated")
        .expect("query");
    let bytes = cursor.collect().await.expect(sql);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hierarchy_lands_and_answers_on_clickhouse_and_parquet() {
    let db = TestDb::new();
    let ch = db.connect().await;
    let kafka = TestTopics::create().await;
    produce(&kafka).await;

    // ClickHouse 18.16.
    let config = kafka.sink_config(&db);
    let shutdown = Shutdown::new();
    let sink = start(&config, &shutdown);
    let q = |sql: &str| sql.replace("DB", &db.name);
    wait_for(&ch, &q("SELECT count() FROM DB.node_state"), 105).await;
    wait_for(&ch, &q("SELECT count() FROM DB.domains"), 14).await;
    wait_for(&ch, &q("SELECT count() FROM DB.policy_bundles"), 4).await;
    shutdown.trigger();
    let stats = sink.await.expect("join");
    assert_eq!(stats.inserted(table::DOMAINS), 14, "{stats:?}");
    assert_eq!(stats.inserted(table::POLICY_BUNDLES), 4, "{stats:?}");

    // The older revision of each domain, landed after the newer one, does not win.
    let rows: Vec<DomainRow> = ch
        .client()
        .query("SELECT ?fields FROM domains FINAL ORDER BY domain_id")
        .fetch_all()
        .await
        .expect("domains");
    assert_eq!(rows.len(), 7);
    let region_a = rows.iter().find(|r| r.domain_id == "region-a").unwrap();
    assert_eq!(region_a.revision, 3);
    assert_eq!(region_a.authority_status, "AUTHORITATIVE");
    assert_eq!(region_a.path, ["global", "region-a"]);
    assert_eq!(
        (
            region_a.master_controller_id.as_str(),
            region_a.master_level.as_str()
        ),
        ("region-a-control", "REGION")
    );
    assert_eq!(region_a.upstream_peer, "global-control");
    assert_eq!(region_a.upstream_frequency_ms, 900_000);
    assert_eq!(region_a.topic, kafka.topics.domains);
    let a2 = ch_tsv(
        &ch,
        "SELECT domain_path, relay_path, last_sync_ms > 0, toString(connectivity) \
         FROM node_state FINAL WHERE node_id = 'a2-00'",
    )
    .await;
    assert_eq!(
        a2,
        "['global','region-a','edge-zone-a2']\t['relay-7','sat-link-2']\t1\tDELAYED\n"
    );
    let edges = ch_tsv(
        &ch,
        "SELECT edge_peers, edge_relations, edge_states FROM node_state FINAL \
         WHERE node_id = 'a1-00'",
    )
    .await;
    assert_eq!(
        edges,
        "['a1-01','a2-00']\t['SIGNALING','BYPASS']\t['UP','DOWN']\n"
    );
    let masters = ch_tsv(
        &ch,
        "SELECT domain_id, controller_id, master_level, epoch FROM masters_of_record \
         WHERE controller_id != '' ORDER BY domain_id LIMIT 2",
    )
    .await;
    assert_eq!(
        masters,
        "edge-zone-a1\tedge-zone-a1-control\tLOCAL\t1\nedge-zone-a2\tedge-zone-a2-control\tLOCAL\t1\n"
    );
    let hops = ch_tsv(
        &ch,
        "SELECT hop, relay_id, toString(mode) FROM relay_paths WHERE node_id = 'a2-00' ORDER BY hop",
    )
    .await;
    assert_eq!(hops, "1\trelay-7\tDELAYED\n2\tsat-link-2\tDELAYED\n");
    // The status rule's SQL says on 18.16 what the Rust rule says.
    assert_eq!(
        ch_tsv(&ch, &rule_check_sql(Dialect::ClickHouse)).await,
        rule_in_rust()
    );
    for (name, params, want) in expected() {
        let got = ch_tsv(&ch, &query(name, Dialect::ClickHouse).bind(&params)).await;
        assert_eq!(got, want, "{name} {params:?} on ClickHouse");
    }
    for (name, params, rows, first) in expected_heads() {
        let got = ch_tsv(&ch, &query(name, Dialect::ClickHouse).bind(&params)).await;
        assert_eq!(got.lines().count(), rows, "{name} {params:?}\n{got}");
        assert_eq!(
            got.lines().next(),
            Some(first.as_str()),
            "{name} {params:?}"
        );
    }

    // `sxfleet summary`'s tree is the Global Fleet View (as of the latest twin update, the
    // scenario's end).
    let summary = fleet_summary(&ch.client(), &db.name)
        .await
        .expect("summary");
    assert_eq!(summary.total_nodes, 105);
    let lines: String = (summary.tree.iter())
        .map(|l| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                l.domain_id,
                l.depth,
                l.level,
                l.nodes,
                l.shown_status,
                l.drift_objects,
                l.authority,
                l.sync_debt_h
            )
        })
        .collect();
    assert_eq!(lines, expected()[0].2);
    let text = summary.to_string();
    assert!(
        text.contains(
            "\n      edge-zone-a2: 25 nodes, Live (23/25), Delayed (2/25), 0 drift objects, \
             authority LOCAL, sync debt 0 h\n"
        ),
        "{text}"
    );

    // The same records on the Parquet backend, read by DataFusion.
    let dir = tempfile::tempdir().expect("tempdir");
    let counts = "SELECT (SELECT count(*) FROM node_state) + (SELECT count(*) FROM domains) \
                  + (SELECT count(*) FROM policy_bundles)";
    let ctx = land_in_parquet(&kafka.sink_config(&db), dir.path(), counts, 123).await;
    assert_eq!(
        df_tsv(&ctx, &rule_check_sql(Dialect::DataFusion)).await,
        rule_in_rust()
    );
    for (name, params, want) in expected() {
        let got = df_tsv(&ctx, &query(name, Dialect::DataFusion).bind(&params)).await;
        assert_eq!(got, want, "{name} {params:?} on DataFusion");
    }
    for (name, params, rows, first) in expected_heads() {
        let got = df_tsv(&ctx, &query(name, Dialect::DataFusion).bind(&params)).await;
        assert_eq!(got.lines().count(), rows, "{name} {params:?}\n{got}");
        assert_eq!(
            got.lines().next(),
            Some(first.as_str()),
            "{name} {params:?}"
        );
    }
    let hops = run(
        &ctx,
        "SELECT hop FROM relay_paths WHERE node_id = 'a2-00' ORDER BY hop",
    )
    .await
    .expect("hops");
    assert_eq!(hops.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    kafka.delete().await;
}
