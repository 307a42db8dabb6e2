-- migration 1 step 1 (sql): events: one row per canonical event
CREATE TABLE IF NOT EXISTS `fleet`.`events`
(
    event_id String,
    node_id String,
    seq UInt64,
    kind Enum8('UNKNOWN' = 0, 'REGISTER' = 1, 'HEARTBEAT' = 2, 'LINK' = 3, 'SNAPSHOT' = 4, 'LIFECYCLE' = 5, 'ATTESTATION' = 6, 'REPLAY' = 7, 'TRUST_VIOLATION' = 8),
    source Enum8('UNKNOWN' = 0, 'KAFKA_RAW' = 1, 'HTTP' = 2, 'REPLAY' = 3),
    replayed UInt8,
    event_time DateTime('UTC'),
    event_time_ms Int64,
    received_ms Int64,
    payload String,
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (node_id, event_time_ms, seq);

-- migration 2 step 1 (sql): node_state: flattened twin, ReplacingMergeTree by version
CREATE TABLE IF NOT EXISTS `fleet`.`node_state`
(
    node_id String,
    name String,
    kind Enum8('UNKNOWN' = 0, 'EDGE' = 1, 'DC' = 2, 'GATEWAY' = 3, 'RELAY' = 4, 'VIRTUAL' = 5),
    tags Array(String),
    domain_id String,
    region String,
    zone String,
    authority_level String,
    controller_ids Array(String),
    authority_updated_ms Int64,
    connectivity Enum8('UNKNOWN' = 0, 'LIVE' = 1, 'DELAYED' = 2, 'EDGE_CACHED' = 3, 'AUTONOMOUS' = 4, 'DISCONNECTED' = 5, 'RETURNING' = 6, 'REPLAYING' = 7),
    last_seen_ms Int64,
    rtt_ms Nullable(Float64),
    loss_pct Nullable(Float64),
    bandwidth_kbps Nullable(Int64),
    seconds_behind Int64,
    backlog_messages Int64,
    replay_required UInt8,
    lifecycle_phase Enum8('PROVISIONING' = 1, 'ENROLLED' = 2, 'ACTIVE' = 3, 'UPDATING' = 4, 'DEGRADED' = 5, 'QUARANTINED' = 6, 'DECOMMISSIONING' = 7, 'RETIRED' = 8),
    lifecycle_state String,
    lifecycle_reason String,
    lifecycle_transition_ms Int64,
    health Enum8('UNKNOWN' = 0, 'OK' = 1, 'DEGRADED' = 2, 'FAILED' = 3),
    last_heartbeat_ms Int64,
    uptime_s Nullable(Int64),
    reported_version String,
    policy_version String,
    desired_bundle_id String,
    target_version String,
    desired_policy_version String,
    drift_score Float64,
    drift_objects Int32,
    drift_evaluated_ms Int64,
    hw_serial String,
    hw_manufacturer String,
    hw_model String,
    hw_batch_id String,
    hw_origin String,
    firmware_version String,
    firmware_signature String,
    sbom_hash String,
    attestation Enum8('NONE' = 0, 'VERIFIED' = 1, 'FAILED' = 2),
    attested_ms Int64,
    version UInt64,
    last_seq UInt64,
    last_event_id String,
    events_applied UInt64,
    updated_ms Int64,
    updated_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY node_id;

-- migration 3 step 1 (sql): dlq: dead letters with original bytes and reason
CREATE TABLE IF NOT EXISTS `fleet`.`dlq`
(
    received_ms Int64,
    received_at DateTime('UTC'),
    stage String,
    source Enum8('UNKNOWN' = 0, 'KAFKA_RAW' = 1, 'HTTP' = 2, 'REPLAY' = 3),
    reason_code String,
    detail String,
    node_id String,
    source_topic String,
    source_partition Int32,
    source_offset Int64,
    original String,
    dlq_topic String,
    dlq_partition Int32,
    dlq_offset Int64
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(received_at)
ORDER BY (reason_code, received_ms);

-- migration 4 step 1 (sql): transitions: connectivity/lifecycle ledger, ReplacingMergeTree by entry
CREATE TABLE IF NOT EXISTS `fleet`.`transitions`
(
    node_id String,
    machine Enum8('UNKNOWN' = 0, 'CONNECTIVITY' = 1, 'LIFECYCLE' = 2),
    at DateTime('UTC'),
    at_ms Int64,
    from_state String,
    to_state String,
    applied UInt8,
    reason String,
    latency_ms Nullable(Float64),
    backlog Nullable(Int64),
    sync_interval_ms Nullable(Int64),
    phase String,
    event_id String,
    seq UInt64,
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (node_id, machine, seq);

-- migration 5 step 1 (add column node_state.drift_status): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `drift_status` Enum8('UNASSIGNED' = 0, 'IN_SPEC' = 1, 'DRIFTED' = 2, 'UNKNOWN' = 3) DEFAULT 'UNASSIGNED';

-- migration 5 step 2 (add column node_state.drift_stale_by_ms): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `drift_stale_by_ms` Nullable(Int64) DEFAULT NULL;

-- migration 5 step 3 (add column node_state.drift_age_ms): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `drift_age_ms` Nullable(Int64) DEFAULT NULL;

-- migration 5 step 4 (add column node_state.trust_state): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `trust_state` Enum8('UNVERIFIED' = 0, 'TRUSTED' = 1, 'VIOLATED' = 2) DEFAULT 'UNVERIFIED';

-- migration 5 step 5 (add column node_state.trust_violations): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `trust_violations` UInt64 DEFAULT 0;

-- migration 5 step 6 (add column node_state.last_violation): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `last_violation` String DEFAULT '';

-- migration 5 step 7 (add column node_state.last_violation_ms): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `last_violation_ms` Int64 DEFAULT 0;

-- migration 5 step 8 (add column node_state.attention_score): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `attention_score` Float64 DEFAULT 0;

-- migration 5 step 9 (add column node_state.alert_open): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `alert_open` UInt8 DEFAULT 0;

-- migration 5 step 10 (add column node_state.attention_reasons): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `attention_reasons` Array(String) DEFAULT [];

-- migration 5 step 11 (add column node_state.replay_session): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `replay_session` String DEFAULT '';

-- migration 5 step 12 (add column node_state.replay_started_ms): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `replay_started_ms` Int64 DEFAULT 0;

-- migration 5 step 13 (add column node_state.replay_chunks): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `replay_chunks` Int64 DEFAULT 0;

-- migration 5 step 14 (add column node_state.replay_events): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `replay_events` Int64 DEFAULT 0;

-- migration 5 step 15 (add column node_state.replay_backlog_total): node_state: drift verdict, trust, attention and replay columns (Node v2)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `replay_backlog_total` Nullable(Int64) DEFAULT NULL;

-- migration 6 step 1 (sql): drift_evaluations, alerts, authority_audit
CREATE TABLE IF NOT EXISTS `fleet`.`drift_evaluations`
(
    node_id String,
    domain_id String,
    evaluated DateTime('UTC'),
    evaluated_ms Int64,
    status Enum8('UNASSIGNED' = 0, 'IN_SPEC' = 1, 'DRIFTED' = 2, 'UNKNOWN' = 3),
    bundle_id String,
    desired_source String,
    version_desired String,
    version_actual String,
    version_severity String,
    version_impact String,
    config_fields Array(String),
    config_desired Array(String),
    config_actual Array(String),
    config_missing Array(UInt8),
    config_desired_keys Int32,
    policy_version String,
    policy_actual_version String,
    compliance_score Nullable(Float64),
    policy_violations Int32,
    score Float64,
    objects_out_of_spec Int32,
    last_sync_ms Int64,
    stale_by_ms Nullable(Int64),
    first_out_of_spec_ms Int64,
    drift_age_ms Nullable(Int64),
    seq UInt64,
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(evaluated)
ORDER BY (node_id, seq);

-- migration 6 step 2 (sql): drift_evaluations, alerts, authority_audit
CREATE TABLE IF NOT EXISTS `fleet`.`alerts`
(
    alert_id String,
    kind Enum8('ATTENTION' = 1, 'SPLIT_BRAIN' = 2),
    action Enum8('RAISE' = 1, 'RESOLVE' = 2),
    subject_kind Enum8('NODE' = 1, 'DOMAIN' = 2),
    subject_id String,
    domain_id String,
    at DateTime('UTC'),
    at_ms Int64,
    score Float64,
    reasons Array(String),
    detail String,
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (alert_id, action);

-- migration 6 step 3 (sql): drift_evaluations, alerts, authority_audit
CREATE TABLE IF NOT EXISTS `fleet`.`authority_audit`
(
    at DateTime('UTC'),
    at_ms Int64,
    domain_id String,
    decision Enum8('AUDIT' = 1, 'MASTER_CHANGED' = 2, 'SPLIT_BRAIN' = 3, 'SPLIT_BRAIN_RESOLVED' = 4, 'ACCEPTED' = 5, 'REJECTED' = 6),
    subject String,
    target_kind String,
    target_id String,
    controller_id String,
    epoch Int64,
    level String,
    bundle_id String,
    loser_controller_id String,
    loser_epoch Nullable(Int64),
    loser_at_ms Int64,
    rule String,
    reason String,
    controllers Array(String),
    detail String,
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (domain_id, partition, offset);

-- migration 7 step 1 (sql): rollup views: domain_rollup, rollout_status, attention_queue
CREATE VIEW IF NOT EXISTS `fleet`.`domain_rollup` AS
SELECT
    domain_id,
    count() AS nodes,
    countIf(connectivity IN ('DISCONNECTED', 'REPLAYING')) AS excluded,
    nodes - excluded AS covered,
    countIf(connectivity = 'LIVE') AS live,
    countIf(connectivity = 'DELAYED') AS delayed,
    countIf(connectivity = 'EDGE_CACHED') AS edge_cached,
    countIf(connectivity = 'AUTONOMOUS') AS autonomous,
    countIf(connectivity = 'DISCONNECTED') AS disconnected,
    countIf(connectivity = 'RETURNING') AS returning,
    countIf(connectivity = 'REPLAYING') AS replaying,
    countIf(drift_status = 'DRIFTED' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS drifted,
    countIf(drift_status = 'UNKNOWN' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS drift_unknown,
    if(drifted = 0, 0, round(avgIf(drift_score, drift_status = 'DRIFTED' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')), 2))
        AS avg_drift_score,
    max(drift_score) AS max_drift_score,
    countIf(alert_open = 1) AS open_alerts,
    max(seconds_behind) AS worst_sync_debt_s
FROM `fleet`.`node_state` FINAL
GROUP BY domain_id;

-- migration 7 step 2 (sql): rollup views: domain_rollup, rollout_status, attention_queue
CREATE VIEW IF NOT EXISTS `fleet`.`rollout_status` AS
SELECT
    desired_bundle_id AS bundle_id,
    target_version,
    count() AS nodes,
    countIf(connectivity IN ('DISCONNECTED', 'REPLAYING')) AS excluded,
    nodes - excluded AS covered,
    countIf(drift_status = 'IN_SPEC' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS in_spec,
    countIf(drift_status = 'DRIFTED' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS drifted,
    countIf(drift_status = 'UNKNOWN' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS unknown,
    max(seconds_behind) AS worst_sync_debt_s
FROM `fleet`.`node_state` FINAL
WHERE desired_bundle_id != ''
GROUP BY desired_bundle_id, target_version;

-- migration 7 step 3 (sql): rollup views: domain_rollup, rollout_status, attention_queue
CREATE VIEW IF NOT EXISTS `fleet`.`attention_queue` AS
SELECT
    node_id,
    domain_id,
    attention_score,
    attention_reasons,
    alert_open,
    connectivity,
    lifecycle_state,
    drift_status,
    drift_score,
    trust_state,
    seconds_behind
FROM `fleet`.`node_state` FINAL
WHERE attention_score > 0;

-- migration 8 step 1 (sql): events.kind: TRUST_VIOLATION (FleetEvent v2)
ALTER TABLE `fleet`.`events` MODIFY COLUMN kind Enum8('UNKNOWN' = 0, 'REGISTER' = 1, 'HEARTBEAT' = 2, 'LINK' = 3, 'SNAPSHOT' = 4, 'LIFECYCLE' = 5, 'ATTESTATION' = 6, 'REPLAY' = 7, 'TRUST_VIOLATION' = 8);

-- migration 9 step 1 (add column node_state.topic): node_state: Kafka coordinates of each twin row (effectively-once)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `topic` String DEFAULT '';

-- migration 9 step 2 (add column node_state.partition): node_state: Kafka coordinates of each twin row (effectively-once)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `partition` Int32 DEFAULT -1;

-- migration 9 step 3 (add column node_state.offset): node_state: Kafka coordinates of each twin row (effectively-once)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `offset` Int64 DEFAULT -1;

-- migration 10 step 1 (add column transitions.domain_id): transitions.domain_id (StateTransition v2)
ALTER TABLE `fleet`.`transitions` ADD COLUMN `domain_id` String DEFAULT '' AFTER node_id;

-- migration 11 step 1 (sql): domain_minute: rollup per domain and minute, fed by materialized views
CREATE TABLE IF NOT EXISTS `fleet`.`domain_minute`
(
    domain_id String,
    minute DateTime('UTC'),
    transitions UInt64,
    entered_live UInt64,
    entered_delayed UInt64,
    entered_edge_cached UInt64,
    entered_autonomous UInt64,
    entered_disconnected UInt64,
    entered_returning UInt64,
    entered_replaying UInt64,
    lifecycle_transitions UInt64,
    entered_degraded UInt64,
    entered_quarantined UInt64,
    lifecycle_violations UInt64,
    drift_evaluations UInt64,
    drifted UInt64,
    drift_unknown UInt64,
    drift_score_sum Float64,
    alerts UInt64,
    alerts_raised UInt64,
    alerts_resolved UInt64
)
ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (domain_id, minute);

-- migration 11 step 2 (sql): domain_minute: rollup per domain and minute, fed by materialized views
CREATE MATERIALIZED VIEW IF NOT EXISTS `fleet`.`domain_minute_transitions_mv` TO `fleet`.`domain_minute` AS
SELECT
    domain_id,
    toStartOfMinute(at) AS minute,
    count() AS transitions,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'live') AS entered_live,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'delayed') AS entered_delayed,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'edge-cached') AS entered_edge_cached,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'autonomous') AS entered_autonomous,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'disconnected') AS entered_disconnected,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'returning') AS entered_returning,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'replaying') AS entered_replaying,
    countIf(machine = 'LIFECYCLE' AND applied = 1) AS lifecycle_transitions,
    countIf(machine = 'LIFECYCLE' AND applied = 1 AND to_state = 'DEGRADED') AS entered_degraded,
    countIf(machine = 'LIFECYCLE' AND applied = 1 AND to_state = 'QUARANTINED') AS entered_quarantined,
    countIf(machine = 'LIFECYCLE' AND applied = 0) AS lifecycle_violations,
    toUInt64(0) AS drift_evaluations,
    toUInt64(0) AS drifted,
    toUInt64(0) AS drift_unknown,
    0.0 AS drift_score_sum,
    toUInt64(0) AS alerts,
    toUInt64(0) AS alerts_raised,
    toUInt64(0) AS alerts_resolved
FROM `fleet`.`transitions`
GROUP BY domain_id, toStartOfMinute(at);

-- migration 11 step 3 (sql): domain_minute: rollup per domain and minute, fed by materialized views
CREATE MATERIALIZED VIEW IF NOT EXISTS `fleet`.`domain_minute_drift_mv` TO `fleet`.`domain_minute` AS
SELECT
    domain_id,
    toStartOfMinute(evaluated) AS minute,
    toUInt64(0) AS transitions,
    toUInt64(0) AS entered_live,
    toUInt64(0) AS entered_delayed,
    toUInt64(0) AS entered_edge_cached,
    toUInt64(0) AS entered_autonomous,
    toUInt64(0) AS entered_disconnected,
    toUInt64(0) AS entered_returning,
    toUInt64(0) AS entered_replaying,
    toUInt64(0) AS lifecycle_transitions,
    toUInt64(0) AS entered_degraded,
    toUInt64(0) AS entered_quarantined,
    toUInt64(0) AS lifecycle_violations,
    count() AS drift_evaluations,
    countIf(status = 'DRIFTED') AS drifted,
    countIf(status = 'UNKNOWN') AS drift_unknown,
    sum(score) AS drift_score_sum,
    toUInt64(0) AS alerts,
    toUInt64(0) AS alerts_raised,
    toUInt64(0) AS alerts_resolved
FROM `fleet`.`drift_evaluations`
GROUP BY domain_id, toStartOfMinute(evaluated);

-- migration 11 step 4 (sql): domain_minute: rollup per domain and minute, fed by materialized views
CREATE MATERIALIZED VIEW IF NOT EXISTS `fleet`.`domain_minute_alerts_mv` TO `fleet`.`domain_minute` AS
SELECT
    domain_id,
    toStartOfMinute(at) AS minute,
    toUInt64(0) AS transitions,
    toUInt64(0) AS entered_live,
    toUInt64(0) AS entered_delayed,
    toUInt64(0) AS entered_edge_cached,
    toUInt64(0) AS entered_autonomous,
    toUInt64(0) AS entered_disconnected,
    toUInt64(0) AS entered_returning,
    toUInt64(0) AS entered_replaying,
    toUInt64(0) AS lifecycle_transitions,
    toUInt64(0) AS entered_degraded,
    toUInt64(0) AS entered_quarantined,
    toUInt64(0) AS lifecycle_violations,
    toUInt64(0) AS drift_evaluations,
    toUInt64(0) AS drifted,
    toUInt64(0) AS drift_unknown,
    0.0 AS drift_score_sum,
    count() AS alerts,
    countIf(action = 'RAISE') AS alerts_raised,
    countIf(action = 'RESOLVE') AS alerts_resolved
FROM `fleet`.`alerts`
GROUP BY domain_id, toStartOfMinute(at);

-- migration 11 step 5 (backfill domain_minute unless transitions): domain_minute: rollup per domain and minute, fed by materialized views
INSERT INTO `fleet`.`domain_minute`
SELECT
    domain_id,
    toStartOfMinute(at) AS minute,
    count() AS transitions,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'live') AS entered_live,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'delayed') AS entered_delayed,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'edge-cached') AS entered_edge_cached,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'autonomous') AS entered_autonomous,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'disconnected') AS entered_disconnected,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'returning') AS entered_returning,
    countIf(machine = 'CONNECTIVITY' AND applied = 1 AND to_state = 'replaying') AS entered_replaying,
    countIf(machine = 'LIFECYCLE' AND applied = 1) AS lifecycle_transitions,
    countIf(machine = 'LIFECYCLE' AND applied = 1 AND to_state = 'DEGRADED') AS entered_degraded,
    countIf(machine = 'LIFECYCLE' AND applied = 1 AND to_state = 'QUARANTINED') AS entered_quarantined,
    countIf(machine = 'LIFECYCLE' AND applied = 0) AS lifecycle_violations,
    toUInt64(0) AS drift_evaluations,
    toUInt64(0) AS drifted,
    toUInt64(0) AS drift_unknown,
    0.0 AS drift_score_sum,
    toUInt64(0) AS alerts,
    toUInt64(0) AS alerts_raised,
    toUInt64(0) AS alerts_resolved
FROM `fleet`.`transitions` FINAL
GROUP BY domain_id, toStartOfMinute(at);

-- migration 11 step 6 (backfill domain_minute unless drift_evaluations): domain_minute: rollup per domain and minute, fed by materialized views
INSERT INTO `fleet`.`domain_minute`
SELECT
    domain_id,
    toStartOfMinute(evaluated) AS minute,
    toUInt64(0) AS transitions,
    toUInt64(0) AS entered_live,
    toUInt64(0) AS entered_delayed,
    toUInt64(0) AS entered_edge_cached,
    toUInt64(0) AS entered_autonomous,
    toUInt64(0) AS entered_disconnected,
    toUInt64(0) AS entered_returning,
    toUInt64(0) AS entered_replaying,
    toUInt64(0) AS lifecycle_transitions,
    toUInt64(0) AS entered_degraded,
    toUInt64(0) AS entered_quarantined,
    toUInt64(0) AS lifecycle_violations,
    count() AS drift_evaluations,
    countIf(status = 'DRIFTED') AS drifted,
    countIf(status = 'UNKNOWN') AS drift_unknown,
    sum(score) AS drift_score_sum,
    toUInt64(0) AS alerts,
    toUInt64(0) AS alerts_raised,
    toUInt64(0) AS alerts_resolved
FROM `fleet`.`drift_evaluations` FINAL
GROUP BY domain_id, toStartOfMinute(evaluated);

-- migration 11 step 7 (backfill domain_minute unless alerts): domain_minute: rollup per domain and minute, fed by materialized views
INSERT INTO `fleet`.`domain_minute`
SELECT
    domain_id,
    toStartOfMinute(at) AS minute,
    toUInt64(0) AS transitions,
    toUInt64(0) AS entered_live,
    toUInt64(0) AS entered_delayed,
    toUInt64(0) AS entered_edge_cached,
    toUInt64(0) AS entered_autonomous,
    toUInt64(0) AS entered_disconnected,
    toUInt64(0) AS entered_returning,
    toUInt64(0) AS entered_replaying,
    toUInt64(0) AS lifecycle_transitions,
    toUInt64(0) AS entered_degraded,
    toUInt64(0) AS entered_quarantined,
    toUInt64(0) AS lifecycle_violations,
    toUInt64(0) AS drift_evaluations,
    toUInt64(0) AS drifted,
    toUInt64(0) AS drift_unknown,
    0.0 AS drift_score_sum,
    count() AS alerts,
    countIf(action = 'RAISE') AS alerts_raised,
    countIf(action = 'RESOLVE') AS alerts_resolved
FROM `fleet`.`alerts` FINAL
GROUP BY domain_id, toStartOfMinute(at);

-- migration 12 step 1 (add column node_state.domain_path): node_state: domain path, relay path, last sync and edges (Node v3)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `domain_path` Array(String) DEFAULT [];

-- migration 12 step 2 (add column node_state.relay_path): node_state: domain path, relay path, last sync and edges (Node v3)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `relay_path` Array(String) DEFAULT [];

-- migration 12 step 3 (add column node_state.last_sync_ms): node_state: domain path, relay path, last sync and edges (Node v3)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `last_sync_ms` Int64 DEFAULT 0;

-- migration 12 step 4 (add column node_state.edge_peers): node_state: domain path, relay path, last sync and edges (Node v3)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `edge_peers` Array(String) DEFAULT [];

-- migration 12 step 5 (add column node_state.edge_relations): node_state: domain path, relay path, last sync and edges (Node v3)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `edge_relations` Array(String) DEFAULT [];

-- migration 12 step 6 (add column node_state.edge_states): node_state: domain path, relay path, last sync and edges (Node v3)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `edge_states` Array(String) DEFAULT [];

-- migration 12 step 7 (add column node_state.edge_changed_ms): node_state: domain path, relay path, last sync and edges (Node v3)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `edge_changed_ms` Array(Int64) DEFAULT [];

-- migration 13 step 1 (sql): domains (Domain v2) and policy_bundles (BundleVersion)
CREATE TABLE IF NOT EXISTS `fleet`.`domains`
(
    domain_id String,
    name String,
    parent_id String,
    level String,
    autonomy String,
    path Array(String),
    version UInt64,
    master_controller_id String,
    master_level String,
    master_epoch Int64,
    master_since_ms Int64,
    split_brain UInt8,
    contenders Array(String),
    sync_upstream String,
    sync_frequency_ms Int64,
    sync_mode String,
    can_operate_isolated UInt8,
    upstream_controller_id String,
    upstream_peer String,
    upstream_last_sync_ms Int64,
    upstream_frequency_ms Int64,
    upstream_mode String,
    upstream_pending_changes Int64,
    upstream_sync_debt_s Int64,
    upstream_overdue UInt8,
    authority_status String,
    authority_reason String,
    updated_ms Int64,
    updated_at DateTime('UTC'),
    revision UInt64,
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY domain_id;

-- migration 13 step 2 (sql): domains (Domain v2) and policy_bundles (BundleVersion)
CREATE TABLE IF NOT EXISTS `fleet`.`policy_bundles`
(
    bundle_id String,
    version String,
    target_version String,
    policy_version String,
    config_keys Array(String),
    config_values Array(String),
    constraint_keys Array(String),
    constraint_values Array(String),
    status String,
    event_time_ms Int64,
    decided_ms Int64,
    decided_at DateTime('UTC'),
    superseded_by String,
    revision UInt64,
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (bundle_id, version);

-- migration 14 step 1 (sql): hierarchy and topology views: domain_tree_rollup, domain_authority, masters_of_record, assignments, relay_paths, edges, relay_health
CREATE VIEW IF NOT EXISTS `fleet`.`domain_tree_rollup` AS
SELECT
    subtree_id AS domain_id, tree_path, depth, level, parent_id, nodes, direct_nodes, excluded, covered,
    unknown_mode, live, delayed, edge_cached, autonomous, disconnected, returning, replaying,
    impaired, drifted, drift_objects_total AS drift_objects, open_alerts, worst_sync_debt_s, oldest_sync_ms,
    master_controller_id, authority_level, authority_status, authority_reason,
    CASE WHEN authority_status = 'AUTONOMOUS' THEN 'Autonomous' WHEN authority_status = 'DEGRADED' OR impaired * 100 > nodes * 10 THEN 'Degraded' ELSE 'Healthy' END AS status,
    CASE WHEN nodes = 0 THEN '' WHEN unknown_mode = nodes THEN 'Unknown' WHEN live = nodes THEN 'Live' WHEN delayed = nodes THEN 'Delayed' WHEN edge_cached = nodes THEN 'Edge cached' WHEN autonomous = nodes THEN 'Autonomous' WHEN disconnected = nodes THEN 'Disconnected' WHEN returning = nodes THEN 'Returning' WHEN replaying = nodes THEN 'Replaying' ELSE arrayStringConcat(arrayFilter(part -> part != '', [if(unknown_mode > 0, concat('Unknown (', toString(unknown_mode), '/', toString(nodes), ')'), ''), if(live > 0, concat('Live (', toString(live), '/', toString(nodes), ')'), ''), if(delayed > 0, concat('Delayed (', toString(delayed), '/', toString(nodes), ')'), ''), if(edge_cached > 0, concat('Edge cached (', toString(edge_cached), '/', toString(nodes), ')'), ''), if(autonomous > 0, concat('Autonomous (', toString(autonomous), '/', toString(nodes), ')'), ''), if(disconnected > 0, concat('Disconnected (', toString(disconnected), '/', toString(nodes), ')'), ''), if(returning > 0, concat('Returning (', toString(returning), '/', toString(nodes), ')'), ''), if(replaying > 0, concat('Replaying (', toString(replaying), '/', toString(nodes), ')'), '')]), ', ') END
        AS connectivity_summary
FROM (
    SELECT
        subtree_id,
        max(arrayStringConcat(arraySlice(domain_path, 1, indexOf(domain_path, subtree_id)), '/')) AS tree_path,
        toInt64(max(indexOf(domain_path, subtree_id))) - 1 AS depth,
        count() AS nodes,
        countIf(domain_id = subtree_id) AS direct_nodes,
        countIf(connectivity IN ('DISCONNECTED', 'REPLAYING')) AS excluded,
        count() - countIf(connectivity IN ('DISCONNECTED', 'REPLAYING')) AS covered,
        countIf(connectivity = 'UNKNOWN') AS unknown_mode,
        countIf(connectivity = 'LIVE') AS live,
        countIf(connectivity = 'DELAYED') AS delayed,
        countIf(connectivity = 'EDGE_CACHED') AS edge_cached,
        countIf(connectivity = 'AUTONOMOUS') AS autonomous,
        countIf(connectivity = 'DISCONNECTED') AS disconnected,
        countIf(connectivity = 'RETURNING') AS returning,
        countIf(connectivity = 'REPLAYING') AS replaying,
        countIf((connectivity IN ('DELAYED', 'DISCONNECTED') OR health = 'FAILED' OR lifecycle_phase = 'QUARANTINED')) AS impaired,
        countIf(drift_status = 'DRIFTED' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS drifted,
        sumIf(toInt64(drift_objects), NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS drift_objects_total,
        countIf(alert_open = 1) AS open_alerts,
        max(seconds_behind) AS worst_sync_debt_s,
        minIf(last_sync_ms, last_sync_ms > 0) AS oldest_sync_ms
    FROM `fleet`.`node_state` FINAL
    ARRAY JOIN domain_path AS subtree_id
    GROUP BY subtree_id
) AS n
ANY LEFT JOIN
(
    SELECT domain_id AS subtree_id, level, parent_id, master_controller_id, master_level AS authority_level, authority_status, authority_reason FROM `fleet`.`domains` FINAL
) AS d USING subtree_id;

-- migration 14 step 2 (sql): hierarchy and topology views: domain_tree_rollup, domain_authority, masters_of_record, assignments, relay_paths, edges, relay_health
CREATE VIEW IF NOT EXISTS `fleet`.`domain_authority` AS
SELECT domain_id, level, parent_id, master_controller_id, master_level, master_epoch, split_brain, authority_status, authority_reason, can_operate_isolated, upstream_peer, upstream_last_sync_ms, upstream_frequency_ms, upstream_sync_debt_s, upstream_overdue, arrayStringConcat(path, '/') AS tree_path, nodes, worst_sync_debt_s, oldest_sync_ms
FROM (SELECT * FROM `fleet`.`domains` FINAL) AS a
ANY LEFT JOIN (SELECT domain_id, nodes, worst_sync_debt_s, oldest_sync_ms FROM `fleet`.`domain_tree_rollup`) AS r USING domain_id;

-- migration 14 step 3 (sql): hierarchy and topology views: domain_tree_rollup, domain_authority, masters_of_record, assignments, relay_paths, edges, relay_health
CREATE VIEW IF NOT EXISTS `fleet`.`masters_of_record` AS
SELECT domain_id, level, master_controller_id AS controller_id, master_level, master_epoch AS epoch, master_since_ms AS since_ms, split_brain, contenders, authority_status, authority_reason
FROM `fleet`.`domains` FINAL;

-- migration 14 step 4 (sql): hierarchy and topology views: domain_tree_rollup, domain_authority, masters_of_record, assignments, relay_paths, edges, relay_health
CREATE VIEW IF NOT EXISTS `fleet`.`assignments` AS
SELECT at_ms, domain_id, decision, controller_id, level, epoch, target_kind, target_id, bundle_id, rule, reason, detail, "partition", "offset"
FROM `fleet`.`authority_audit` FINAL
WHERE subject = 'ASSIGNMENT' AND decision IN ('ACCEPTED', 'REJECTED');

-- migration 14 step 5 (sql): hierarchy and topology views: domain_tree_rollup, domain_authority, masters_of_record, assignments, relay_paths, edges, relay_health
CREATE VIEW IF NOT EXISTS `fleet`.`relay_paths` AS
SELECT node_id, domain_id, toInt64(hop_number) AS hop, relay_id, connectivity AS mode, health
FROM `fleet`.`node_state` FINAL
ARRAY JOIN relay_path AS relay_id, arrayEnumerate(relay_path) AS hop_number;

-- migration 14 step 6 (sql): hierarchy and topology views: domain_tree_rollup, domain_authority, masters_of_record, assignments, relay_paths, edges, relay_health
CREATE VIEW IF NOT EXISTS `fleet`.`edges` AS
SELECT node_id, domain_id, peer_id, relation, state, changed_ms
FROM `fleet`.`node_state` FINAL
ARRAY JOIN edge_peers AS peer_id, edge_relations AS relation, edge_states AS state, edge_changed_ms AS changed_ms;

-- migration 14 step 7 (sql): hierarchy and topology views: domain_tree_rollup, domain_authority, masters_of_record, assignments, relay_paths, edges, relay_health
CREATE VIEW IF NOT EXISTS `fleet`.`relay_health` AS
SELECT relay_id, relay_mode, relay_health, downstream, degraded, round(degraded / downstream, 3) AS degraded_share,
    CASE WHEN (degraded * 2 >= downstream AND degraded >= 2) OR relay_mode IN ('AUTONOMOUS', 'DISCONNECTED') OR relay_health = 'FAILED' THEN 'FAILING' ELSE 'OK' END AS status
FROM (
    SELECT relay_id, count() AS downstream, countIf((mode IN ('DELAYED', 'AUTONOMOUS', 'DISCONNECTED', 'RETURNING', 'REPLAYING') OR health = 'FAILED')) AS degraded FROM `fleet`.`relay_paths` GROUP BY relay_id
) AS r
ANY LEFT JOIN
(
    SELECT node_id AS relay_id, toString(connectivity) AS relay_mode, toString(health) AS relay_health FROM `fleet`.`node_state` FINAL
) AS o USING relay_id;

-- migration 15 step 1 (sql): events.kind: EDGE (FleetEvent v3)
ALTER TABLE `fleet`.`events` MODIFY COLUMN kind Enum8('UNKNOWN' = 0, 'REGISTER' = 1, 'HEARTBEAT' = 2, 'LINK' = 3, 'SNAPSHOT' = 4, 'LIFECYCLE' = 5, 'ATTESTATION' = 6, 'REPLAY' = 7, 'TRUST_VIOLATION' = 8, 'EDGE' = 9);

-- migration 16 step 1 (sql): events.kind: COMMAND_ACK (FleetEvent v4)
ALTER TABLE `fleet`.`events` MODIFY COLUMN kind Enum8('UNKNOWN' = 0, 'REGISTER' = 1, 'HEARTBEAT' = 2, 'LINK' = 3, 'SNAPSHOT' = 4, 'LIFECYCLE' = 5, 'ATTESTATION' = 6, 'REPLAY' = 7, 'TRUST_VIOLATION' = 8, 'EDGE' = 9, 'COMMAND_ACK' = 10);

-- migration 17 step 1 (sql): node_state: MAINTENANCE phase, open and held commands, maintenance start (Node v4)
ALTER TABLE `fleet`.`node_state` MODIFY COLUMN lifecycle_phase Enum8('PROVISIONING' = 1, 'ENROLLED' = 2, 'ACTIVE' = 3, 'UPDATING' = 4, 'DEGRADED' = 5, 'QUARANTINED' = 6, 'DECOMMISSIONING' = 7, 'RETIRED' = 8, 'MAINTENANCE' = 9);

-- migration 17 step 2 (add column node_state.commands_pending): node_state: MAINTENANCE phase, open and held commands, maintenance start (Node v4)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `commands_pending` Int32 DEFAULT 0;

-- migration 17 step 3 (add column node_state.commands_held): node_state: MAINTENANCE phase, open and held commands, maintenance start (Node v4)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `commands_held` Int32 DEFAULT 0;

-- migration 17 step 4 (add column node_state.maintenance_since_ms): node_state: MAINTENANCE phase, open and held commands, maintenance start (Node v4)
ALTER TABLE `fleet`.`node_state` ADD COLUMN `maintenance_since_ms` Int64 DEFAULT 0;

-- migration 18 step 1 (sql): commands: the status ledger of every command (CommandStatus)
CREATE TABLE IF NOT EXISTS `fleet`.`commands`
(
    command_id String,
    idempotency_key String,
    node_id String,
    domain_id String,
    target_kind Enum8('NODE' = 1, 'DOMAIN' = 2),
    target_id String,
    kind Enum8('UNKNOWN' = 0, 'APPLY_BUNDLE' = 1, 'UPDATE' = 2, 'RESTART' = 3, 'REMEDIATE' = 4, 'DECOMMISSION' = 5, 'MAINTENANCE_START' = 6, 'MAINTENANCE_END' = 7, 'ROTATE_CERTIFICATE' = 8, 'CUSTOM' = 9),
    delivery Enum8('AT_MOST_ONCE' = 1, 'AT_LEAST_ONCE' = 2),
    status Enum8('UNKNOWN' = 0, 'ACCEPTED' = 1, 'HELD' = 2, 'PUBLISHED' = 3, 'RESENT' = 4, 'RECEIVED' = 5, 'APPLIED' = 6, 'FAILED' = 7, 'EXPIRED' = 8, 'LOST' = 9, 'REJECTED' = 10, 'CANCELLED' = 11),
    reason String,
    at DateTime('UTC'),
    at_ms Int64,
    attempts Int32,
    issued_ms Int64,
    expires_ms Int64,
    controller_id String,
    rollout String,
    seq UInt64,
    topic String,
    partition Int32,
    offset Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (node_id, command_id, seq, status);

-- migration 19 step 1 (sql): command views: command_latest, rollouts
CREATE VIEW IF NOT EXISTS `fleet`.`command_latest` AS
SELECT node_id, command_id, idempotency_key, domain_id, target_kind, target_id, kind, delivery, reason, attempts, issued_ms, expires_ms, controller_id, rollout, last_status AS status, last_at_ms AS at_ms, last_seq AS seq, first_ms, resent, published_times, last_published_ms
FROM
(
    SELECT node_id, command_id,
        argMax(idempotency_key, (seq, at_ms, "offset")) AS idempotency_key,
        argMax(domain_id, (seq, at_ms, "offset")) AS domain_id,
        argMax(target_kind, (seq, at_ms, "offset")) AS target_kind,
        argMax(target_id, (seq, at_ms, "offset")) AS target_id,
        argMax(kind, (seq, at_ms, "offset")) AS kind,
        argMax(delivery, (seq, at_ms, "offset")) AS delivery,
        argMax(reason, (seq, at_ms, "offset")) AS reason,
        argMax(attempts, (seq, at_ms, "offset")) AS attempts,
        argMax(issued_ms, (seq, at_ms, "offset")) AS issued_ms,
        argMax(expires_ms, (seq, at_ms, "offset")) AS expires_ms,
        argMax(controller_id, (seq, at_ms, "offset")) AS controller_id,
        argMax(rollout, (seq, at_ms, "offset")) AS rollout,
        argMax(status, (seq, at_ms, "offset")) AS last_status,
        argMax(at_ms, (seq, at_ms, "offset")) AS last_at_ms,
        max(seq) AS last_seq,
        min(at_ms) AS first_ms,
        countIf(status = 'RESENT') AS resent,
        countIf(status IN ('PUBLISHED', 'RESENT')) AS published_times,
        maxIf(at_ms, status IN ('PUBLISHED', 'RESENT')) AS last_published_ms
    FROM `fleet`.`commands` FINAL
    GROUP BY node_id, command_id
);

-- migration 19 step 2 (sql): command views: command_latest, rollouts
CREATE VIEW IF NOT EXISTS `fleet`.`rollouts` AS
SELECT arrayStringConcat(arrayPopBack(splitByChar('@', rollout)), '@') AS bundle_id, arrayElement(splitByChar('@', rollout), -1) AS version, rollout, node_id, domain_id, command_id, status, CASE WHEN status = 'APPLIED' THEN 'converged' WHEN status IN ('FAILED', 'EXPIRED', 'LOST', 'REJECTED') THEN 'failed' WHEN status = 'HELD' THEN 'held' WHEN status = 'CANCELLED' THEN 'cancelled' ELSE 'pending' END AS state, reason, attempts, issued_ms, at_ms, published_times
FROM `fleet`.`command_latest`
WHERE rollout != '';

