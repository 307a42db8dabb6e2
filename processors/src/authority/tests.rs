use std::collections::BTreeMap;

use proptest::prelude::*;
use sxfleet_schemas::{AuthorityClaim, DomainLevel};

use super::*;

use AuthorityLevel::{Autonomous, Global, Local, Region};

fn claim(domain: &str, controller: &str, level: AuthorityLevel, epoch: i64) -> AuthorityClaimEvent {
    AuthorityClaimEvent {
        domain_id: domain.into(),
        controller_id: controller.into(),
        level,
        epoch,
    }
}

fn assign(
    kind: AssignTarget,
    target: &str,
    controller: &str,
    level: AuthorityLevel,
    epoch: i64,
) -> Assign {
    Assign {
        bundle_id: format!("bundle-{controller}-{epoch}"),
        target_kind: kind,
        target_id: target.into(),
        authority: AuthorityClaim {
            controller_id: controller.into(),
            level,
            epoch,
        },
    }
}

/// Seed 000's federation: global, regions A and B with their edge zones, autonomous zone C.
fn seed_000() -> AuthorityState {
    let mut s = AuthorityState::default();
    let domains = [
        ("global", None, DomainLevel::Global),
        ("region-a", Some("global"), DomainLevel::Region),
        ("edge-zone-a1", Some("region-a"), DomainLevel::Zone),
        ("edge-zone-a2", Some("region-a"), DomainLevel::Zone),
        ("region-b", Some("global"), DomainLevel::Region),
        ("edge-zone-b1", Some("region-b"), DomainLevel::Zone),
        ("edge-zone-c", Some("global"), DomainLevel::Zone),
    ];
    for (id, parent, level) in domains {
        s.on_domain(&DomainDef {
            domain_id: id.into(),
            parent_id: parent.map(String::from),
            level,
            autonomy: None,
            version: None,
            sync: None,
            utc_offset_minutes: None,
        });
    }
    let claims = [
        claim("global", "global-control", Global, 1),
        claim("region-a", "region-a-control", Region, 3),
        claim("region-b", "region-b-control", Region, 2),
        claim("edge-zone-a1", "edge-zone-a1-control", Local, 1),
        claim("edge-zone-a2", "edge-zone-a2-control", Region, 1),
        claim("edge-zone-b1", "edge-zone-b1-control", Local, 1),
        claim("edge-zone-c", "edge-zone-c-control", Autonomous, 1),
    ];
    for c in &claims {
        s.on_claim(c, 1_000);
    }
    s
}

fn rejection(outputs: &[AuthorityOutput]) -> Option<RejectReason> {
    outputs.iter().find_map(|o| match o {
        AuthorityOutput::Rejected(r) => Some(r.reason.clone()),
        _ => None,
    })
}

fn audit_rule(outputs: &[AuthorityOutput]) -> Option<(AuditRule, Option<String>, Option<String>)> {
    outputs.iter().find_map(|o| match o {
        AuthorityOutput::Audit(a) => Some((
            a.rule,
            a.winner.bundle_id.clone(),
            a.loser.as_ref().and_then(|l| l.bundle_id.clone()),
        )),
        _ => None,
    })
}

fn accepted(outputs: &[AuthorityOutput]) -> bool {
    outputs
        .iter()
        .any(|o| matches!(o, AuthorityOutput::Accepted { .. }))
}

