//! Seed 000's fleet as the processor publishes it (`samples::tree`), produced to test topics,
//! and what the cookbook's hierarchy and topology queries must answer over it, as
//! TabSeparated text, the same on every backend.

use datafusion::prelude::SessionContext;
use sxfleet_schemas::{encode, BundleVersion, PolicyBundle};
use sxfleet_sinks::cookbook::{self, Dialect, Params};
use sxfleet_sinks::query::{render, run, Format};
use sxfleet_sinks::samples::tree;

use super::kafka::TestTopics;

/// Three versions of bundle `b-a`: 1.1.0 superseded by 1.2.0, in force, and 1.0.0 arriving
/// last, stale.
pub fn bundles() -> Vec<BundleVersion> {
    let version = |v: &str, status: &str, by: Option<&str>, at: i64, revision: i64| BundleVersion {
        bundle: PolicyBundle {
            bundle_id: "b-a".to_owned(),
            version: v.to_owned(),
            target_version: "2.4.0".to_owned(),
            policy_version: format!("policy-{v}"),
            config: [
                ("rate".to_owned(), v.to_owned()),
                ("mode".to_owned(), "hard".to_owned()),
            ]
            .into_iter()
            .collect(),
            constraints: [("max_parallel".to_owned(), "10%".to_owned())]
                .into_iter()
                .collect(),
        },
        event_time_ms: at,
        status: status.to_owned(),
        decided_ms: at + 1,
        superseded_by: by.map(str::to_owned),
        revision,
    };
    let t = tree::AS_OF - 3_600_000;
    vec![
        version("1.1.0", "IN_FORCE", None, t, 1),
        version("1.1.0", "SUPERSEDED", Some("1.2.0"), t, 2),
        version("1.2.0", "IN_FORCE", None, t + 1000, 2),
        version("1.0.0", "STALE", None, t + 2000, 3),
    ]
}

/// Produces the domains (each also once more at an older revision, after the newer one),
/// the bundle versions and the 105 twins.
pub async fn produce(kafka: &TestTopics) {
    let topics = &kafka.topics;
    for domain in tree::domains() {
        let mut older = domain.clone();
        older.revision = 1;
        older.authority_status = "DEGRADED".to_owned();
        for record in [&domain, &older] {
            let bytes = encode(record).expect("encode");
            kafka
                .produce(&topics.domains, &record.domain_id, Some(&bytes))
                .await;
        }
    }
    for bundle in bundles() {
        let key = format!("{}@{}", bundle.bundle.bundle_id, bundle.bundle.version);
        let bytes = encode(&bundle).expect("encode");
        kafka.produce(&topics.bundles, &key, Some(&bytes)).await;
    }
    for twin in tree::twins() {
        let bytes = encode(&twin).expect("encode");
        kafka.produce(&topics.twin, &twin.id, Some(&bytes)).await;
    }
}

