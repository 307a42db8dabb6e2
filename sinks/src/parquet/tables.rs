//! The column lists of the sink's tables for Arrow, one [`ArrowTable`] impl per row type, in
//! the order and with the names of the ClickHouse DDL ([`crate::ddl`]). Adding a table: one
//! impl here and one line in [`super::store::ParquetStore::write`].

use super::arrow::{col, ArrowTable, Column, Kind};
use crate::ddl::{self, table};
use crate::rows::{
    AlertRow, AuthorityRow, DlqRow, DriftRow, EventRow, NodeStateRow, TransitionRow,
};

impl ArrowTable for EventRow {
    const TABLE: &'static str = table::EVENTS;
    fn columns() -> Vec<Column<Self>> {
        vec![
            col("event_id", Kind::Str(|r| &r.event_id)),
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("seq", Kind::U64(|r| r.seq)),
            col("kind", Kind::Enum(ddl::EVENT_KIND, |r| r.kind)),
            col("source", Kind::Enum(ddl::SOURCE, |r| r.source)),
            col("replayed", Kind::U8(|r| r.replayed)),
            col("event_time", Kind::DateTime(|r| r.event_time)),
            col("event_time_ms", Kind::I64(|r| r.event_time_ms)),
            col("received_ms", Kind::I64(|r| r.received_ms)),
            col("payload", Kind::Str(|r| &r.payload)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

impl ArrowTable for NodeStateRow {
    const TABLE: &'static str = table::NODE_STATE;
    fn columns() -> Vec<Column<Self>> {
        vec![
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("name", Kind::Str(|r| &r.name)),
            col("kind", Kind::Enum(ddl::NODE_KIND, |r| r.kind)),
            col("tags", Kind::Strings(|r| &r.tags)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("region", Kind::Str(|r| &r.region)),
            col("zone", Kind::Str(|r| &r.zone)),
            col("authority_level", Kind::Str(|r| &r.authority_level)),
            col("controller_ids", Kind::Strings(|r| &r.controller_ids)),
            col(
                "authority_updated_ms",
                Kind::I64(|r| r.authority_updated_ms),
            ),
            col(
                "connectivity",
                Kind::Enum(ddl::CONNECTIVITY, |r| r.connectivity),
            ),
            col("last_seen_ms", Kind::I64(|r| r.last_seen_ms)),
            col("rtt_ms", Kind::OptF64(|r| r.rtt_ms)),
            col("loss_pct", Kind::OptF64(|r| r.loss_pct)),
            col("bandwidth_kbps", Kind::OptI64(|r| r.bandwidth_kbps)),
            col("seconds_behind", Kind::I64(|r| r.seconds_behind)),
            col("backlog_messages", Kind::I64(|r| r.backlog_messages)),
            col("replay_required", Kind::U8(|r| r.replay_required)),
            col(
                "lifecycle_phase",
                Kind::Enum(ddl::LIFECYCLE_PHASE, |r| r.lifecycle_phase),
            ),
            col("lifecycle_state", Kind::Str(|r| &r.lifecycle_state)),
            col("lifecycle_reason", Kind::Str(|r| &r.lifecycle_reason)),
            col(
                "lifecycle_transition_ms",
                Kind::I64(|r| r.lifecycle_transition_ms),
            ),
            col("health", Kind::Enum(ddl::HEALTH, |r| r.health)),
            col("last_heartbeat_ms", Kind::I64(|r| r.last_heartbeat_ms)),
            col("uptime_s", Kind::OptI64(|r| r.uptime_s)),
            col("reported_version", Kind::Str(|r| &r.reported_version)),
            col("policy_version", Kind::Str(|r| &r.policy_version)),
            col("desired_bundle_id", Kind::Str(|r| &r.desired_bundle_id)),
            col("target_version", Kind::Str(|r| &r.target_version)),
            col(
                "desired_policy_version",
                Kind::Str(|r| &r.desired_policy_version),
            ),
            col("drift_score", Kind::F64(|r| r.drift_score)),
            col("drift_objects", Kind::I32(|r| r.drift_objects)),
            col("drift_evaluated_ms", Kind::I64(|r| r.drift_evaluated_ms)),
            col("hw_serial", Kind::Str(|r| &r.hw_serial)),
            col("hw_manufacturer", Kind::Str(|r| &r.hw_manufacturer)),
            col("hw_model", Kind::Str(|r| &r.hw_model)),
            col("hw_batch_id", Kind::Str(|r| &r.hw_batch_id)),
            col("hw_origin", Kind::Str(|r| &r.hw_origin)),
            col("firmware_version", Kind::Str(|r| &r.firmware_version)),
            col("firmware_signature", Kind::Str(|r| &r.firmware_signature)),
            col("sbom_hash", Kind::Str(|r| &r.sbom_hash)),
            col(
                "attestation",
                Kind::Enum(ddl::ATTESTATION, |r| r.attestation),
            ),
            col("attested_ms", Kind::I64(|r| r.attested_ms)),
            col("version", Kind::U64(|r| r.version)),
            col("last_seq", Kind::U64(|r| r.last_seq)),
            col("last_event_id", Kind::Str(|r| &r.last_event_id)),
            col("events_applied", Kind::U64(|r| r.events_applied)),
            col("updated_ms", Kind::I64(|r| r.updated_ms)),
            col("updated_at", Kind::DateTime(|r| r.updated_at)),
            col(
                "drift_status",
                Kind::Enum(ddl::DRIFT_STATUS, |r| r.drift_status),
            ),
            col("drift_stale_by_ms", Kind::OptI64(|r| r.drift_stale_by_ms)),
            col("drift_age_ms", Kind::OptI64(|r| r.drift_age_ms)),
            col(
                "trust_state",
                Kind::Enum(ddl::TRUST_STATE, |r| r.trust_state),
            ),
            col("trust_violations", Kind::U64(|r| r.trust_violations)),
            col("last_violation", Kind::Str(|r| &r.last_violation)),
            col("last_violation_ms", Kind::I64(|r| r.last_violation_ms)),
            col("attention_score", Kind::F64(|r| r.attention_score)),
            col("alert_open", Kind::U8(|r| r.alert_open)),
            col("attention_reasons", Kind::Strings(|r| &r.attention_reasons)),
            col("replay_session", Kind::Str(|r| &r.replay_session)),
            col("replay_started_ms", Kind::I64(|r| r.replay_started_ms)),
            col("replay_chunks", Kind::I64(|r| r.replay_chunks)),
            col("replay_events", Kind::I64(|r| r.replay_events)),
            col(
                "replay_backlog_total",
                Kind::OptI64(|r| r.replay_backlog_total),
            ),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

impl ArrowTable for DlqRow {
    const TABLE: &'static str = table::DLQ;
    fn columns() -> Vec<Column<Self>> {
        vec![
            col("received_ms", Kind::I64(|r| r.received_ms)),
            col("received_at", Kind::DateTime(|r| r.received_at)),
            col("stage", Kind::Str(|r| &r.stage)),
            col("source", Kind::Enum(ddl::SOURCE, |r| r.source)),
            col("reason_code", Kind::Str(|r| &r.reason_code)),
            col("detail", Kind::Str(|r| &r.detail)),
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("source_topic", Kind::Str(|r| &r.source_topic)),
            col("source_partition", Kind::I32(|r| r.source_partition)),
            col("source_offset", Kind::I64(|r| r.source_offset)),
            col("original", Kind::Bytes(|r| &r.original)),
            col("dlq_topic", Kind::Str(|r| &r.dlq_topic)),
            col("dlq_partition", Kind::I32(|r| r.dlq_partition)),
            col("dlq_offset", Kind::I64(|r| r.dlq_offset)),
        ]
    }
}

impl ArrowTable for TransitionRow {
    const TABLE: &'static str = table::TRANSITIONS;
    fn columns() -> Vec<Column<Self>> {
        vec![
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col(
                "machine",
                Kind::Enum(ddl::TRANSITION_MACHINE, |r| r.machine),
            ),
            col("at", Kind::DateTime(|r| r.at)),
            col("at_ms", Kind::I64(|r| r.at_ms)),
            col("from_state", Kind::Str(|r| &r.from_state)),
            col("to_state", Kind::Str(|r| &r.to_state)),
            col("applied", Kind::U8(|r| r.applied)),
            col("reason", Kind::Str(|r| &r.reason)),
            col("latency_ms", Kind::OptF64(|r| r.latency_ms)),
            col("backlog", Kind::OptI64(|r| r.backlog)),
            col("sync_interval_ms", Kind::OptI64(|r| r.sync_interval_ms)),
            col("phase", Kind::Str(|r| &r.phase)),
            col("event_id", Kind::Str(|r| &r.event_id)),
            col("seq", Kind::U64(|r| r.seq)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

impl ArrowTable for DriftRow {
    const TABLE: &'static str = table::DRIFT_EVALUATIONS;
    fn columns() -> Vec<Column<Self>> {
        vec![
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("evaluated", Kind::DateTime(|r| r.evaluated)),
            col("evaluated_ms", Kind::I64(|r| r.evaluated_ms)),
            col("status", Kind::Enum(ddl::DRIFT_STATUS, |r| r.status)),
            col("bundle_id", Kind::Str(|r| &r.bundle_id)),
            col("desired_source", Kind::Str(|r| &r.desired_source)),
            col("version_desired", Kind::Str(|r| &r.version_desired)),
            col("version_actual", Kind::Str(|r| &r.version_actual)),
            col("version_severity", Kind::Str(|r| &r.version_severity)),
            col("version_impact", Kind::Str(|r| &r.version_impact)),
            col("config_fields", Kind::Strings(|r| &r.config_fields)),
            col("config_desired", Kind::Strings(|r| &r.config_desired)),
            col("config_actual", Kind::Strings(|r| &r.config_actual)),
            col("config_missing", Kind::Flags(|r| &r.config_missing)),
            col("config_desired_keys", Kind::I32(|r| r.config_desired_keys)),
            col("policy_version", Kind::Str(|r| &r.policy_version)),
            col(
                "policy_actual_version",
                Kind::Str(|r| &r.policy_actual_version),
            ),
            col("compliance_score", Kind::OptF64(|r| r.compliance_score)),
            col("policy_violations", Kind::I32(|r| r.policy_violations)),
            col("score", Kind::F64(|r| r.score)),
            col("objects_out_of_spec", Kind::I32(|r| r.objects_out_of_spec)),
            col("last_sync_ms", Kind::I64(|r| r.last_sync_ms)),
            col("stale_by_ms", Kind::OptI64(|r| r.stale_by_ms)),
            col(
                "first_out_of_spec_ms",
                Kind::I64(|r| r.first_out_of_spec_ms),
            ),
            col("drift_age_ms", Kind::OptI64(|r| r.drift_age_ms)),
            col("seq", Kind::U64(|r| r.seq)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

impl ArrowTable for AlertRow {
    const TABLE: &'static str = table::ALERTS;
    fn columns() -> Vec<Column<Self>> {
        vec![
            col("alert_id", Kind::Str(|r| &r.alert_id)),
            col("kind", Kind::Enum(ddl::ALERT_KIND, |r| r.kind)),
            col("action", Kind::Enum(ddl::ALERT_ACTION, |r| r.action)),
            col(
                "subject_kind",
                Kind::Enum(ddl::SUBJECT_KIND, |r| r.subject_kind),
            ),
            col("subject_id", Kind::Str(|r| &r.subject_id)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("at", Kind::DateTime(|r| r.at)),
            col("at_ms", Kind::I64(|r| r.at_ms)),
            col("score", Kind::F64(|r| r.score)),
            col("reasons", Kind::Strings(|r| &r.reasons)),
            col("detail", Kind::Str(|r| &r.detail)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

impl ArrowTable for AuthorityRow {
    const TABLE: &'static str = table::AUTHORITY_AUDIT;
    fn columns() -> Vec<Column<Self>> {
        vec![
            col("at", Kind::DateTime(|r| r.at)),
            col("at_ms", Kind::I64(|r| r.at_ms)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("decision", Kind::Enum(ddl::DECISION, |r| r.decision)),
            col("subject", Kind::Str(|r| &r.subject)),
            col("target_kind", Kind::Str(|r| &r.target_kind)),
            col("target_id", Kind::Str(|r| &r.target_id)),
            col("controller_id", Kind::Str(|r| &r.controller_id)),
            col("epoch", Kind::I64(|r| r.epoch)),
            col("level", Kind::Str(|r| &r.level)),
            col("bundle_id", Kind::Str(|r| &r.bundle_id)),
            col("loser_controller_id", Kind::Str(|r| &r.loser_controller_id)),
            col("loser_epoch", Kind::OptI64(|r| r.loser_epoch)),
            col("loser_at_ms", Kind::I64(|r| r.loser_at_ms)),
            col("rule", Kind::Str(|r| &r.rule)),
            col("reason", Kind::Str(|r| &r.reason)),
            col("controllers", Kind::Strings(|r| &r.controllers)),
            col("detail", Kind::Str(|r| &r.detail)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}
