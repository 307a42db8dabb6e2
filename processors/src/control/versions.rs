//! Decisions about versioned control records (policy bundles, domain declarations): the audit
//! record of each (`AuthorityDecision`, subject `BUNDLE` or `DOMAIN`) and, for bundles, the
//! status recorded per version. Which version is in force is decided by
//! [`crate::drift::decide`]; this module only writes the decision down. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{AuthorityDecision, BundleVersion, EpochMillis, PolicyBundle};

use crate::drift::{DesiredResolver, Verdict, VersionRule};

/// Status of a bundle version: in force.
pub const IN_FORCE: &str = "IN_FORCE";
/// Status of a bundle version: replaced by a newer one.
pub const SUPERSEDED: &str = "SUPERSEDED";
/// Status of a bundle version: arrived after a newer one was in force, rejected.
pub const STALE: &str = "STALE";

/// What is kept per bundle id besides the version in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleHistory {
    /// Decisions published about the bundle's versions (the `revision` of the last one).
    pub revision: i64,
    /// The status last published per version.
    pub versions: BTreeMap<String, String>,
}

/// What a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioned<'a> {
    /// A policy bundle (its id).
    Bundle(&'a str),
    /// A domain declaration (its id).
    Domain(&'a str),
}

/// The audit record of offering version `offered` of a record at `at_ms`, where `held` is the
/// version that was in force (`None` for the first) and `verdict` the outcome.
pub fn audit(
    what: Versioned<'_>,
    offered: &str,
    held: Option<&str>,
    verdict: Verdict,
    at_ms: EpochMillis,
) -> AuthorityDecision {
    let (subject, id, domain_id, bundle_id) = match what {
        Versioned::Bundle(id) => ("BUNDLE", id, String::new(), Some(id.to_owned())),
        Versioned::Domain(id) => ("DOMAIN", id, id.to_owned(), None),
    };
    let held_text = held.unwrap_or("nothing");
    let (decision, rule, reason, detail) = match verdict {
        Verdict::Accepted(VersionRule::First) => (
            "ACCEPTED",
            "FIRST",
            None,
            format!("{offered} is the first version"),
        ),
        Verdict::Accepted(rule) => (
            "ACCEPTED",
            symbol(rule),
            None,
            format!("{offered} replaces {held_text}"),
        ),
        Verdict::Rejected(VersionRule::Version) => (
            "REJECTED",
            "VERSION",
            Some("STALE_VERSION".to_owned()),
            format!("{offered} is older than {held_text} in force"),
        ),
        Verdict::Rejected(rule) => (
            "AUDIT",
            symbol(rule),
            None,
            format!("{held_text} in force wins over another record of the same version"),
        ),
        Verdict::Duplicate => (
            "AUDIT",
            "DUPLICATE",
            None,
            format!("{offered} again: no change"),
        ),
    };
    AuthorityDecision {
        at_ms,
        domain_id,
        decision: decision.to_owned(),
        subject: subject.to_owned(),
        target_kind: Some(subject.to_owned()),
        target_id: Some(id.to_owned()),
        controller_id: String::new(),
        epoch: 0,
        level: String::new(),
        bundle_id,
        loser_controller_id: None,
        loser_epoch: None,
        loser_at_ms: None,
        rule: Some(rule.to_owned()),
        reason,
        controllers: Vec::new(),
        detail,
    }
}

fn symbol(rule: VersionRule) -> &'static str {
    match rule {
        VersionRule::First => "FIRST",
        VersionRule::Version => "VERSION",
        VersionRule::Timestamp => "TIMESTAMP",
        VersionRule::Content => "CONTENT",
    }
}

/// The statuses a bundle decision publishes, as (version, status) pairs, given the history:
/// an accepted version is IN_FORCE and the one it replaced (another version) SUPERSEDED; a
/// rejected older version is STALE unless a status was already published for it (its record
/// stands); a same-version loser or a duplicate publishes nothing.
pub fn bundle_statuses(
    history: &BundleHistory,
    offered: &str,
    replaced: Option<&str>,
    verdict: Verdict,
) -> Vec<(String, &'static str)> {
    match verdict {
        Verdict::Accepted(_) => {
            let mut out = vec![(offered.to_owned(), IN_FORCE)];
            if let Some(old) = replaced.filter(|old| *old != offered) {
                out.push((old.to_owned(), SUPERSEDED));
            }
            out
        }
        Verdict::Rejected(VersionRule::Version) if !history.versions.contains_key(offered) => {
            vec![(offered.to_owned(), STALE)]
        }
        Verdict::Rejected(_) | Verdict::Duplicate => Vec::new(),
    }
}