/// Each checked cookbook query, its parameters, and its answer.
pub fn expected() -> Vec<(&'static str, Params<'static>, String)> {
    let at = |node_id: &'static str, domain_id: &'static str| Params {
        node_id,
        domain_id,
        as_of_ms: Some(tree::AS_OF),
        ..Params::default()
    };
    let t0 = sxfleet_sinks::samples::T0;
    let bundle_t = tree::AS_OF - 3_600_000;
    vec![
        (
            "fleet_tree",
            at("", "global"),
            "global\t0\tGLOBAL\t105\tHealthy\t2\tGLOBAL\t3.75\n\
             edge-zone-c\t1\tZONE\t15\tAutonomous\t0\tAUTONOMOUS\t3.75\n\
             region-a\t1\tREGION\t50\tHealthy\t2\tREGION\t0\n\
             edge-zone-a1\t2\tZONE\t25\tLive\t2\tLOCAL\t0\n\
             edge-zone-a2\t2\tZONE\t25\tLive (23/25), Delayed (2/25)\t0\tLOCAL\t0\n\
             region-b\t1\tREGION\t40\tHealthy\t0\tREGION\t0\n\
             edge-zone-b1\t2\tZONE\t20\tDegraded\t0\t\t0\n"
                .to_owned(),
        ),
        (
            "fleet_tree",
            at("", "region-a"),
            "region-a\t1\tREGION\t50\tHealthy\t2\tREGION\t0\n\
             edge-zone-a1\t2\tZONE\t25\tLive\t2\tLOCAL\t0\n\
             edge-zone-a2\t2\tZONE\t25\tLive (23/25), Delayed (2/25)\t0\tLOCAL\t0\n"
                .to_owned(),
        ),
        (
            "domain_authority_status",
            at("", ""),
            "global\tGLOBAL\tglobal-control\tGLOBAL\tAUTHORITATIVE\t\t\t0\t0\t0\t105\t13500\n\
             edge-zone-c\tZONE\tedge-zone-c-control\tAUTONOMOUS\tAUTONOMOUS\t\t\t0\t0\t1\t15\t13500\n\
             region-a\tREGION\tregion-a-control\tREGION\tAUTHORITATIVE\t\tglobal-control\t300\t0\t0\t50\t10\n\
             edge-zone-a1\tZONE\tedge-zone-a1-control\tLOCAL\tAUTHORITATIVE\t\tregion-a-control\t300\t0\t0\t25\t10\n\
             edge-zone-a2\tZONE\tedge-zone-a2-control\tLOCAL\tAUTHORITATIVE\t\tregion-a-control\t300\t0\t0\t25\t10\n\
             region-b\tREGION\tregion-b-control\tREGION\tAUTHORITATIVE\t\tglobal-control\t300\t0\t0\t40\t10\n\
             edge-zone-b1\tZONE\t\t\tDEGRADED\tNO_MASTER\t\t0\t0\t0\t20\t10\n"
                .to_owned(),
        ),
        (
            "failing_relays",
            at("", ""),
            "relay-7\t\t\t2\t2\t1\tFAILING\n".to_owned(),
        ),
        (
            "node_neighbours",
            at("a1-00", ""),
            format!(
                "a1-01\tout\tSIGNALING\tUP\t{t0}\n\
                 a1-02\tin\tMEDIA\tUP\t{t0}\n\
                 a2-00\tout\tBYPASS\tDOWN\t{t0}\n"
            ),
        ),
        (
            "bundle_versions",
            at("", ""),
            format!(
                "b-a\t1.1.0\tSUPERSEDED\t1.2.0\t2.4.0\tpolicy-1.1.0\t{bundle_t}\t{}\n\
                 b-a\t1.2.0\tIN_FORCE\t\t2.4.0\tpolicy-1.2.0\t{}\t{}\n\
                 b-a\t1.0.0\tSTALE\t\t2.4.0\tpolicy-1.0.0\t{}\t{}\n",
                bundle_t + 1,
                bundle_t + 1000,
                bundle_t + 1001,
                bundle_t + 2000,
                bundle_t + 2001,
            ),
        ),
    ]
}

/// The members of edge-zone-c and the nodes furthest behind, checked by their first lines
/// and counts: `(query, params, rows, first line)`.
pub fn expected_heads() -> Vec<(&'static str, Params<'static>, usize, String)> {
    let at = |domain_id: &'static str| Params {
        domain_id,
        as_of_ms: Some(tree::AS_OF),
        ..Params::default()
    };
    vec![
        (
            "trust_domain_members",
            at("edge-zone-c"),
            15,
            "c-00\tedge-zone-c\tAUTONOMOUS\tVIOLATED".to_owned(),
        ),
        (
            "sync_debt_as_of",
            at(""),
            20,
            // 3.75 h as of the end, though the twin last said 3.5 h.
            format!(
                "c-00\tedge-zone-c\tAUTONOMOUS\t12600\t{}\t13500",
                tree::ZONE_C_LAST_SYNC
            ),
        ),
        (
            "trust_domain_members",
            at("region-a"),
            50,
            "a1-00\tedge-zone-a1\tLIVE\tVIOLATED".to_owned(),
        ),
    ]
}

/// The query `name` of the cookbook in `dialect`.
pub fn query(name: &str, dialect: Dialect) -> cookbook::Query {
    cookbook::queries(cookbook::DOCUMENT, dialect)
        .into_iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no cookbook query {name}"))
}

/// A DataFusion answer as ClickHouse's TabSeparated text would print it.
pub async fn df_tsv(ctx: &SessionContext, sql: &str) -> String {
    let batches = run(ctx, sql).await.expect(sql);
    render(&batches, Format::TabSeparated).expect(sql)
}
