//! Event-time timers: at most one per key, per input partition, fired when the partition's
//! event time passes them.
//!
//! Timers are not a store of their own: a stage derives each key's deadline from the key's
//! state (so they are persisted with it) and re-registers it after every change and on
//! restore. The partition's event time only moves forward: with events (their event time) and
//! with tick records the driver appends while the partition is idle, so a replay of the log
//! fires the same timers at the same places.

use std::collections::BTreeSet;

use hashbrown::HashMap;

#[derive(Debug, Default)]
struct PartitionTimers {
    due: BTreeSet<(i64, Box<str>)>,
    by_key: HashMap<Box<str>, i64>,
    event_time: Option<i64>,
}

/// The timers of every owned partition.
#[derive(Debug, Default)]
pub struct Timers {
    partitions: HashMap<i32, PartitionTimers>,
}

impl Timers {
    /// No timers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the timer of `key` to `due_ms`, replacing any earlier one; `None` cancels it.
    pub fn set(&mut self, partition: i32, key: &str, due_ms: Option<i64>) {
        let part = match due_ms {
            Some(_) => self.partitions.entry(partition).or_default(),
            // Cancelling where no timer is armed (every key of a stage without timers) costs
            // no key lookup.
            None => match self.partitions.get_mut(&partition) {
                Some(part) if !part.by_key.is_empty() => part,
                _ => return,
            },
        };
        if let Some(old) = part.by_key.remove(key) {
            part.due.remove(&(old, Box::from(key)));
        }
        if let Some(due) = due_ms {
            part.by_key.insert(key.into(), due);
            part.due.insert((due, key.into()));
        }
    }

    /// Moves `partition`'s event time to `time_ms` if that is later, and removes and returns
    /// the keys whose timers are due by the (new) event time, earliest first, ties by key.
    pub fn advance(&mut self, partition: i32, time_ms: i64) -> Vec<(Box<str>, i64)> {
        let part = self.partitions.entry(partition).or_default();
        let now = part.event_time.map_or(time_ms, |t| t.max(time_ms));
        part.event_time = Some(now);
        let mut fired = Vec::new();
        while let Some(first) = part.due.first() {
            if first.0 > now {
                break;
            }
            if let Some((due, key)) = part.due.pop_first() {
                part.by_key.remove(&key);
                fired.push((key, due));
            }
        }
        fired
    }

    /// The event time `partition` has reached.
    pub fn event_time(&self, partition: i32) -> Option<i64> {
        self.partitions.get(&partition)?.event_time
    }

    /// The pending timer of `key`.
    pub fn due(&self, partition: i32, key: &str) -> Option<i64> {
        self.partitions.get(&partition)?.by_key.get(key).copied()
    }

    /// Drops a partition's timers and event time.
    pub fn revoke(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// Drops everything.
    pub fn reset(&mut self) {
        self.partitions.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Timers;

    #[test]
    fn timers_fire_in_order_once_event_time_passes_them() {
        let mut timers = Timers::new();
        timers.set(0, "b", Some(200));
        timers.set(0, "a", Some(200));
        timers.set(0, "c", Some(100));
        timers.set(1, "x", Some(50));
        assert!(timers.advance(0, 99).is_empty());
        let fired: Vec<(String, i64)> = timers
            .advance(0, 200)
            .into_iter()
            .map(|(k, d)| (k.into(), d))
            .collect();
        assert_eq!(
            fired,
            vec![("c".into(), 100), ("a".into(), 200), ("b".into(), 200)]
        );
        assert!(timers.advance(0, 500).is_empty(), "each timer fires once");
        assert_eq!(timers.due(1, "x"), Some(50), "other partitions untouched");
    }

    #[test]
    fn event_time_never_goes_back_and_late_events_fire_nothing_new() {
        let mut timers = Timers::new();
        timers.advance(0, 1_000);
        timers.set(0, "a", Some(900));
        let fired = timers.advance(0, 10);
        assert_eq!(
            fired.len(),
            1,
            "due by the partition's event time, not the late event's"
        );
        assert_eq!(timers.event_time(0), Some(1_000));
    }

    #[test]
    fn setting_again_replaces_and_none_cancels() {
        let mut timers = Timers::new();
        timers.set(0, "a", Some(100));
        timers.set(0, "a", Some(300));
        assert!(timers.advance(0, 200).is_empty());
        timers.set(0, "a", None);
        assert!(timers.advance(0, 400).is_empty());
        assert_eq!(timers.due(0, "a"), None);
    }
}
