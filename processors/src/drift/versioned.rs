//! Last-write-wins with versioning, for records that carry a version (policy bundles, domain
//! declarations): which of the record in force and an offered one is in force afterwards, and
//! which rule decided. Pure; the caller compares the versions (text or number) itself.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::EpochMillis;

/// One version of a record, positioned for [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer<'a> {
    /// Event time of the record.
    pub at_ms: EpochMillis,
    /// Its whole content in a canonical form (equal content, equal text).
    pub content: &'a str,
}

/// Which rule decided between two versions of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VersionRule {
    /// Nothing was in force.
    First,
    /// The greater version won.
    Version,
    /// Same version; the later event time won.
    Timestamp,
    /// Same version and event time; the greater content won (deterministic tie-break).
    Content,
}

/// The outcome of offering a version of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "rule")]
pub enum Verdict {
    /// The offer is in force now (it replaces the held one, if any).
    Accepted(VersionRule),
    /// The held one stays in force. `Version` when the offer is an older version (stale).
    Rejected(VersionRule),
    /// The same version with the same content again: nothing changes.
    Duplicate,
}

/// Decides between `held` (in force, if any) and `offered`, where `version` is the order of
/// the offered version against the held one: a greater version replaces; an older version
/// never does; at the same version the later event time, then the greater content wins, and
/// identical content is a duplicate whatever its event time.
pub fn decide(held: Option<Offer<'_>>, offered: Offer<'_>, version: Ordering) -> Verdict {
    let Some(held) = held else {
        return Verdict::Accepted(VersionRule::First);
    };
    match version {
        Ordering::Greater => return Verdict::Accepted(VersionRule::Version),
        Ordering::Less => return Verdict::Rejected(VersionRule::Version),
        Ordering::Equal => {}
    }
    if held.content == offered.content {
        return Verdict::Duplicate;
    }
    let rule = if held.at_ms != offered.at_ms {
        VersionRule::Timestamp
    } else {
        VersionRule::Content
    };
    match (offered.at_ms, offered.content).cmp(&(held.at_ms, held.content)) {
        Ordering::Greater => Verdict::Accepted(rule),
        _ => Verdict::Rejected(rule),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(at_ms: i64, content: &str) -> Offer<'_> {
        Offer { at_ms, content }
    }

    #[test]
    fn versions_first_then_event_time_then_content() {
        use Ordering::{Equal, Greater, Less};
        use VersionRule as R;
        type Case<'a> = (Option<(i64, &'a str)>, (i64, &'a str), Ordering, Verdict);
        let cases: &[Case] = &[
            (None, (5, "a"), Equal, Verdict::Accepted(R::First)),
            // A newer version wins even when it is older in event time.
            (
                Some((9, "a")),
                (1, "b"),
                Greater,
                Verdict::Accepted(R::Version),
            ),
            // An older version never replaces a newer one, however late it arrives.
            (
                Some((1, "a")),
                (9, "b"),
                Less,
                Verdict::Rejected(R::Version),
            ),
            (
                Some((1, "a")),
                (2, "b"),
                Equal,
                Verdict::Accepted(R::Timestamp),
            ),
            (
                Some((2, "a")),
                (1, "b"),
                Equal,
                Verdict::Rejected(R::Timestamp),
            ),
            (
                Some((2, "a")),
                (2, "b"),
                Equal,
                Verdict::Accepted(R::Content),
            ),
            (
                Some((2, "b")),
                (2, "a"),
                Equal,
                Verdict::Rejected(R::Content),
            ),
            (Some((2, "a")), (7, "a"), Equal, Verdict::Duplicate),
        ];
        for (held, offered, version, want) in cases {
            let held = held.map(|(at, c)| offer(at, c));
            let got = decide(held, offer(offered.0, offered.1), *version);
            assert_eq!(got, *want, "{held:?} vs {offered:?} ({version:?})");
        }
    }
}
