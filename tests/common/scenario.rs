//! The projections scenario of `tests/projections.rs` as raw input: a control plane (domains,
//! a bundle, master claims, a rejected write, a split brain that a higher epoch resolves) and
//! five nodes with something to show on every panel of the SQL cookbook — in spec, drifted,
//! quarantined for a forged firmware signature, replaying a backlog, and a key conflict in a
//! domain nobody governs. `tests/embedded.rs` adds it to its simulated fleet.

/// The scenario's nodes.
pub const NODES: [&str; 5] = ["n-ok", "n-drift", "n-bad", "n-replay", "n-forged"];

/// The control records, as Kafka records of the raw topic (one key, so they keep their order).
pub fn control() -> Vec<(String, Vec<u8>)> {
    CONTROL
        .iter()
        .map(|line| ("ctl".to_owned(), line.as_bytes().to_vec()))
        .collect()
}

/// The nodes' records, as Kafka records of the raw topic keyed by node. They belong after
/// the control records: each node is evaluated against the control plane it has seen.
pub fn nodes() -> Vec<(String, Vec<u8>)> {
    node_lines()
        .into_iter()
        .map(|(key, line)| (key, line.into_bytes()))
        .collect()
}

/// The scenario run through the whole pipeline into ClickHouse and Parquet (one partition),
/// returned once both backends hold its settled twins and its four alerts.
pub async fn landed(name: &str) -> (super::run::Run, super::Cleanup) {
    let (run, cleanup) = super::run::Run::start(name, 1, &timed()).await;
    let settled = settled_sql();
    let settled_df = settled
        .replace("count()", "count(*)")
        .replace("node_state FINAL", "node_state_final");
    run.both_answer("the scenario settled", &settled, &settled_df, "5\n")
        .await;
    run.both_answer(
        "the alerts",
        "SELECT count() FROM alerts FINAL",
        "SELECT count(*) FROM alerts_final",
        "4\n",
    )
    .await;
    (run, cleanup)
}

/// The scenario's raw records (control first) with their event times, for
/// [`super::run::Run::start`].
pub fn timed() -> Vec<(String, Vec<u8>, i64)> {
    let mut all = control();
    all.extend(nodes());
    all.into_iter()
        .map(|(key, line)| {
            let json: serde_json::Value = serde_json::from_slice(&line).unwrap();
            let ts = json["ts"].as_str().unwrap();
            let at =
                time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                    .unwrap();
            let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap();
            (key, line, ms)
        })
        .collect()
}

/// `SELECT` of how many of the scenario's nodes show their final state in ClickHouse: all of
/// them ([`NODES`]`.len()`) once every record has been processed and landed — quarantined
/// (n-bad, n-forged), replaying two carried events (n-replay), or judged in spec or drifted
/// after their snapshot (n-ok, n-drift).
pub fn settled_sql() -> String {
    let nodes: Vec<String> = NODES.iter().map(|node| format!("'{node}'")).collect();
    format!(
        "SELECT count() FROM node_state FINAL WHERE node_id IN ({}) AND \
         (lifecycle_state = 'QUARANTINED' \
          OR version >= 4 AND drift_status IN ('IN_SPEC', 'DRIFTED') \
          OR replay_events = 2)",
        nodes.join(", ")
    )
}

/// An ed25519 public key (standard base64), from a seed byte.
pub fn public_key(seed: u8) -> String {
    use base64::Engine;
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key();
    base64::engine::general_purpose::STANDARD.encode(key.to_bytes())
}

/// A registration of n-forged with `key`.
pub fn forged_register(seq: u32, ts: &str, key: &str) -> String {
    format!(
        r#"{{"type":"register","node_id":"n-forged","ts":"{ts}","seq":{seq},"kind":"EDGE","domain_id":"edge-x","region":"region-x","zone":"edge-x","public_key":"{key}"}}"#
    )
}

/// The second registration, naming another key than the first.
pub fn forged_reregistration() -> String {
    forged_register(3, "2026-02-27T00:03:00Z", &public_key(2))
}

/// Control records, all under one key so they keep their order.
pub const CONTROL: &[&str] = &[
    r#"{"type":"domain","ts":"2026-02-27T00:00:00Z","domain_id":"global","level":"GLOBAL"}"#,
    r#"{"type":"domain","ts":"2026-02-27T00:00:00Z","domain_id":"region-a","parent_id":"global","level":"REGION"}"#,
    r#"{"type":"domain","ts":"2026-02-27T00:00:00Z","domain_id":"edge-a1","parent_id":"region-a","level":"ZONE"}"#,
    r#"{"type":"domain","ts":"2026-02-27T00:00:00Z","domain_id":"region-b","parent_id":"global","level":"REGION"}"#,
    r#"{"type":"policy_bundle","ts":"2026-02-27T00:00:01Z","bundle_id":"b-rempart","version":"7","target_version":"1.4.7","policy_version":"policy-v2.1","config":{"stir.enforcement_mode":"hard","rate_limit.max_cps":2000}}"#,
    r#"{"type":"authority","ts":"2026-02-27T00:00:02Z","domain_id":"region-a","controller_id":"ctl-a","level":"REGION","epoch":3}"#,
    r#"{"type":"assign","ts":"2026-02-27T00:00:03Z","bundle_id":"b-rempart","domain_id":"region-a","authority":{"controller_id":"ctl-a","level":"REGION","epoch":3}}"#,
    r#"{"type":"assign","ts":"2026-02-27T00:00:04Z","bundle_id":"b-rogue","domain_id":"region-a","authority":{"controller_id":"ctl-rogue","level":"REGION","epoch":3}}"#,
    r#"{"type":"authority","ts":"2026-02-27T00:00:05Z","domain_id":"region-b","controller_id":"ctl-b1","level":"REGION","epoch":1}"#,
    r#"{"type":"authority","ts":"2026-02-27T00:00:06Z","domain_id":"region-b","controller_id":"ctl-b2","level":"REGION","epoch":1}"#,
    r#"{"type":"authority","ts":"2026-02-27T00:00:07Z","domain_id":"region-b","controller_id":"ctl-b1","level":"REGION","epoch":2}"#,
];

