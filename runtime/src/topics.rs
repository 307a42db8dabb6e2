//! The pipeline's topics and their creation.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;

use crate::{KafkaConfig, RuntimeError};

/// Topic names of one deployment. Every name carries the same prefix (empty in production),
/// so tests and side-by-side deployments never share a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics {
    /// Raw JSON (or Avro in the Confluent wire format) from nodes, relays and controllers.
    pub raw: String,
    /// Canonical node events (Avro), keyed by node id.
    pub events: String,
    /// Canonical control-plane records (Avro), keyed by domain or bundle id.
    pub control: String,
    /// Latest digital twin per node (Avro), compacted.
    pub twin: String,
    /// Rejected input with its original bytes and a reason.
    pub dlq: String,
    /// Connectivity and lifecycle transitions (Avro), keyed by node id.
    pub transitions: String,
    /// Drift evaluations (Avro), keyed by node id.
    pub drift: String,
    /// Attention-queue alerts raised and resolved (Avro), keyed by node or domain id.
    pub alerts: String,
    /// Authority decisions: the audit of desired-state writes (Avro), keyed by domain id.
    pub authority: String,
    /// Latest state per trust domain (Avro `Domain`), compacted, keyed by domain id; written
    /// by the fleet processor's partition 0.
    pub domains: String,
    /// Every policy bundle version with its status (Avro `BundleVersion`), compacted, keyed by
    /// `<bundle_id>@<version>`; written by the fleet processor's partition 0.
    pub bundles: String,
    /// Commands delivered to nodes (Avro `Command`), keyed by node id; written by the fleet
    /// processor (a re-send is another record with a higher `attempt`).
    pub commands: String,
    /// Every status change of a command (Avro `CommandStatus`), keyed by node id (or target
    /// id for a domain-level rejection); written by the fleet processor.
    pub command_status: String,
    prefix: String,
}

impl Default for Topics {
    fn default() -> Self {
        Self::with_prefix("")
    }
}

impl Topics {
    /// The standard names, each preceded by `prefix`.
    pub fn with_prefix(prefix: &str) -> Self {
        let name = |base: &str| format!("{prefix}{base}");
        Self {
            raw: name("fleet.raw.v1"),
            events: name("fleet.events.v1"),
            control: name("fleet.control.v1"),
            twin: name("fleet.twin.v1"),
            dlq: name("fleet.dlq.v1"),
            transitions: name("fleet.transitions.v1"),
            drift: name("fleet.drift.v1"),
            alerts: name("fleet.alerts.v1"),
            authority: name("fleet.authority.v1"),
            domains: name("fleet.domains.v1"),
            bundles: name("fleet.bundles.v1"),
            commands: name("fleet.commands.v1"),
            command_status: name("fleet.command-status.v1"),
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix every name carries.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The changelog topic of `store` in application `app_id`: `<app>-<store>-changelog`,
    /// preceded by this deployment's prefix.
    pub fn changelog(&self, app_id: &str, store: &str) -> String {
        format!("{}{app_id}-{store}-changelog", self.prefix)
    }

    /// Specs of the pipeline's own topics, each with `partitions` partitions.
    pub fn specs(&self, partitions: i32) -> Vec<TopicSpec> {
        vec![
            TopicSpec::new(&self.raw, partitions),
            TopicSpec::new(&self.events, partitions),
            TopicSpec::new(&self.control, partitions),
            TopicSpec::new(&self.twin, partitions).compacted(),
            TopicSpec::new(&self.dlq, partitions),
            TopicSpec::new(&self.transitions, partitions),
            TopicSpec::new(&self.drift, partitions),
            TopicSpec::new(&self.alerts, partitions),
            TopicSpec::new(&self.authority, partitions),
            TopicSpec::new(&self.domains, partitions).compacted(),
            TopicSpec::new(&self.bundles, partitions).compacted(),
            TopicSpec::new(&self.commands, partitions),
            TopicSpec::new(&self.command_status, partitions),
        ]
    }
}

/// A topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Partition count.
    pub partitions: i32,
    /// `cleanup.policy=compact` when true.
    pub compact: bool,
}

impl TopicSpec {
    /// A delete-policy topic.
    pub fn new(name: &str, partitions: i32) -> Self {
        Self {
            name: name.to_owned(),
            partitions,
            compact: false,
        }
    }

    /// The same topic with `cleanup.policy=compact`.
    pub fn compacted(mut self) -> Self {
        self.compact = true;
        self
    }
}

/// Creates each topic that does not exist yet (replication factor 1 unless the cluster's
/// default says otherwise). Existing topics are left as they are.
///
/// # Errors
/// [`RuntimeError::Kafka`] when the admin request fails or a topic cannot be created.
pub async fn ensure_topics(kafka: &KafkaConfig, specs: &[TopicSpec]) -> Result<(), RuntimeError> {
    let admin: AdminClient<DefaultClientContext> = kafka
        .client()
        .create()
        .map_err(RuntimeError::kafka("create admin client"))?;
    let new_topics: Vec<NewTopic<'_>> = specs
        .iter()
        .map(|spec| {
            let topic = NewTopic::new(&spec.name, spec.partitions, TopicReplication::Fixed(-1));
            if spec.compact {
                topic.set("cleanup.policy", "compact")
            } else {
                topic
            }
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(RuntimeError::kafka("create topics"))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => {
                return Err(RuntimeError::Kafka {
                    operation: "create topic",
                    source: rdkafka::error::KafkaError::AdminOp(code),
                })
            }
        }
    }
    Ok(())
}

/// How many partitions `topic` has, from the cluster's metadata.
///
/// # Errors
/// [`RuntimeError::Kafka`] when the metadata request fails; [`RuntimeError::Topic`] when the
/// topic does not exist or has no partitions.
pub fn partition_count(kafka: &KafkaConfig, topic: &str) -> Result<i32, RuntimeError> {
    let client: BaseConsumer = kafka
        .client()
        .create()
        .map_err(RuntimeError::kafka("create metadata client"))?;
    let metadata = client
        .fetch_metadata(Some(topic), Duration::from_secs(30))
        .map_err(RuntimeError::kafka("fetch topic metadata"))?;
    let count = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map_or(0, |t| t.partitions().len());
    match i32::try_from(count) {
        Ok(count) if count > 0 => Ok(count),
        _ => Err(RuntimeError::Topic {
            topic: topic.to_owned(),
            detail: "does not exist or has no partitions",
        }),
    }
}
