//! Writer schemas by id, bounded; the oldest entry makes room.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use apache_avro::Schema;

use crate::reject::Rejection;

/// Bounded cache by id; the oldest entry makes room.
pub(super) struct Cache {
    entries: HashMap<u32, Result<Arc<Schema>, Rejection>>,
    order: VecDeque<u32>,
    capacity: usize,
}

impl Cache {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub(super) fn get(&self, id: u32) -> Option<Result<Arc<Schema>, Rejection>> {
        self.entries.get(&id).cloned()
    }

    pub(super) fn insert(&mut self, id: u32, entry: Result<Arc<Schema>, Rejection>) {
        if self.entries.insert(id, entry).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }
}