#[test]
fn authority_check_table_on_the_seed_000_hierarchy() {
    use AssignTarget::{Domain, Node};
    let ok = |d: &str| Ok::<String, RejectReason>(d.to_owned());
    let cases: Vec<(Assign, Option<&str>, Result<String, RejectReason>)> = vec![
        (
            assign(Domain, "region-a", "region-a-control", Region, 3),
            None,
            ok("region-a"),
        ),
        (
            assign(Node, "n-a1", "region-a-control", Region, 3),
            Some("edge-zone-a1"),
            ok("region-a"),
        ),
        (
            assign(Domain, "edge-zone-a1", "global-control", Global, 1),
            None,
            ok("global"),
        ),
        (
            assign(Node, "n-a1", "edge-zone-a1-control", Local, 1),
            Some("edge-zone-a1"),
            ok("edge-zone-a1"),
        ),
        (
            assign(Node, "n-c", "edge-zone-c-control", Autonomous, 1),
            Some("edge-zone-c"),
            ok("edge-zone-c"),
        ),
        (
            assign(Domain, "edge-zone-b1", "region-b-control", Region, 2),
            None,
            ok("region-b"),
        ),
        (
            assign(Domain, "edge-zone-c", "global-control", Global, 1),
            None,
            Err(RejectReason::AutonomousBoundary {
                domain_id: "edge-zone-c".into(),
            }),
        ),
        (
            assign(Domain, "region-a", "region-b-control", Region, 2),
            None,
            Err(RejectReason::NoAuthority),
        ),
        (
            assign(Domain, "region-a", "edge-zone-a1-control", Local, 1),
            None,
            Err(RejectReason::NoAuthority),
        ),
        (
            assign(Domain, "region-a", "region-a-control", Region, 2),
            None,
            Err(RejectReason::EpochMismatch {
                domain_id: "region-a".into(),
                claimed: 2,
                held: 3,
            }),
        ),
        (
            assign(Domain, "region-a", "region-a-control", Global, 3),
            None,
            Err(RejectReason::LevelMismatch {
                domain_id: "region-a".into(),
                claimed: Global,
                held: Region,
            }),
        ),
        (
            assign(Node, "n-a2", "region-a-control", Region, 3),
            Some("edge-zone-a2"),
            Err(RejectReason::Outranked {
                domain_id: "edge-zone-a2".into(),
                level: Region,
            }),
        ),
        (
            assign(Node, "n-x", "region-a-control", Region, 3),
            None,
            Err(RejectReason::UnknownTargetDomain),
        ),
    ];
    for (i, (a, node_domain, want)) in cases.into_iter().enumerate() {
        let mut s = seed_000();
        let out = s.on_assign(&a, 2_000, node_domain);
        match &want {
            Ok(_) => {
                assert!(accepted(&out), "case {i}: {out:?}");
                assert_eq!(rejection(&out), None, "case {i}");
            }
            Err(reason) => {
                assert_eq!(rejection(&out).as_ref(), Some(reason), "case {i}");
                assert_eq!(out.len(), 1, "case {i}: a rejection is the only output");
            }
        }
        let domain = match a.target_kind {
            Domain => Some(a.target_id.as_str()),
            Node => node_domain,
        };
        if let Some(d) = domain {
            let stamp = Stamp {
                epoch: a.authority.epoch,
                at_ms: 0,
                controller_id: a.authority.controller_id.clone(),
                level: a.authority.level,
                bundle_id: None,
            };
            assert_eq!(
                s.check(d, &stamp),
                want,
                "case {i}: check names the authorising domain"
            );
        }
    }
}

#[test]
fn claims_pick_the_master_by_lww_and_audit_it() {
    let mut s = AuthorityState::default();
    let out = s.on_claim(&claim("region-a", "region-a-control", Region, 3), 10);
    assert!(
        matches!(&out[..], [AuthorityOutput::Audit(a), AuthorityOutput::MasterChanged { previous: None, .. }]
        if a.rule == AuditRule::First && a.target == Subject::MasterOfRecord)
    );
    // A lower epoch loses, whatever its time.
    let out = s.on_claim(&claim("region-a", "global-control", Global, 2), 50);
    assert!(matches!(&out[..], [AuthorityOutput::Audit(a)]
        if a.rule == AuditRule::Epoch && a.winner.controller_id == "region-a-control"));
    // A higher epoch wins.
    let out = s.on_claim(&claim("region-a", "global-control", Global, 4), 20);
    assert!(out.iter().any(
        |o| matches!(o, AuthorityOutput::MasterChanged { current, .. }
        if current.controller_id == "global-control")
    ));
    // The same controller again at the same epoch, later: no split brain, newer claim in force.
    let out = s.on_claim(&claim("region-a", "global-control", Global, 4), 30);
    assert!(!out
        .iter()
        .any(|o| matches!(o, AuthorityOutput::SplitBrain(_))));
    assert_eq!(s.master("region-a").map(|m| m.at_ms), Some(30));
    // Re-delivery of the older one changes nothing.
    let out = s.on_claim(&claim("region-a", "global-control", Global, 4), 20);
    assert!(matches!(&out[..], [AuthorityOutput::Audit(a)] if a.rule == AuditRule::Timestamp));
    assert_eq!(s.master("region-a").map(|m| m.at_ms), Some(30));
}

