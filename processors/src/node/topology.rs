//! A node's declared relationships to its peers (`edge` events): the latest declaration per
//! (peer, relation) by `seq`, and the twin's sorted `edges` list. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{AvroEnum, EdgeDecl, EpochMillis, NodeEdge};

/// The node's edges: peer -> relation -> the declaration in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopologyState {
    /// Declarations by peer id, then relation (so iteration is sorted).
    pub edges: BTreeMap<String, BTreeMap<String, EdgeEntry>>,
}

/// The declaration in force for one (peer, relation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeEntry {
    /// `UP`, `DOWN` or `REMOVED` (a removed edge stays, with this state).
    pub state: String,
    /// Event time of the declaration that set this state.
    pub changed_ms: EpochMillis,
    /// `seq` of the latest declaration applied.
    pub seq: i64,
}

/// Applies a declaration with `seq` made at `at_ms`; an older `seq` for the same (peer,
/// relation) is ignored. Returns whether the twin's edges changed (a newer declaration of the
/// same state only moves the stored `seq`).
pub fn declare(state: &mut TopologyState, edge: &EdgeDecl, seq: i64, at_ms: EpochMillis) -> bool {
    let relations = state.edges.entry(edge.peer_id.clone()).or_default();
    let new_state = edge.state.symbol();
    let held = relations.get(edge.relation.symbol());
    if held.is_some_and(|held| seq <= held.seq) {
        return false;
    }
    let same = held.filter(|held| held.state == new_state);
    let changed_ms = same.map_or(at_ms, |held| held.changed_ms);
    let changed = same.is_none();
    relations.insert(
        edge.relation.symbol().to_owned(),
        EdgeEntry {
            state: new_state.to_owned(),
            changed_ms,
            seq,
        },
    );
    changed
}

/// The twin's `edges`: one per (peer, relation), sorted by both.
pub fn edges(state: &TopologyState) -> Vec<NodeEdge> {
    let per_peer = state.edges.iter();
    per_peer
        .flat_map(|(peer, relations)| {
            relations.iter().map(move |(relation, entry)| NodeEdge {
                peer_id: peer.clone(),
                relation: relation.clone(),
                state: entry.state.clone(),
                changed_ms: entry.changed_ms,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use sxfleet_schemas::{EdgeRelation as R, EdgeState as S};

    use super::*;

    fn decl(peer: &str, relation: R, state: S) -> EdgeDecl {
        EdgeDecl {
            peer_id: peer.to_owned(),
            relation,
            state,
        }
    }

    /// Seed 003's fleet graph: node-15 signals to the zone's relay and carries media to
    /// node-16; declarations in any order keep the latest per (peer, relation) by seq.
    #[test]
    fn the_latest_declaration_per_peer_and_relation_wins() {
        let mut state = TopologyState::default();
        // (peer, relation, state, seq, at, changed, edges after as (peer, relation, state, changed_ms))
        type Case<'a> = (
            &'a str,
            R,
            S,
            i64,
            i64,
            bool,
            &'a [(&'a str, &'a str, &'a str, i64)],
        );
        let cases: &[Case] = &[
            (
                "relay-7",
                R::Signaling,
                S::Up,
                1,
                100,
                true,
                &[("relay-7", "SIGNALING", "UP", 100)],
            ),
            (
                "node-16",
                R::Media,
                S::Up,
                2,
                200,
                true,
                &[
                    ("node-16", "MEDIA", "UP", 200),
                    ("relay-7", "SIGNALING", "UP", 100),
                ],
            ),
            // Same state again: nothing the twin shows changes.
            (
                "relay-7",
                R::Signaling,
                S::Up,
                3,
                300,
                false,
                &[
                    ("node-16", "MEDIA", "UP", 200),
                    ("relay-7", "SIGNALING", "UP", 100),
                ],
            ),
            (
                "node-16",
                R::Media,
                S::Removed,
                5,
                500,
                true,
                &[
                    ("node-16", "MEDIA", "REMOVED", 500),
                    ("relay-7", "SIGNALING", "UP", 100),
                ],
            ),
            // An older declaration (a replayed one, say) does not bring it back.
            (
                "node-16",
                R::Media,
                S::Up,
                4,
                400,
                false,
                &[
                    ("node-16", "MEDIA", "REMOVED", 500),
                    ("relay-7", "SIGNALING", "UP", 100),
                ],
            ),
            (
                "node-16",
                R::Bypass,
                S::Down,
                6,
                600,
                true,
                &[
                    ("node-16", "BYPASS", "DOWN", 600),
                    ("node-16", "MEDIA", "REMOVED", 500),
                    ("relay-7", "SIGNALING", "UP", 100),
                ],
            ),
        ];
        for (peer, relation, edge_state, seq, at, changed, want) in cases {
            let got = declare(&mut state, &decl(peer, *relation, *edge_state), *seq, *at);
            assert_eq!(got, *changed, "seq {seq}");
            let edges = edges(&state);
            let edges: Vec<(&str, &str, &str, i64)> = edges
                .iter()
                .map(|e| {
                    (
                        e.peer_id.as_str(),
                        e.relation.as_str(),
                        e.state.as_str(),
                        e.changed_ms,
                    )
                })
                .collect();
            assert_eq!(edges, *want, "seq {seq}");
        }
    }
}
