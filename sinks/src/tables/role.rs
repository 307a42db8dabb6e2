//! The sink's inputs: which of its topics a record came from.

use sxfleet_runtime::Topics;

/// Which of the sink's input topics a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicRole {
    /// Canonical events (`FleetEvent`).
    Events,
    /// Digital twins (`Node`).
    Twin,
    /// Dead letters (`DeadLetter`).
    DeadLetters,
    /// Connectivity and lifecycle ledger entries (`StateTransition`).
    Transitions,
    /// Drift reports (`DriftReport`).
    Drift,
    /// Alerts (`Alert`).
    Alerts,
    /// Authority decisions (`AuthorityDecision`).
    Authority,
    /// Domains as the processor publishes them (`Domain`).
    Domains,
    /// Policy bundle versions and their status (`BundleVersion`).
    Bundles,
    /// Every status change of every command (`CommandStatus`).
    CommandStatus,
}

impl TopicRole {
    /// Every input of the sink.
    pub const ALL: [TopicRole; 10] = [
        TopicRole::Events,
        TopicRole::Twin,
        TopicRole::DeadLetters,
        TopicRole::Transitions,
        TopicRole::Drift,
        TopicRole::Alerts,
        TopicRole::Authority,
        TopicRole::Domains,
        TopicRole::Bundles,
        TopicRole::CommandStatus,
    ];

    /// The topic of this role among `topics`.
    pub fn topic(self, topics: &Topics) -> &str {
        match self {
            TopicRole::Events => &topics.events,
            TopicRole::Twin => &topics.twin,
            TopicRole::DeadLetters => &topics.dlq,
            TopicRole::Transitions => &topics.transitions,
            TopicRole::Drift => &topics.drift,
            TopicRole::Alerts => &topics.alerts,
            TopicRole::Authority => &topics.authority,
            TopicRole::Domains => &topics.domains,
            TopicRole::Bundles => &topics.bundles,
            TopicRole::CommandStatus => &topics.command_status,
        }
    }

    /// The role of `topic` among `topics`, if it is one of the sink's inputs.
    pub fn of(topic: &str, topics: &Topics) -> Option<TopicRole> {
        TopicRole::ALL
            .into_iter()
            .find(|role| role.topic(topics) == topic)
    }
}