#[test]
fn same_epoch_claims_are_a_split_brain_until_a_higher_epoch() {
    let mut s = seed_000();
    let out = s.on_claim(&claim("region-b", "rogue-control", Region, 2), 5_000);
    let split = out.iter().find_map(|o| match o {
        AuthorityOutput::SplitBrain(sb) => Some(sb.clone()),
        _ => None,
    });
    assert_eq!(
        split,
        Some(SplitBrain {
            domain_id: "region-b".into(),
            epoch: 2,
            controllers: vec!["region-b-control".into(), "rogue-control".into()],
            at_ms: 5_000,
        })
    );
    assert!(s.contested("region-b"));
    // Neither contender may write while contested; the ancestor may.
    for controller in ["region-b-control", "rogue-control"] {
        let out = s.on_assign(
            &assign(AssignTarget::Domain, "region-b", controller, Region, 2),
            6_000,
            None,
        );
        let want = RejectReason::SplitBrain {
            domain_id: "region-b".into(),
            epoch: 2,
        };
        assert_eq!(rejection(&out), Some(want));
    }
    let out = s.on_assign(
        &assign(
            AssignTarget::Domain,
            "region-b",
            "global-control",
            Global,
            1,
        ),
        6_000,
        None,
    );
    assert!(accepted(&out));
    // A third controller widens the split.
    let out = s.on_claim(&claim("region-b", "a-third", Region, 2), 5_500);
    assert!(out
        .iter()
        .any(|o| matches!(o, AuthorityOutput::SplitBrain(sb) if sb.controllers.len() == 3)));
    // A higher epoch resolves it.
    let out = s.on_claim(&claim("region-b", "region-b-control", Region, 3), 7_000);
    assert!(out
        .iter()
        .any(|o| matches!(o, AuthorityOutput::SplitBrainResolved { epoch: 2, .. })));
    assert!(!s.contested("region-b"));
    let out = s.on_assign(
        &assign(
            AssignTarget::Domain,
            "region-b",
            "region-b-control",
            Region,
            3,
        ),
        8_000,
        None,
    );
    assert!(accepted(&out));
}

#[test]
fn conflicting_writes_are_last_write_wins_with_audit() {
    let mut s = seed_000();
    let write = |bundle: &str, controller: &str, level, epoch| {
        let mut a = assign(
            AssignTarget::Domain,
            "edge-zone-a1",
            controller,
            level,
            epoch,
        );
        a.bundle_id = bundle.into();
        a
    };
    let out = s.on_assign(&write("b1", "region-a-control", Region, 3), 10, None);
    assert_eq!(
        audit_rule(&out),
        Some((AuditRule::First, Some("b1".into()), None))
    );
    assert!(accepted(&out));
    let out = s.on_assign(&write("b2", "region-a-control", Region, 3), 20, None);
    assert_eq!(
        audit_rule(&out),
        Some((AuditRule::Timestamp, Some("b2".into()), Some("b1".into())))
    );
    // Late arrival of an older write: audited, not applied.
    let out = s.on_assign(&write("b0", "region-a-control", Region, 3), 5, None);
    assert_eq!(
        audit_rule(&out),
        Some((AuditRule::Timestamp, Some("b2".into()), Some("b0".into())))
    );
    assert!(!accepted(&out));
    // Same write again: duplicate.
    let out = s.on_assign(&write("b2", "region-a-control", Region, 3), 20, None);
    assert_eq!(audit_rule(&out).map(|a| a.0), Some(AuditRule::Duplicate));
    assert!(!accepted(&out));
    // Same epoch and time from two controllers: the greater controller id wins.
    s.on_claim(&claim("global", "global-control", Global, 3), 1_000);
    let out = s.on_assign(&write("bg", "global-control", Global, 3), 20, None);
    assert_eq!(
        audit_rule(&out),
        Some((
            AuditRule::ControllerId,
            Some("b2".into()),
            Some("bg".into())
        ))
    );
    // A new epoch wins even with an earlier event time.
    s.on_claim(&claim("region-a", "region-a-control", Region, 4), 1_000);
    let out = s.on_assign(&write("b4", "region-a-control", Region, 4), 1, None);
    assert_eq!(
        audit_rule(&out),
        Some((AuditRule::Epoch, Some("b4".into()), Some("b2".into())))
    );
    assert_eq!(
        s.domain_writes
            .get("edge-zone-a1")
            .and_then(|w| w.bundle_id.as_deref()),
        Some("b4")
    );
    assert_eq!(
        s.effective_master("edge-zone-b1").map(|(d, _)| d),
        Some("edge-zone-b1".into())
    );
}

#[test]
fn state_and_outputs_round_trip_through_json() {
    let mut s = seed_000();
    let out = s.on_claim(&claim("region-b", "rogue-control", Region, 2), 5_000);
    let text = serde_json::to_string(&s).expect("state");
    assert_eq!(
        serde_json::from_str::<AuthorityState>(&text).expect("state back"),
        s
    );
    let text = serde_json::to_string(&out).expect("outputs");
    assert_eq!(
        serde_json::from_str::<Vec<AuthorityOutput>>(&text).expect("back"),
        out
    );
}

fn claims_strategy() -> impl Strategy<Value = Vec<(AuthorityClaimEvent, i64)>> {
    let one = (0usize..3, 0usize..4, 0i64..4, 0i64..1_000);
    prop::collection::vec(one, 1..24).prop_map(|raw| {
        let levels = [Global, Region, Local, Autonomous];
        let mut seen = BTreeSet::new();
        raw.into_iter()
            // distinct (domain, epoch, ts, controller) keys
            .filter(|(d, c, e, t)| seen.insert((*d, *c, *e, *t)))
            .map(|(d, c, e, t)| (claim(&format!("d{d}"), &format!("c{c}"), levels[c], e), t))
            .collect()
    })
}

