//! What the fleet processor's store holds per key: a node's state, or (under
//! [`CONTROL_KEY`]) the partition's control state. One store, so one changelog and one snapshot
//! per partition carry both.

use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::store::StoreCodec;

use crate::control::ControlState;
use crate::node::{NodeState, NODE_STATE_FORMAT, NODE_STATE_FORMAT_V2, NODE_STATE_FORMAT_V4};

/// Key of the partition's control state. `#` is not allowed in node ids, so it cannot collide.
pub const CONTROL_KEY: &str = "#control";

/// Version of the store's snapshot format: node entries (format byte 6, or 4 and 2) and control
/// entries (format byte 5, or 3). Snapshots of earlier versions are ignored (the changelog rebuilds them).
pub const STORE_FORMAT_VERSION: u32 = 4;

/// Changelog format byte of the control state (JSON follows). Format 5 added domain
/// declarations, sync reports, published domain records and bundle version statuses.
pub const CONTROL_STATE_FORMAT: u8 = 5;

/// The previous control format (JSON without the fields format 5 added), still read.
pub const CONTROL_STATE_FORMAT_V3: u8 = 3;

/// One value of the fleet processor's store.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A node (key: node id).
    Node(Box<NodeState>),
    /// The partition's control state (key: [`CONTROL_KEY`]).
    Control(Box<ControlState>),
}

impl Entry {
    /// The node state, if this is one.
    pub fn node(&self) -> Option<&NodeState> {
        match self {
            Entry::Node(state) => Some(state),
            Entry::Control(_) => None,
        }
    }

    /// The node state of `node_id` in this slot, created when the slot is empty. `None` when the
    /// slot holds the control state.
    pub fn node_mut<'a>(slot: &'a mut Option<Entry>, node_id: &str) -> Option<&'a mut NodeState> {
        match slot.get_or_insert_with(|| Entry::Node(Box::new(NodeState::new(node_id)))) {
            Entry::Node(state) => Some(state),
            Entry::Control(_) => None,
        }
    }
}

impl StoreCodec for Entry {
    fn encode(&self) -> Result<Vec<u8>, InternalError> {
        match self {
            Entry::Node(state) => state.encode(),
            Entry::Control(control) => {
                let mut bytes = vec![CONTROL_STATE_FORMAT];
                serde_json::to_writer(&mut bytes, control).map_err(|error| {
                    InternalError(format!("control state does not encode: {error}"))
                })?;
                Ok(bytes)
            }
        }
    }

    fn decode(bytes: &[u8]) -> Result<Self, InternalError> {
        match bytes.first() {
            Some(&(CONTROL_STATE_FORMAT | CONTROL_STATE_FORMAT_V3)) => serde_json::from_slice(&bytes[1..])
                .map(|control| Entry::Control(Box::new(control)))
                .map_err(|error| InternalError(format!("control state does not decode: {error}"))),
            Some(&(NODE_STATE_FORMAT | NODE_STATE_FORMAT_V4 | NODE_STATE_FORMAT_V2)) => {
                NodeState::decode(bytes).map(|s| Entry::Node(Box::new(s)))
            }
            Some(other) => Err(InternalError(format!(
                "store entry format {other}, expected {NODE_STATE_FORMAT} or {CONTROL_STATE_FORMAT} \
                 (or the older {NODE_STATE_FORMAT_V4}, {NODE_STATE_FORMAT_V2} or \
                 {CONTROL_STATE_FORMAT_V3})"
            ))),
            None => Err(InternalError("empty store entry".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A control state stored in format 3 (before domains, sync reports and bundle versions)
    /// still reads; the fields added since start empty.
    #[test]
    fn the_previous_control_format_still_reads() {
        let mut control = ControlState::default();
        control.authority.parents.insert("eu".into(), None);
        let entry = Entry::Control(Box::new(control.clone()));
        let bytes = entry.encode().unwrap();
        assert_eq!(bytes[0], CONTROL_STATE_FORMAT);
        let mut json: serde_json::Value = serde_json::from_slice(&bytes[1..]).unwrap();
        let fields = json.as_object_mut().unwrap();
        for added in ["domains", "syncs", "bundle_versions", "now_ms", "publishes"] {
            assert!(fields.remove(added).is_some(), "{added}");
        }
        fields["desired"]
            .as_object_mut()
            .unwrap()
            .remove("bundle_times");
        let mut old = vec![CONTROL_STATE_FORMAT_V3];
        old.extend(serde_json::to_vec(&json).unwrap());
        assert_eq!(Entry::decode(&old).unwrap(), entry);
        assert!(Entry::decode(&[9, b'{', b'}']).is_err());
    }
}