fn register(node: &str, signature: &str) -> String {
    format!(
        r#"{{"type":"register","node_id":"{node}","ts":"2026-02-27T00:01:00Z","seq":1,"kind":"EDGE","domain_id":"edge-a1","region":"region-a","zone":"edge-a1","firmware":{{"version":"2.1.3","signature":"{signature}"}}}}"#
    )
}

fn heartbeat(node: &str, seq: u32, ts: &str) -> String {
    format!(
        r#"{{"type":"heartbeat","node_id":"{node}","ts":"{ts}","seq":{seq},"rtt_ms":40,"loss_pct":0,"health":"OK"}}"#
    )
}

fn snapshot(node: &str, version: &str, policy: &str, stir: &str, cps: u32) -> String {
    format!(
        r#"{{"type":"snapshot","node_id":"{node}","ts":"2026-02-27T00:03:00Z","seq":3,"reported_version":"{version}","policy_version":"{policy}","config":{{"stir.enforcement_mode":"{stir}","rate_limit.max_cps":{cps}}}}}"#
    )
}

/// Four nodes of edge-a1: in spec, drifted (seed 003's differences), one whose attested
/// firmware signature differs from the one it enrolled with, and one replaying its backlog
/// (half of it uploaded) after a short outage.
fn node_lines() -> Vec<(String, String)> {
    let mut input = Vec::new();
    for (node, lines) in [
        (
            "n-ok",
            vec![
                register("n-ok", "sig-a"),
                heartbeat("n-ok", 2, "2026-02-27T00:02:00Z"),
                snapshot("n-ok", "1.4.7", "policy-v2.1", "hard", 2000),
                heartbeat("n-ok", 4, "2026-02-27T00:04:00Z"),
            ],
        ),
        (
            "n-drift",
            vec![
                register("n-drift", "sig-a"),
                heartbeat("n-drift", 2, "2026-02-27T00:02:00Z"),
                snapshot("n-drift", "1.4.6", "policy-v2.0", "soft", 1500),
                heartbeat("n-drift", 4, "2026-02-27T00:04:00Z"),
            ],
        ),
        (
            "n-bad",
            vec![
                register("n-bad", "sig-a"),
                heartbeat("n-bad", 2, "2026-02-27T00:02:00Z"),
                r#"{"type":"attestation","node_id":"n-bad","ts":"2026-02-27T00:03:00Z","seq":3,"result":"verified","firmware_signature":"sig-forged"}"#.to_owned(),
                heartbeat("n-bad", 4, "2026-02-27T00:04:00Z"),
            ],
        ),
    ] {
        input.extend(lines.into_iter().map(|line| (node.to_owned(), line)));
    }
    let carried = |seq: u32, ts: &str| {
        format!(
            r#"{{"type":"heartbeat","node_id":"n-replay","ts":"{ts}","seq":{seq},"health":"OK"}}"#
        )
    };
    let replaying = [
        register("n-replay", "sig-a"),
        heartbeat("n-replay", 2, "2026-02-27T00:02:00Z"),
        snapshot("n-replay", "1.4.7", "policy-v2.1", "hard", 2000),
        r#"{"type":"link","node_id":"n-replay","ts":"2026-02-27T00:03:10Z","seq":4,"state":"lost"}"#.to_owned(),
        r#"{"type":"link","node_id":"n-replay","ts":"2026-02-27T00:03:40Z","seq":7,"state":"detected"}"#.to_owned(),
        r#"{"type":"replay","node_id":"n-replay","ts":"2026-02-27T00:03:50Z","seq":8,"phase":"begin","session_id":"rs-1","backlog_total":4}"#.to_owned(),
        format!(
            r#"{{"type":"replay","node_id":"n-replay","ts":"2026-02-27T00:03:55Z","seq":9,"phase":"chunk","session_id":"rs-1","chunk_seq":1,"backlog_total":4,"events":[{},{}]}}"#,
            carried(5, "2026-02-27T00:03:20Z"),
            carried(6, "2026-02-27T00:03:30Z")
        ),
    ];
    input.extend(
        replaying
            .into_iter()
            .map(|line| ("n-replay".to_owned(), line)),
    );
    // A node of a domain nobody governs, registered with one key and then "re-registered"
    // with another: ingest rejects the second as `key_conflict` and reports a trust violation.
    let forged = [
        forged_register(1, "2026-02-27T00:01:00Z", &public_key(1)),
        heartbeat("n-forged", 2, "2026-02-27T00:02:00Z"),
        forged_reregistration(),
    ];
    input.extend(forged.into_iter().map(|line| ("n-forged".to_owned(), line)));
    input
}