fn split_summary(outputs: &[AuthorityOutput]) -> BTreeMap<(String, i64), usize> {
    let mut summary = BTreeMap::new();
    for o in outputs {
        if let AuthorityOutput::SplitBrain(sb) = o {
            let n = summary.entry((sb.domain_id.clone(), sb.epoch)).or_insert(0);
            *n = (*n).max(sb.controllers.len());
        }
    }
    summary
}

fn run_claims(
    claims: &[(AuthorityClaimEvent, i64)],
) -> (AuthorityState, BTreeMap<(String, i64), usize>) {
    let mut s = AuthorityState::default();
    s.on_domain(&DomainDef {
        domain_id: "d1".into(),
        parent_id: Some("d0".into()),
        level: DomainLevel::Region,
        autonomy: None,
        version: None,
        sync: None,
        utc_offset_minutes: None,
    });
    let outputs: Vec<AuthorityOutput> =
        claims.iter().flat_map(|(c, t)| s.on_claim(c, *t)).collect();
    (s, split_summary(&outputs))
}

proptest! {
    #[test]
    fn claim_outcome_is_independent_of_arrival_order(
        (claims, shuffled) in claims_strategy().prop_flat_map(|c| (Just(c.clone()), Just(c).prop_shuffle()))
    ) {
        let (a, splits_a) = run_claims(&claims);
        let (b, splits_b) = run_claims(&shuffled);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(splits_a, splits_b);
        for d in ["d0", "d1", "d2"] {
            prop_assert_eq!(a.master(d), b.master(d));
            prop_assert_eq!(a.contested(d), b.contested(d));
        }
    }

    #[test]
    fn write_outcome_is_independent_of_arrival_order(
        raw in prop::collection::vec((0usize..4, 0usize..3, 0i64..50), 1..16)
            .prop_flat_map(|w| (Just(w.clone()), Just(w).prop_shuffle()))
    ) {
        let (writes, shuffled) = raw;
        let controllers = [("global-control", Global, 1), ("region-a-control", Region, 3),
            ("edge-zone-a1-control", Local, 1), ("region-b-control", Region, 2)];
        let targets = ["region-a", "edge-zone-a1", "edge-zone-c"];
        let run = |ws: &[(usize, usize, i64)]| {
            let mut s = seed_000();
            let mut rejected = Vec::new();
            for (c, t, ts) in ws {
                let (id, level, epoch) = controllers[*c];
                let out = s.on_assign(&assign(AssignTarget::Domain, targets[*t], id, level, epoch), *ts, None);
                rejected.extend(rejection(&out));
            }
            rejected.sort_by_key(|r| format!("{r:?}"));
            (s, rejected)
        };
        prop_assert_eq!(run(&writes), run(&shuffled));
    }
}

#[test]
fn only_the_highest_epochs_are_kept() {
    let mut s = AuthorityState::default();
    for epoch in 0..(MAX_EPOCHS_PER_DOMAIN as i64 + 6) {
        s.on_claim(&claim("d", "c", Region, epoch), epoch);
    }
    let kept = s.claims.get("d").map(BTreeMap::len);
    assert_eq!(kept, Some(MAX_EPOCHS_PER_DOMAIN));
    assert_eq!(
        s.master("d").map(|m| m.epoch),
        Some(MAX_EPOCHS_PER_DOMAIN as i64 + 5)
    );
    assert_eq!(
        s.claims
            .get("d")
            .and_then(|e| e.first_key_value())
            .map(|(k, _)| *k),
        Some(6)
    );
}

/// A domain's path is root first, itself last; an unknown domain is its own path, and a cycle
/// in the parent links ends the walk.
#[test]
fn domain_paths_walk_the_parents_from_the_root() {
    let mut s = seed_000();
    let cases: &[(&str, &[&str])] = &[
        ("global", &["global"]),
        ("region-a", &["global", "region-a"]),
        ("edge-zone-a2", &["global", "region-a", "edge-zone-a2"]),
        ("edge-zone-c", &["global", "edge-zone-c"]),
        ("nowhere", &["nowhere"]),
    ];
    for (domain, want) in cases {
        assert_eq!(s.path(domain), *want, "{domain}");
    }
    for (id, parent) in [("loop-a", "loop-b"), ("loop-b", "loop-a")] {
        s.on_domain(&DomainDef {
            domain_id: id.into(),
            parent_id: Some(parent.into()),
            level: DomainLevel::Zone,
            autonomy: None,
            version: None,
            sync: None,
            utc_offset_minutes: None,
        });
    }
    assert_eq!(s.path("loop-a"), ["loop-b", "loop-a"]);
}
