//! Tests of the control state's federation outputs: versioned bundles and domains, sync
//! reports, the published domain records (path, master since, split brain, authority status)
//! and the `#control` timer that flips `overdue` in event time. Seed 000's federation.

use sxfleet_schemas::{
    AuthorityClaimEvent, AuthorityLevel, ControlPayload, DomainDef, DomainLevel, DomainSync,
    FederationSync, PolicyBundle, SyncDirection,
};

use super::tests::control;
use super::*;

const T0: i64 = 1_772_150_400_000;
const MIN: i64 = 60_000;

fn elsewhere(_: &str) -> NodeHome {
    NodeHome::Elsewhere
}

fn domain(
    at: i64,
    id: &str,
    parent: Option<&str>,
    version: i64,
    frequency: Option<i64>,
) -> ControlEvent {
    control(
        at,
        ControlPayload::Domain(DomainDef {
            domain_id: id.to_owned(),
            parent_id: parent.map(str::to_owned),
            level: if parent.is_some() {
                DomainLevel::Region
            } else {
                DomainLevel::Global
            },
            autonomy: None,
            version: Some(version),
            sync: frequency.map(|f| DomainSync {
                upstream: parent.map(|p| format!("{p}-control")),
                frequency_ms: Some(f),
                mode: Some("continuous".to_owned()),
                can_operate_isolated: Some(true),
            }),
            utc_offset_minutes: None,
        }),
    )
}

fn claim(
    at: i64,
    domain: &str,
    controller: &str,
    level: AuthorityLevel,
    epoch: i64,
) -> ControlEvent {
    control(
        at,
        ControlPayload::Authority(AuthorityClaimEvent {
            domain_id: domain.to_owned(),
            controller_id: controller.to_owned(),
            level,
            epoch,
        }),
    )
}

fn sync(at: i64, domain: &str, controller: &str, last_sync_ms: i64) -> ControlEvent {
    control(
        at,
        ControlPayload::Sync(FederationSync {
            controller_id: controller.to_owned(),
            domain_id: domain.to_owned(),
            direction: SyncDirection::Upstream,
            peer: "global-control".to_owned(),
            last_sync_ms,
            frequency_ms: None,
            mode: Some("continuous".to_owned()),
            pending_changes: 3,
        }),
    )
}

fn bundle(at: i64, version: &str, target: &str) -> ControlEvent {
    control(
        at,
        ControlPayload::PolicyBundle(PolicyBundle {
            bundle_id: "b-region-a".to_owned(),
            version: version.to_owned(),
            target_version: target.to_owned(),
            policy_version: "policy-v1".to_owned(),
            config: Default::default(),
            constraints: Default::default(),
        }),
    )
}

/// The federation of seed 000 (part): global, region-a under it with a 15 min upstream sync.
fn seed_000(state: &mut ControlState) -> Vec<ControlOutcome> {
    [
        domain(T0, "global", None, 1, None),
        domain(T0, "region-a", Some("global"), 1, Some(15 * MIN)),
        claim(
            T0 + 1_000,
            "global",
            "global-control",
            AuthorityLevel::Global,
            1,
        ),
        claim(
            T0 + 2_000,
            "region-a",
            "region-a-control",
            AuthorityLevel::Region,
            3,
        ),
        sync(T0 + 3_000, "region-a", "region-a-control", T0 + 3_000),
    ]
    .iter()
    .map(|event| state.apply(event, true, elsewhere))
    .collect()
}

fn latest(outcomes: &[ControlOutcome], domain_id: &str) -> Domain {
    let mut records = outcomes.iter().rev().flat_map(|o| o.domains.iter().rev());
    records
        .find(|d| d.domain_id == domain_id)
        .cloned()
        .expect("a domain record")
}

