//! The hand-built command ledger (`samples::commands`) produced to test topics, and what the
//! command views and the cookbook's command queries must answer over it, as TabSeparated
//! text, the same on every backend.

use sxfleet_schemas::encode;
use sxfleet_sinks::cookbook::{Dialect, Params};
use sxfleet_sinks::samples::commands::{statuses, twins, MAINTENANCE_SINCE};
use sxfleet_sinks::samples::T0;

use super::kafka::TestTopics;

/// The Kafka key of a status record: its node, or its target when it has none.
pub fn key(status: &sxfleet_schemas::CommandStatus) -> &str {
    if status.node_id.is_empty() {
        &status.target_id
    } else {
        &status.node_id
    }
}

/// Produces the twins and every status record; returns how many status records.
pub async fn produce(kafka: &TestTopics) -> u64 {
    let topics = &kafka.topics;
    for twin in twins() {
        let bytes = encode(&twin).expect("encode");
        kafka.produce(&topics.twin, &twin.id, Some(&bytes)).await;
    }
    let records = statuses();
    for status in &records {
        let bytes = encode(status).expect("encode");
        kafka
            .produce(&topics.command_status, key(status), Some(&bytes))
            .await;
    }
    records.len() as u64
}

/// `T0 + s` seconds, as the ledger writes it.
fn at(s: i64) -> i64 {
    T0 + s * 1000
}

/// Queries on the views and tables written the same in both dialects, and their answers.
pub fn view_checks() -> Vec<(&'static str, String)> {
    vec![
        (
            "SELECT node_id, command_id, status, resent, published_times, last_published_ms, \
             seq, attempts, first_ms FROM command_latest WHERE rollout = '' \
             ORDER BY node_id, command_id",
            format!(
                "\tcmd-rogue\tREJECTED\t0\t0\t0\t0\t0\t{}\n\
                 edge-1\tcmd-7\tAPPLIED\t2\t3\t{}\t7\t3\t{T0}\n\
                 edge-2\tcmd-8\tLOST\t0\t1\t{}\t3\t1\t{}\n\
                 edge-2\tcmd-9\tHELD\t0\t0\t0\t5\t0\t{}\n",
                at(20),
                at(150),
                at(10),
                at(10),
                at(400),
            ),
        ),
        (
            "SELECT bundle_id, version, node_id, domain_id, state, status, reason FROM rollouts \
             WHERE node_id IN ('a1-0', 'a1-9', 'a2-1', 'a2-2', 'b1-0') \
             ORDER BY version, node_id",
            "fw\t1.9.0\ta1-0\tedge-zone-a1\tcancelled\tCANCELLED\tsuperseded\n\
             fw\t2.0.0\ta1-0\tedge-zone-a1\tconverged\tAPPLIED\t\n\
             fw\t2.0.0\ta1-9\tedge-zone-a1\tpending\tPUBLISHED\t\n\
             fw\t2.0.0\ta2-1\tedge-zone-a2\theld\tHELD\tmaintenance_window\n\
             fw\t2.0.0\ta2-2\tedge-zone-a2\tfailed\tFAILED\tdisk full\n\
             fw\t2.0.0\tb1-0\tedge-zone-b1\tpending\tRECEIVED\t\n"
                .to_owned(),
        ),
        (
            "SELECT count(*), sum(published_times) FROM rollouts",
            "15\t13\n".to_owned(),
        ),
    ]
}

/// The twins' Node v4 columns in `dialect`.
pub fn twin_query(dialect: Dialect) -> String {
    format!(
        "SELECT node_id, lifecycle_phase, commands_pending, commands_held, maintenance_since_ms \
         FROM {} WHERE node_id IN ('edge-1', 'edge-2') ORDER BY node_id",
        dialect.final_table("node_state")
    )
}

/// The answer of the twins' query.
pub fn twin_answer() -> String {
    format!("edge-1\tQUARANTINED\t0\t0\t0\nedge-2\tMAINTENANCE\t1\t1\t{MAINTENANCE_SINCE}\n")
}

/// Each checked cookbook query, its parameters, and its answer.
pub fn expected() -> Vec<(&'static str, Params<'static>, String)> {
    let ledger = |step: (i64, i64, &str, &str, i32)| {
        let (seq, at_s, status, reason, attempts) = step;
        format!(
            "edge-1\t{seq}\t{}\t{status}\t{reason}\t{attempts}\tRESTART\tAT_LEAST_ONCE\n",
            at(at_s)
        )
    };
    let cmd7: String = [
        (1, 0, "ACCEPTED", "", 0),
        (2, 0, "HELD", "node_away", 0),
        (3, 60, "PUBLISHED", "", 1),
        (4, 90, "RESENT", "", 2),
        (5, 150, "RESENT", "", 3),
        (6, 151, "RECEIVED", "", 3),
        (7, 160, "APPLIED", "", 3),
    ]
    .into_iter()
    .map(ledger)
    .collect();
    let command = |command_id: &'static str, node_id: &'static str| Params {
        command_id,
        node_id,
        ..Params::default()
    };
    vec![
        ("command_ledger", command("cmd-7", ""), cmd7.clone()),
        ("command_ledger", command("cmd-7", "edge-1"), cmd7),
        ("command_ledger", command("cmd-7", "edge-2"), String::new()),
        (
            "command_ledger",
            command("cmd-8", "edge-2"),
            format!(
                "edge-2\t1\t{0}\tACCEPTED\t\t0\tRESTART\tAT_MOST_ONCE\n\
                 edge-2\t2\t{0}\tPUBLISHED\t\t1\tRESTART\tAT_MOST_ONCE\n\
                 edge-2\t3\t{1}\tLOST\tno_ack\t1\tRESTART\tAT_MOST_ONCE\n",
                at(10),
                at(310)
            ),
        ),
        (
            "command_ledger",
            command("cmd-rogue", ""),
            format!(
                "\t0\t{}\tREJECTED\tno_authority\t0\tRESTART\tAT_LEAST_ONCE\n",
                at(20)
            ),
        ),
        (
            "open_commands",
            Params::default(),
            format!(
                "edge-zone-a1\t2\t1\t1\t0\t0\t{T0}\n\
                 edge-zone-a2\t1\t1\t0\t0\t0\t{T0}\n\
                 edge-zone-b1\t1\t0\t0\t1\t0\t{T0}\n"
            ),
        ),
        (
            "safe_to_advance",
            Params::default(),
            "fw\t1.9.0\tedge-zone-a1\t0\t0\t0\t0\t1\t0\t0\n\
             fw\t1.9.0\tglobal\t0\t0\t0\t0\t1\t0\t0\n\
             fw\t1.9.0\tregion-a\t0\t0\t0\t0\t1\t0\t0\n\
             fw\t2.0.0\tedge-zone-a1\t9\t1\t0\t0\t0\t10\t1\n\
             fw\t2.0.0\tedge-zone-a2\t1\t0\t1\t1\t0\t3\t0\n\
             fw\t2.0.0\tedge-zone-b1\t0\t1\t0\t0\t0\t1\t0\n\
             fw\t2.0.0\tglobal\t10\t1\t1\t1\t0\t13\t0\n\
             fw\t2.0.0\tregion-a\t10\t1\t1\t1\t0\t13\t0\n"
                .to_owned(),
        ),
    ]
}