/// Applies a `policy_bundle` record made at `at_ms`: offers it to the resolver (which keeps
/// the version in force) and writes the decision down. Returns its audit record and the
/// `BundleVersion` records to publish; `history` keeps the per-bundle revision and statuses.
pub fn on_bundle(
    history: &mut BTreeMap<String, BundleHistory>,
    resolver: &mut DesiredResolver,
    bundle: &PolicyBundle,
    at_ms: EpochMillis,
) -> (AuthorityDecision, Vec<BundleVersion>) {
    let id = &bundle.bundle_id;
    let held = resolver.bundles.get(id).map(|b| b.version.clone());
    let (verdict, replaced) = resolver.offer_bundle(bundle, at_ms);
    let audit = audit(
        Versioned::Bundle(id),
        &bundle.version,
        held.as_deref(),
        verdict,
        at_ms,
    );
    let book = history.entry(id.clone()).or_default();
    let replaced_version = replaced.as_ref().map(|(b, _)| b.version.as_str());
    let statuses = bundle_statuses(book, &bundle.version, replaced_version, verdict);
    if statuses.is_empty() {
        return (audit, Vec::new());
    }
    book.revision += 1;
    let in_force = resolver.bundles.get(id).map(|b| b.version.clone());
    let records = statuses
        .into_iter()
        .map(|(version, status)| {
            book.versions.insert(version.clone(), status.to_owned());
            let (shown, event_time_ms) = match &replaced {
                Some((old, old_at)) if status == SUPERSEDED => (old.clone(), *old_at),
                _ => (bundle.clone(), at_ms),
            };
            BundleVersion {
                bundle: shown,
                event_time_ms,
                status: status.to_owned(),
                decided_ms: at_ms,
                superseded_by: (status != IN_FORCE).then(|| in_force.clone()).flatten(),
                revision: book.revision,
            }
        })
        .collect();
    (audit, records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_is_audited() {
        use VersionRule as R;
        // (verdict, held, decision, rule, reason, detail)
        type Case<'a> = (
            Verdict,
            Option<&'a str>,
            &'a str,
            &'a str,
            Option<&'a str>,
            &'a str,
        );
        let cases: &[Case] = &[
            (
                Verdict::Accepted(R::First),
                None,
                "ACCEPTED",
                "FIRST",
                None,
                "1.2.0 is the first version",
            ),
            (
                Verdict::Accepted(R::Version),
                Some("1.1.0"),
                "ACCEPTED",
                "VERSION",
                None,
                "1.2.0 replaces 1.1.0",
            ),
            (
                Verdict::Rejected(R::Version),
                Some("1.3.0"),
                "REJECTED",
                "VERSION",
                Some("STALE_VERSION"),
                "1.2.0 is older than 1.3.0 in force",
            ),
            (
                Verdict::Rejected(R::Timestamp),
                Some("1.2.0"),
                "AUDIT",
                "TIMESTAMP",
                None,
                "1.2.0 in force wins over another record of the same version",
            ),
            (
                Verdict::Duplicate,
                Some("1.2.0"),
                "AUDIT",
                "DUPLICATE",
                None,
                "1.2.0 again: no change",
            ),
        ];
        for (verdict, held, decision, rule, reason, detail) in cases {
            let d = audit(Versioned::Bundle("b-a"), "1.2.0", *held, *verdict, 7);
            assert_eq!(d.decision, *decision, "{verdict:?}");
            assert_eq!(d.rule.as_deref(), Some(*rule));
            assert_eq!(d.reason.as_deref(), *reason);
            assert_eq!(d.detail, *detail);
            assert_eq!(
                (d.subject.as_str(), d.target_kind.as_deref()),
                ("BUNDLE", Some("BUNDLE"))
            );
            assert_eq!(d.bundle_id.as_deref(), Some("b-a"));
            assert_eq!(
                (d.controller_id.as_str(), d.epoch, d.level.as_str()),
                ("", 0, "")
            );
            assert_eq!((d.domain_id.as_str(), d.at_ms), ("", 7));
        }
        let d = audit(
            Versioned::Domain("region-a"),
            "3",
            Some("2"),
            Verdict::Accepted(R::Version),
            9,
        );
        assert_eq!(
            (d.subject.as_str(), d.domain_id.as_str()),
            ("DOMAIN", "region-a")
        );
        assert_eq!(
            (d.target_id.as_deref(), d.bundle_id),
            (Some("region-a"), None)
        );
        assert_eq!(d.detail, "3 replaces 2");
    }

    #[test]
    fn bundle_decisions_publish_statuses_per_version() {
        use VersionRule as R;
        let mut history = BundleHistory::default();
        history.versions.insert("1.1.0".into(), SUPERSEDED.into());
        type Case<'a> = (&'a str, Option<&'a str>, Verdict, &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            (
                "1.2.0",
                None,
                Verdict::Accepted(R::First),
                &[("1.2.0", IN_FORCE)],
            ),
            (
                "1.2.0",
                Some("1.1.0"),
                Verdict::Accepted(R::Version),
                &[("1.2.0", IN_FORCE), ("1.1.0", SUPERSEDED)],
            ),
            // Same version, new content: the record of that version is replaced, nothing else.
            (
                "1.2.0",
                Some("1.2.0"),
                Verdict::Accepted(R::Timestamp),
                &[("1.2.0", IN_FORCE)],
            ),
            (
                "1.0.0",
                None,
                Verdict::Rejected(R::Version),
                &[("1.0.0", STALE)],
            ),
            // Its SUPERSEDED record stands.
            ("1.1.0", None, Verdict::Rejected(R::Version), &[]),
            ("1.2.0", None, Verdict::Rejected(R::Timestamp), &[]),
            ("1.2.0", None, Verdict::Duplicate, &[]),
        ];
        for (offered, replaced, verdict, want) in cases {
            let got = bundle_statuses(&history, offered, *replaced, *verdict);
            let got: Vec<(&str, &str)> = got.iter().map(|(v, s)| (v.as_str(), *s)).collect();
            assert_eq!(got, *want, "{offered} {verdict:?}");
        }
    }
}