#[test]
fn domain_records_carry_path_master_sync_and_status() {
    let mut state = ControlState::default();
    let outcomes = seed_000(&mut state);
    let region = latest(&outcomes, "region-a");
    assert_eq!(region.path, ["global", "region-a"]);
    assert_eq!(region.version, 1);
    assert_eq!(region.authority.as_ref().map(|a| a.epoch), Some(3));
    assert_eq!(region.master_since_ms, Some(T0 + 2_000));
    assert_eq!(
        (region.authority_status.as_str(), region.authority_reason),
        ("AUTHORITATIVE", None)
    );
    assert!(region.can_operate_isolated);
    let up = region.upstream_sync.as_ref().expect("upstream sync");
    // The report names no frequency: the domain's declared 15 min applies.
    assert_eq!(
        (up.frequency_ms, up.overdue, up.pending_changes),
        (Some(15 * MIN), false, 3)
    );
    // Declared, claimed, reported: one record each time something changed.
    assert_eq!(region.revision, 3);
    assert_eq!(region.updated_ms, T0 + 3_000);
    let global = latest(&outcomes, "global");
    assert_eq!(
        (global.path.as_slice(), global.revision),
        (&["global".to_owned()][..], 2)
    );
    // A domain nobody claims yet is degraded: no master.
    let first = &outcomes[1].domains;
    let unclaimed = first
        .iter()
        .find(|d| d.domain_id == "region-a")
        .expect("declared");
    assert_eq!(unclaimed.authority_reason.as_deref(), Some("NO_MASTER"));
    // Re-claiming at the same epoch later keeps the master's start time.
    let again = state.apply(
        &claim(
            T0 + 9_000,
            "region-a",
            "region-a-control",
            AuthorityLevel::Region,
            3,
        ),
        true,
        elsewhere,
    );
    assert!(again
        .domains
        .iter()
        .all(|d| d.master_since_ms != Some(T0 + 9_000)));
}

#[test]
fn overdue_flips_in_event_time_on_the_control_timer() {
    let mut state = ControlState::default();
    seed_000(&mut state);
    let due = T0 + 3_000 + 15 * MIN + 1;
    assert_eq!(state.next_deadline(), Some(due));
    let early = state.on_timer(due - 1);
    assert!(!early.changed && early.domains.is_empty());
    // A late firing is dated by the instant the sync became overdue.
    let fired = state.on_timer(due + 40 * MIN);
    let [record] = fired.domains.as_slice() else {
        panic!("{:?}", fired.domains)
    };
    assert_eq!(record.domain_id, "region-a");
    assert_eq!(record.updated_ms, due);
    assert_eq!(
        (
            record.authority_status.as_str(),
            record.authority_reason.as_deref()
        ),
        ("DEGRADED", Some("SYNC_OVERDUE"))
    );
    let up = record.upstream_sync.as_ref().expect("upstream");
    assert_eq!((up.overdue, up.sync_debt_s), (true, 900));
    assert_eq!(record.revision, 4);
    assert_eq!(state.next_deadline(), None);
    // A fresh report brings it back.
    let back = state.apply(
        &sync(
            due + 41 * MIN,
            "region-a",
            "region-a-control",
            due + 41 * MIN,
        ),
        true,
        elsewhere,
    );
    let record = latest(std::slice::from_ref(&back), "region-a");
    assert_eq!(
        (record.authority_status.as_str(), record.revision),
        ("AUTHORITATIVE", 5)
    );
    // Nothing else changed: no other record.
    assert_eq!(back.domains.len(), 1);
    // A partition that does not publish keeps the same state and says nothing.
    let mut quiet = ControlState::default();
    let event = domain(T0, "global", None, 1, None);
    assert!(quiet.apply(&event, false, elsewhere).domains.is_empty());
    assert_eq!(
        quiet.domains.published["global"].revision, 1,
        "kept, not published"
    );
}

#[test]
fn split_brain_and_autonomous_domains() {
    let mut state = ControlState::default();
    seed_000(&mut state);
    let zone_c = [
        domain(T0, "edge-zone-c", Some("global"), 0, Some(MIN)),
        claim(
            T0 + 1,
            "edge-zone-c",
            "edge-zone-c-control",
            AuthorityLevel::Autonomous,
            1,
        ),
        sync(T0 + 2, "edge-zone-c", "edge-zone-c-control", T0 - 600 * MIN),
    ];
    let outcomes: Vec<_> = zone_c
        .iter()
        .map(|e| state.apply(e, true, elsewhere))
        .collect();
    let c = latest(&outcomes, "edge-zone-c");
    // Long overdue, but autonomous: no upstream dependency.
    assert_eq!(
        (c.authority_status.as_str(), c.authority_reason),
        ("AUTONOMOUS", None)
    );
    assert!(c.upstream_sync.as_ref().is_some_and(|u| u.overdue));
    let split = state.apply(
        &claim(
            T0 + 5_000,
            "region-a",
            "rogue-control",
            AuthorityLevel::Region,
            3,
        ),
        true,
        elsewhere,
    );
    let record = latest(std::slice::from_ref(&split), "region-a");
    assert!(record.split_brain);
    assert_eq!(record.contenders, ["region-a-control", "rogue-control"]);
    assert_eq!(record.authority_reason.as_deref(), Some("SPLIT_BRAIN"));
}

