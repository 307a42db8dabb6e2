//! Desired-state resolution for the drift projection: which policy bundle applies to a node,
//! and where that choice came from ([`ResolvedDesired`], [`DesiredSource`]).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{DomainDef, EpochMillis, PolicyBundle};

use super::version::version_order;
use super::versioned::{decide, Offer, Verdict};

/// Where the desired state of a node comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DesiredSource {
    /// Assigned to the node itself.
    Node,
    /// Assigned to a domain on the node's chain (its own domain or an ancestor).
    Domain {
        /// Domain whose assignment applies.
        domain_id: String,
    },
}

/// The desired state that applies to one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedDesired {
    /// The bundle.
    pub bundle: PolicyBundle,
    /// Which assignment selected it.
    pub source: DesiredSource,
    /// Event time of that assignment.
    pub assigned_ms: EpochMillis,
}

/// Which bundle applies to which node: known domains (with their parents), bundles and the
/// assignments in force. Only assignments that won the authority check (see
/// [`crate::authority`]) should be recorded here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DesiredResolver {
    /// Parent of each known domain (`None` for a root).
    pub parents: BTreeMap<String, Option<String>>,
    /// Known bundles by id: the version in force of each.
    pub bundles: BTreeMap<String, PolicyBundle>,
    /// Event time of each bundle in force (for last-write-wins at the same version).
    #[serde(default)]
    pub bundle_times: BTreeMap<String, EpochMillis>,
    /// Domain assignments: domain id -> (bundle id, assignment time).
    pub domain_assignments: BTreeMap<String, (String, EpochMillis)>,
    /// Node assignments: node id -> (bundle id, assignment time).
    pub node_assignments: BTreeMap<String, (String, EpochMillis)>,
}

/// Outcome of resolving a node's desired state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Resolution {
    /// A bundle applies.
    Resolved(ResolvedDesired),
    /// No assignment on the node or any domain of its chain.
    Unassigned,
    /// The nearest assignment names a bundle not defined (yet).
    MissingBundle {
        /// The bundle named.
        bundle_id: String,
    },
}

impl DesiredResolver {
    /// Records (or updates) a domain declaration.
    pub fn upsert_domain(&mut self, domain: &DomainDef) {
        self.parents
            .insert(domain.domain_id.clone(), domain.parent_id.clone());
    }

    /// Offers a bundle definition made at `at_ms`: it replaces the one in force only when its
    /// version is greater, or equal with a greater (event time, content) (see
    /// [`super::versioned::decide`]); an older version never replaces a newer one. Returns the
    /// verdict and, when accepted, the bundle it replaced with that one's event time.
    pub fn offer_bundle(
        &mut self,
        bundle: &PolicyBundle,
        at_ms: EpochMillis,
    ) -> (Verdict, Option<(PolicyBundle, EpochMillis)>) {
        let id = &bundle.bundle_id;
        let offered = canonical(bundle);
        let held = self.bundles.get(id).map(|held| (held, canonical(held)));
        let verdict = decide(
            held.as_ref().map(|(_, content)| Offer {
                at_ms: self.bundle_times.get(id).copied().unwrap_or(0),
                content,
            }),
            Offer {
                at_ms,
                content: &offered,
            },
            held.as_ref().map_or(Ordering::Greater, |(held, _)| {
                version_order(&bundle.version, &held.version)
            }),
        );
        if !matches!(verdict, Verdict::Accepted(_)) {
            return (verdict, None);
        }
        let replaced_at = self.bundle_times.insert(id.clone(), at_ms).unwrap_or(0);
        let replaced = self.bundles.insert(id.clone(), bundle.clone());
        (verdict, replaced.map(|old| (old, replaced_at)))
    }

    /// Records the assignment in force for a domain.
    pub fn assign_domain(&mut self, domain_id: &str, bundle_id: &str, at_ms: EpochMillis) {
        let entry = (bundle_id.to_owned(), at_ms);
        self.domain_assignments.insert(domain_id.to_owned(), entry);
    }

    /// Records the assignment in force for a node.
    pub fn assign_node(&mut self, node_id: &str, bundle_id: &str, at_ms: EpochMillis) {
        let entry = (bundle_id.to_owned(), at_ms);
        self.node_assignments.insert(node_id.to_owned(), entry);
    }

    /// The desired state of `node_id` in `domain_id`: the node's own assignment, else the
    /// nearest assignment walking from its domain up through the parents. A cycle in the
    /// parent links ends the walk.
    pub fn resolve(&self, node_id: &str, domain_id: Option<&str>) -> Resolution {
        let (assignment, source) = match self.node_assignments.get(node_id) {
            Some(a) => (a, DesiredSource::Node),
            None => match self.nearest_domain_assignment(domain_id) {
                Some((domain_id, a)) => (a, DesiredSource::Domain { domain_id }),
                None => return Resolution::Unassigned,
            },
        };
        let (bundle_id, assigned_ms) = assignment;
        match self.bundles.get(bundle_id) {
            Some(bundle) => Resolution::Resolved(ResolvedDesired {
                bundle: bundle.clone(),
                source,
                assigned_ms: *assigned_ms,
            }),
            None => Resolution::MissingBundle {
                bundle_id: bundle_id.clone(),
            },
        }
    }

    fn nearest_domain_assignment(
        &self,
        domain_id: Option<&str>,
    ) -> Option<(String, &(String, EpochMillis))> {
        let mut visited = BTreeSet::new();
        let mut current = domain_id.map(str::to_owned);
        while let Some(domain) = current {
            if !visited.insert(domain.clone()) {
                return None;
            }
            if let Some(a) = self.domain_assignments.get(&domain) {
                return Some((domain, a));
            }
            current = self.parents.get(&domain).cloned().flatten();
        }
        None
    }
}

/// A bundle's content in one canonical text (its maps are sorted), for content comparison.
fn canonical(bundle: &PolicyBundle) -> String {
    serde_json::to_string(bundle).unwrap_or_default()
}
