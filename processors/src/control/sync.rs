//! Federation sync reports (`sync` control records): the latest report per (domain,
//! controller, direction), and a domain's upstream sync with its debt in event time. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{AvroEnum, EpochMillis, FederationSync, SyncDirection, UpstreamSync};

use super::status::{overdue, overdue_at, sync_debt_s};

/// The latest report per domain, controller and direction (by `last_sync_ms`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReports {
    /// domain -> controller -> direction (`UPSTREAM`, ...) -> report.
    pub by_domain: BTreeMap<String, BTreeMap<String, BTreeMap<String, FederationSync>>>,
}

impl SyncReports {
    /// Records a report. It replaces the held one for its (domain, controller, direction) when
    /// its `last_sync_ms` is not older (at the same time, the later record in the log wins).
    /// Returns whether anything changed.
    pub fn record(&mut self, report: &FederationSync) -> bool {
        let by_controller = self.by_domain.entry(report.domain_id.clone()).or_default();
        let by_direction = by_controller
            .entry(report.controller_id.clone())
            .or_default();
        let direction = report.direction.symbol().to_owned();
        match by_direction.get(&direction) {
            Some(held) if held.last_sync_ms > report.last_sync_ms || held == report => false,
            _ => {
                by_direction.insert(direction, report.clone());
                true
            }
        }
    }

    /// The domains reported on.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.by_domain.keys().map(String::as_str)
    }

    /// The upstream report of `domain_id`: the one of its master of record (`master`), else the
    /// one with the latest `last_sync_ms` of any controller (ties: the greater controller id).
    pub fn upstream(&self, domain_id: &str, master: Option<&str>) -> Option<&FederationSync> {
        let by_controller = self.by_domain.get(domain_id)?;
        let upstream = SyncDirection::Upstream.symbol();
        let of = |controller: &str| by_controller.get(controller)?.get(upstream);
        if let Some(report) = master.and_then(of) {
            return Some(report);
        }
        by_controller
            .iter()
            .filter_map(|(controller, reports)| Some((reports.get(upstream)?, controller)))
            .max_by(|(a, ca), (b, cb)| (a.last_sync_ms, ca).cmp(&(b.last_sync_ms, cb)))
            .map(|(report, _)| report)
    }
}

/// The expected frequency of a report: its own, else the domain's declared one.
fn frequency(report: &FederationSync, declared_ms: Option<i64>) -> Option<i64> {
    report.frequency_ms.or(declared_ms)
}

/// A domain's upstream sync as published at `now_ms`.
pub fn upstream_sync(
    report: &FederationSync,
    declared_frequency_ms: Option<i64>,
    now_ms: EpochMillis,
) -> UpstreamSync {
    let frequency_ms = frequency(report, declared_frequency_ms);
    UpstreamSync {
        controller_id: report.controller_id.clone(),
        peer: report.peer.clone(),
        last_sync_ms: report.last_sync_ms,
        frequency_ms,
        mode: report.mode.clone(),
        pending_changes: report.pending_changes,
        sync_debt_s: sync_debt_s(report.last_sync_ms, now_ms),
        overdue: overdue(report.last_sync_ms, frequency_ms, now_ms),
    }
}

/// When the report becomes overdue after `now_ms` (see [`overdue_at`]).
pub fn becomes_overdue(
    report: &FederationSync,
    declared_frequency_ms: Option<i64>,
    now_ms: EpochMillis,
) -> Option<EpochMillis> {
    overdue_at(
        report.last_sync_ms,
        frequency(report, declared_frequency_ms),
        now_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn report(controller: &str, direction: SyncDirection, last_sync_ms: i64) -> FederationSync {
        FederationSync {
            controller_id: controller.to_owned(),
            domain_id: "region-a".to_owned(),
            direction,
            peer: "global-control".to_owned(),
            last_sync_ms,
            frequency_ms: Some(15 * MIN),
            mode: Some("continuous".to_owned()),
            pending_changes: 0,
        }
    }

    #[test]
    fn the_latest_report_per_controller_and_direction() {
        let mut reports = SyncReports::default();
        // (controller, direction, last sync, changed, upstream of region-a with master
        // region-a-control: its last sync)
        type Case<'a> = (&'a str, SyncDirection, i64, bool, Option<i64>);
        let cases: &[Case] = &[
            (
                "other-control",
                SyncDirection::Upstream,
                50 * MIN,
                true,
                Some(50 * MIN),
            ),
            (
                "region-a-control",
                SyncDirection::Downstream,
                60 * MIN,
                true,
                Some(50 * MIN),
            ),
            (
                "region-a-control",
                SyncDirection::Upstream,
                10 * MIN,
                true,
                Some(10 * MIN),
            ),
            // An older report changes nothing; the same one again neither.
            (
                "region-a-control",
                SyncDirection::Upstream,
                5 * MIN,
                false,
                Some(10 * MIN),
            ),
            (
                "region-a-control",
                SyncDirection::Upstream,
                10 * MIN,
                false,
                Some(10 * MIN),
            ),
            (
                "region-a-control",
                SyncDirection::Upstream,
                20 * MIN,
                true,
                Some(20 * MIN),
            ),
        ];
        for (controller, direction, last, changed, upstream) in cases {
            let got = reports.record(&report(controller, *direction, *last));
            assert_eq!(got, *changed, "{controller} {last}");
            let up = reports.upstream("region-a", Some("region-a-control"));
            assert_eq!(up.map(|r| r.last_sync_ms), *upstream, "{controller} {last}");
        }
        // Without a master (or one that does not report), the latest of any controller.
        let any = reports
            .upstream("region-a", None)
            .map(|r| r.controller_id.as_str());
        assert_eq!(any, Some("other-control"));
        assert_eq!(reports.upstream("region-b", None), None);
        assert_eq!(reports.domains().collect::<Vec<_>>(), ["region-a"]);
    }

    #[test]
    fn upstream_sync_debt_and_overdue_flip() {
        let mut r = report("region-a-control", SyncDirection::Upstream, 0);
        let up = upstream_sync(&r, None, 15 * MIN);
        assert_eq!((up.sync_debt_s, up.overdue), (900, false));
        assert_eq!(becomes_overdue(&r, None, 15 * MIN), Some(15 * MIN + 1));
        let up = upstream_sync(&r, None, 15 * MIN + 1);
        assert_eq!((up.sync_debt_s, up.overdue), (900, true));
        // No frequency in the report: the domain's declared one.
        r.frequency_ms = None;
        assert!(!upstream_sync(&r, None, 600 * MIN).overdue);
        assert!(upstream_sync(&r, Some(30 * MIN), 31 * MIN).overdue);
        assert_eq!(becomes_overdue(&r, Some(30 * MIN), 0), Some(30 * MIN + 1));
    }
}
