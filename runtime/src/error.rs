//! Errors of the runtime, classed by who must act.

use rdkafka::error::KafkaError;

/// What went wrong while driving a stage.
///
/// Bad input never reaches this type: stages turn it into DLQ records themselves. What is left
/// is either external (Kafka unavailable: the caller may retry) or internal (a broken invariant:
/// stop and alert).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Kafka could not be reached or refused an operation; retrying later may succeed.
    #[error("kafka {operation} failed")]
    Kafka {
        /// What the runtime was doing.
        operation: &'static str,
        /// The client error.
        #[source]
        source: KafkaError,
    },
    /// Restoring a changelog partition did not finish within its time limit.
    #[error("restore of {topic}[{partition}] stalled at offset {position} of {high_watermark}")]
    RestoreStalled {
        /// Changelog topic.
        topic: String,
        /// Changelog partition.
        partition: i32,
        /// Position reached.
        position: i64,
        /// Offset the restore had to reach.
        high_watermark: i64,
    },
    /// A topic the stage needs is missing or unusable.
    #[error("topic {topic}: {detail}")]
    Topic {
        /// Topic name.
        topic: String,
        /// What is wrong with it.
        detail: &'static str,
    },
    /// The consumer has not joined its group yet, so offsets cannot join a transaction.
    #[error("consumer group metadata is not available yet")]
    NoGroupMetadata,
    /// The stage reported a broken invariant; the partition must stop.
    #[error("stage {stage} failed on {topic}[{partition}]@{offset}: {detail}")]
    Internal {
        /// Stage name.
        stage: &'static str,
        /// Input topic.
        topic: String,
        /// Input partition.
        partition: i32,
        /// Input offset.
        offset: i64,
        /// What broke.
        detail: String,
    },
}

impl RuntimeError {
    /// Wraps a Kafka client error with what the runtime was doing.
    pub fn kafka(operation: &'static str) -> impl FnOnce(KafkaError) -> Self {
        move |source| RuntimeError::Kafka { operation, source }
    }

    /// True when retrying the whole session (new consumer, restored state) may succeed. A
    /// client that cannot even be created (bad configuration) or a broken invariant is not.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            RuntimeError::Internal { .. }
                | RuntimeError::Kafka {
                    source: KafkaError::ClientCreation(_),
                    ..
                }
        )
    }
}

/// Formats an error with its whole source chain.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
