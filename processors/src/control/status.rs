//! A domain's authority status (seed 004's "where is the control plane authoritative vs
//! degraded?") and its upstream sync debt, as pure functions over plain inputs. The rule is
//! documented in `docs/projections.md` ("Federation sync and degraded authority").

use sxfleet_schemas::{AuthorityLevel, EpochMillis};

/// What a domain's authority status is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusInputs {
    /// Level of the domain's own master of record; `None` when nobody claims it.
    pub master_level: Option<AuthorityLevel>,
    /// The master's epoch is claimed by more than one controller.
    pub split_brain: bool,
    /// The domain has a parent (so something upstream to sync with).
    pub has_parent: bool,
    /// The upstream sync report in force is overdue.
    pub upstream_overdue: bool,
}

/// Authority status of a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorityStatus {
    /// Held by a master of record that syncs with its upstream in time.
    Authoritative,
    /// Held, but not as it should be.
    Degraded(DegradedReason),
    /// Held at AUTONOMOUS level: no upstream dependency, never overdue.
    Autonomous,
}

/// Why a domain's authority is degraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DegradedReason {
    /// No master of record.
    NoMaster,
    /// Two or more controllers claim the master's epoch.
    SplitBrain,
    /// The domain has a parent and its upstream sync is overdue.
    SyncOverdue,
}

impl AuthorityStatus {
    /// `AUTHORITATIVE`, `DEGRADED` or `AUTONOMOUS`.
    pub fn symbol(self) -> &'static str {
        match self {
            AuthorityStatus::Authoritative => "AUTHORITATIVE",
            AuthorityStatus::Degraded(_) => "DEGRADED",
            AuthorityStatus::Autonomous => "AUTONOMOUS",
        }
    }

    /// `NO_MASTER`, `SPLIT_BRAIN` or `SYNC_OVERDUE` for a degraded status.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            AuthorityStatus::Degraded(DegradedReason::NoMaster) => Some("NO_MASTER"),
            AuthorityStatus::Degraded(DegradedReason::SplitBrain) => Some("SPLIT_BRAIN"),
            AuthorityStatus::Degraded(DegradedReason::SyncOverdue) => Some("SYNC_OVERDUE"),
            _ => None,
        }
    }
}

/// The rule, first match wins: AUTONOMOUS when the master is held at AUTONOMOUS level;
/// DEGRADED with NO_MASTER, then SPLIT_BRAIN, then SYNC_OVERDUE (a domain with a parent whose
/// upstream sync is overdue); otherwise AUTHORITATIVE.
pub fn authority_status(inputs: StatusInputs) -> AuthorityStatus {
    match inputs.master_level {
        Some(AuthorityLevel::Autonomous) => AuthorityStatus::Autonomous,
        None => AuthorityStatus::Degraded(DegradedReason::NoMaster),
        Some(_) if inputs.split_brain => AuthorityStatus::Degraded(DegradedReason::SplitBrain),
        Some(_) if inputs.has_parent && inputs.upstream_overdue => {
            AuthorityStatus::Degraded(DegradedReason::SyncOverdue)
        }
        Some(_) => AuthorityStatus::Authoritative,
    }
}

/// Seconds since the last sync at `now_ms` (0 when the report is from the future).
pub fn sync_debt_s(last_sync_ms: EpochMillis, now_ms: EpochMillis) -> i64 {
    now_ms.saturating_sub(last_sync_ms).max(0) / 1_000
}

/// Whether a sync expected every `frequency_ms` is overdue at `now_ms`: strictly more than one
/// period since the last sync. Never overdue without a known frequency.
pub fn overdue(last_sync_ms: EpochMillis, frequency_ms: Option<i64>, now_ms: EpochMillis) -> bool {
    frequency_ms.is_some_and(|f| now_ms.saturating_sub(last_sync_ms) > f)
}

/// The instant a sync becomes overdue (`last_sync + frequency + 1 ms`), when it has a known
/// frequency and is not overdue yet at `now_ms`.
pub fn overdue_at(
    last_sync_ms: EpochMillis,
    frequency_ms: Option<i64>,
    now_ms: EpochMillis,
) -> Option<EpochMillis> {
    let at = last_sync_ms.saturating_add(frequency_ms?).saturating_add(1);
    (at > now_ms).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthorityLevel as L;
    use AuthorityStatus as S;
    use DegradedReason as D;

    #[test]
    fn the_authority_status_rule() {
        // (master level, split brain, has parent, upstream overdue, status)
        type Case = (Option<L>, bool, bool, bool, S);
        let cases: &[Case] = &[
            // Seed 000: region-a-control REGION on region-a, in sync.
            (Some(L::Region), false, true, false, S::Authoritative),
            // global-control on the root: nothing upstream, never SYNC_OVERDUE.
            (Some(L::Global), false, false, true, S::Authoritative),
            // edge-zone-c-control AUTONOMOUS: autonomous whatever its sync says.
            (Some(L::Autonomous), false, true, true, S::Autonomous),
            (Some(L::Autonomous), true, true, false, S::Autonomous),
            (None, false, true, false, S::Degraded(D::NoMaster)),
            (None, true, true, true, S::Degraded(D::NoMaster)),
            (
                Some(L::Region),
                true,
                true,
                true,
                S::Degraded(D::SplitBrain),
            ),
            (
                Some(L::Local),
                false,
                true,
                true,
                S::Degraded(D::SyncOverdue),
            ),
        ];
        for &(master_level, split_brain, has_parent, upstream_overdue, want) in cases {
            let inputs = StatusInputs {
                master_level,
                split_brain,
                has_parent,
                upstream_overdue,
            };
            assert_eq!(authority_status(inputs), want, "{inputs:?}");
        }
        assert_eq!(S::Degraded(D::SyncOverdue).symbol(), "DEGRADED");
        assert_eq!(S::Degraded(D::SyncOverdue).reason(), Some("SYNC_OVERDUE"));
        assert_eq!(S::Autonomous.reason(), None);
    }

    #[test]
    fn sync_debt_and_overdue_in_event_time() {
        const MIN: i64 = 60_000;
        // (last sync, frequency, now, debt s, overdue, overdue at)
        type Case = (i64, Option<i64>, i64, i64, bool, Option<i64>);
        let cases: &[Case] = &[
            (0, Some(15 * MIN), 0, 0, false, Some(15 * MIN + 1)),
            (0, Some(15 * MIN), 15 * MIN, 900, false, Some(15 * MIN + 1)),
            (0, Some(15 * MIN), 15 * MIN + 1, 900, true, None),
            (0, None, 600 * MIN, 36_000, false, None),
            (10 * MIN, Some(MIN), 0, 0, false, Some(11 * MIN + 1)),
        ];
        for &(last, frequency, now, debt, late, at) in cases {
            assert_eq!(sync_debt_s(last, now), debt, "{now}");
            assert_eq!(overdue(last, frequency, now), late, "{now}");
            assert_eq!(overdue_at(last, frequency, now), at, "{now}");
        }
    }
}