#[test]
fn domain_versions_never_go_backwards() {
    let mut state = ControlState::default();
    seed_000(&mut state);
    // An older declaration moving region-a elsewhere is rejected and changes nothing.
    let stale = state.apply(
        &domain(T0 + 10_000, "region-a", None, 0, None),
        true,
        elsewhere,
    );
    let [audit] = stale.decisions.as_slice() else {
        panic!("{:?}", stale.decisions)
    };
    assert_eq!(
        (audit.subject.as_str(), audit.decision.as_str()),
        ("DOMAIN", "REJECTED")
    );
    assert_eq!(
        (audit.reason.as_deref(), audit.detail.as_str()),
        (Some("STALE_VERSION"), "0 is older than 1 in force")
    );
    assert_eq!(stale.affected, Affected::Nothing);
    assert!(stale.domains.is_empty());
    assert_eq!(state.authority.path("region-a"), ["global", "region-a"]);
    // The same declaration again is a duplicate.
    let dup = state.apply(
        &domain(T0 + 11_000, "global", None, 1, None),
        true,
        elsewhere,
    );
    assert_eq!(dup.decisions[0].rule.as_deref(), Some("DUPLICATE"));
    assert!(dup.domains.is_empty());
    // A newer version moves it.
    let newer = state.apply(
        &domain(T0 + 12_000, "region-a", None, 2, None),
        true,
        elsewhere,
    );
    assert_eq!(newer.decisions[0].detail, "2 replaces 1");
    assert_eq!(
        latest(std::slice::from_ref(&newer), "region-a").path,
        ["region-a"]
    );
}

#[test]
fn bundle_versions_are_audited_and_published_by_partition_0() {
    let mut state = ControlState::default();
    let mut quiet = ControlState::default();
    // (event, decision, published (key, status, superseded_by, revision))
    type Case<'a> = (
        ControlEvent,
        &'a str,
        &'a [(&'a str, &'a str, Option<&'a str>, i64)],
    );
    let cases: Vec<Case> = vec![
        (
            bundle(T0, "1.1.0", "1.4.6"),
            "ACCEPTED",
            &[("b-region-a@1.1.0", "IN_FORCE", None, 1)],
        ),
        (
            bundle(T0 + 1, "1.2.0", "1.4.7"),
            "ACCEPTED",
            &[
                ("b-region-a@1.2.0", "IN_FORCE", None, 2),
                ("b-region-a@1.1.0", "SUPERSEDED", Some("1.2.0"), 2),
            ],
        ),
        (
            bundle(T0 + 2, "1.0.0", "1.4.0"),
            "REJECTED",
            &[("b-region-a@1.0.0", "STALE", Some("1.2.0"), 3)],
        ),
        (bundle(T0 + 3, "1.1.0", "1.4.6"), "REJECTED", &[]),
        (bundle(T0 + 4, "1.2.0", "1.4.7"), "AUDIT", &[]),
    ];
    for (event, decision, published) in &cases {
        let outcome = state.apply(event, true, elsewhere);
        assert_eq!(outcome.decisions.len(), 1);
        assert_eq!(outcome.decisions[0].decision, *decision);
        assert_eq!(outcome.decisions[0].subject, "BUNDLE");
        let got: Vec<(String, &str, Option<&str>, i64)> = outcome
            .bundles
            .iter()
            .map(|b| {
                let key = format!("{}@{}", b.bundle.bundle_id, b.bundle.version);
                (
                    key,
                    b.status.as_str(),
                    b.superseded_by.as_deref(),
                    b.revision,
                )
            })
            .collect();
        let want: Vec<(String, &str, Option<&str>, i64)> = published
            .iter()
            .map(|(k, s, by, r)| ((*k).to_owned(), *s, *by, *r))
            .collect();
        assert_eq!(got, want, "{decision}");
        let silent = quiet.apply(event, false, elsewhere);
        assert!(silent.decisions.is_empty() && silent.bundles.is_empty());
    }
    assert_eq!(state.desired.bundles["b-region-a"].target_version, "1.4.7");
    // The SUPERSEDED record shows the old bundle as it was, dated by its own event time.
    let mut again = ControlState::default();
    again.apply(&cases[0].0, true, elsewhere);
    let second = again.apply(&cases[1].0, true, elsewhere);
    let old = &second.bundles[1];
    assert_eq!(
        (
            old.bundle.target_version.as_str(),
            old.event_time_ms,
            old.decided_ms
        ),
        ("1.4.6", T0, T0 + 1)
    );
}
