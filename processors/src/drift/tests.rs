use proptest::prelude::*;
use sxfleet_schemas::{DomainDef, DomainLevel, PolicyBundle, StringMap};

use super::*;

/// 2026-02-27T00:00:00Z.
const DAY: EpochMillis = 1_772_150_400_000;
const MIN: i64 = 60_000;

fn at(hours: i64, minutes: i64) -> EpochMillis {
    DAY + hours * 60 * MIN + minutes * MIN
}

fn map(pairs: &[(&str, &str)]) -> StringMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn bundle(target: &str, policy: &str, config: StringMap) -> PolicyBundle {
    PolicyBundle {
        bundle_id: "bundle-rempart-2026.02".into(),
        version: "7".into(),
        target_version: target.into(),
        policy_version: policy.into(),
        config,
        constraints: StringMap::new(),
    }
}

fn desired(bundle: PolicyBundle, assigned_ms: EpochMillis) -> ResolvedDesired {
    ResolvedDesired {
        bundle,
        source: DesiredSource::Node,
        assigned_ms,
    }
}

fn actual(version: &str, policy: &str, config: StringMap, at_ms: EpochMillis) -> ActualSnapshot {
    ActualSnapshot {
        reported_version: Some(version.into()),
        policy_version: Some(policy.into()),
        config,
        snapshot_ms: at_ms,
    }
}

/// Seed 003's node-42: a 40-key bundle of which the node runs 38 as desired.
fn seed_003() -> (ResolvedDesired, ActualSnapshot) {
    let mut want = map(&[
        ("stir.enforcement_mode", "hard"),
        ("rate_limit.max_cps", "2000"),
    ]);
    for i in 0..38 {
        want.insert(format!("routing.table_{i:02}"), format!("r{i}"));
    }
    let mut have = want.clone();
    have.insert("stir.enforcement_mode".into(), "soft".into());
    have.insert("rate_limit.max_cps".into(), "1500".into());
    let b = bundle("souverix-rempart-1.4.7", "policy-v2.1", want);
    let d = desired(b, at(0, 0));
    let a = actual("souverix-rempart-1.4.6", "policy-v2.0", have, at(3, 30));
    (d, a)
}

#[test]
fn seed_003_drift_analysis_comes_out_exactly() {
    let (d, a) = seed_003();
    let e = evaluate(Some(&d), Some(&a), None, at(3, 45), &DriftConfig::default());
    assert_eq!(e.status, DriftStatus::Drifted);
    let v = e.version_drift.clone().expect("version drift");
    assert_eq!(v.component.as_deref(), Some("souverix-rempart"));
    assert_eq!(
        (v.desired.as_str(), v.actual.as_deref()),
        ("1.4.7", Some("1.4.6"))
    );
    assert_eq!(v.severity, Severity::Medium);
    assert_eq!(v.impact, "missing_security_patch");
    assert_eq!(e.config_drift.objects, 2);
    assert_eq!(
        e.config_drift.details,
        vec![
            ConfigFieldDrift {
                field: "rate_limit.max_cps".into(),
                desired: "2000".into(),
                actual: Some("1500".into()),
            },
            ConfigFieldDrift {
                field: "stir.enforcement_mode".into(),
                desired: "hard".into(),
                actual: Some("soft".into()),
            },
        ]
    );
    assert_eq!(e.last_sync_ms, Some(at(3, 30)));
    assert_eq!(e.stale_by_ms, Some(15 * MIN));
    assert_eq!(format_duration(15 * MIN), "15m");
    let p = e.policy_drift.clone().expect("policy drift");
    assert_eq!(p.policy_version, "policy-v2.1");
    assert_eq!(p.actual_version.as_deref(), Some("policy-v2.0"));
    assert_eq!(p.compliance_score, 0.95);
    assert_eq!(p.violations, 1);
    // 100 * (0.4 * 0.5 + 0.3 * (1 - 0.95) + 0.3 * min(1, 0.5 + 0.25 * 1)) / 1.0
    assert_eq!(e.score, 44.0);
    assert_eq!(e.objects_out_of_spec, 4);
    assert_eq!(e.first_out_of_spec_ms, Some(at(3, 30)));
    assert_eq!(e.drift_age_ms, Some(15 * MIN));
}

#[test]
fn version_gap_and_severity_table() {
    use VersionGap::*;
    let cases: &[(&str, &str, Option<VersionGap>, Option<Severity>)] = &[
        ("1.4.7", "1.4.7", None, None),
        ("1.4.7", "1.4.7+build.5", None, None),
        ("souverix-rempart-1.4.7", "1.4.7", None, None),
        ("1.4.7", "1.4.6", Some(PatchBehind), Some(Severity::Medium)),
        ("1.4.7", "1.3.9", Some(MinorBehind), Some(Severity::High)),
        (
            "2.0.0",
            "1.9.9",
            Some(MajorBehind),
            Some(Severity::Critical),
        ),
        ("1.4.7", "1.4.8", Some(Ahead), Some(Severity::Low)),
        ("1.4.7", "2.0.0", Some(Ahead), Some(Severity::Low)),
        ("1.4.7", "1.4.7-rc.1", Some(Prerelease), Some(Severity::Low)),
        (
            "1.4.7-rc.2",
            "1.4.7-rc.10",
            Some(Ahead),
            Some(Severity::Low),
        ),
        ("v1.10.0", "v1.9.0", Some(MinorBehind), Some(Severity::High)),
        ("1.4", "1.4.0", None, None),
        (
            "a-1.4.7",
            "b-1.4.7",
            Some(ComponentMismatch),
            Some(Severity::Critical),
        ),
        ("1.4.7", "latest", Some(Unparseable), Some(Severity::High)),
    ];
    for (want, have, gap, severity) in cases {
        let got = compare_versions(want, have);
        assert_eq!(got, *gap, "{want} vs {have}");
        assert_eq!(got.map(VersionGap::severity), *severity, "{want} vs {have}");
    }
}

#[test]
fn version_parsing() {
    let v = ParsedVersion::parse("souverix-rempart-1.4.7-rc.1+b2").expect("parses");
    assert_eq!(v.component.as_deref(), Some("souverix-rempart"));
    assert_eq!(v.core, [1, 4, 7]);
    assert_eq!(v.pre, vec!["rc".to_owned(), "1".to_owned()]);
    assert_eq!(v.text(), "1.4.7-rc.1+b2");
    assert_eq!(ParsedVersion::parse("v2").map(|v| v.core), Some([2, 0, 0]));
    for bad in ["", "latest", "1.2.3.4", "x1.2", "1.a.3"] {
        assert_eq!(ParsedVersion::parse(bad), None, "{bad}");
    }
}

#[test]
fn missing_reported_version_is_high() {
    let d = desired(bundle("1.4.7", "p1", StringMap::new()), at(0, 0));
    let mut a = actual("1.4.7", "p1", StringMap::new(), at(1, 0));
    a.reported_version = None;
    let e = evaluate(Some(&d), Some(&a), None, at(1, 0), &DriftConfig::default());
    let v = e.version_drift.expect("drift");
    assert_eq!(
        (v.gap, v.severity),
        (VersionGap::NotReported, Severity::High)
    );
}

#[test]
fn config_comparison_rules() {
    let want = map(&[("a", "1"), ("b", "x"), ("c", "2000"), ("stir.mode", "hard")]);
    // a: missing; b: differs; c: same number written differently; extra key ignored.
    let have = map(&[
        ("b", "y"),
        ("c", "2000.0"),
        ("stir.mode", "hard"),
        ("extra", "1"),
    ]);
    let d = desired(bundle("1.0.0", "p1", want), at(0, 0));
    let a = actual("1.0.0", "p1", have, at(1, 0));
    let e = evaluate(Some(&d), Some(&a), None, at(1, 0), &DriftConfig::default());
    let fields: Vec<(&str, Option<&str>)> = e
        .config_drift
        .details
        .iter()
        .map(|d| (d.field.as_str(), d.actual.as_deref()))
        .collect();
    assert_eq!(fields, vec![("a", None), ("b", Some("y"))]);
    let p = e.policy_drift.expect("policy");
    assert_eq!((p.compliance_score, p.violations), (0.5, 0));
    // version and policy in spec: score = 100 * 0.3 * 0.5
    assert_eq!(e.score, 15.0);
    assert_eq!(e.objects_out_of_spec, 2);
    assert!(values_equal("1e3", "1000"));
    assert!(!values_equal("NaN", "NaN2"));
}

#[test]
fn status_table() {
    let cfg = DriftConfig::default();
    let d = desired(bundle("1.0.0", "p1", map(&[("k", "v")])), at(0, 0));
    let good = actual("1.0.0", "p1", map(&[("k", "v")]), at(1, 0));
    let bad = actual("1.0.0", "p1", map(&[("k", "w")]), at(1, 0));
    let cases: &[(
        Option<&ResolvedDesired>,
        Option<&ActualSnapshot>,
        i64,
        DriftStatus,
    )] = &[
        (None, Some(&good), at(1, 0), DriftStatus::Unassigned),
        (Some(&d), None, at(1, 0), DriftStatus::Unknown),
        (Some(&d), Some(&good), at(1, 0), DriftStatus::InSpec),
        (Some(&d), Some(&bad), at(1, 0), DriftStatus::Drifted),
        (Some(&d), Some(&bad), at(2, 0), DriftStatus::Drifted), // exactly the limit
        (Some(&d), Some(&bad), at(2, 1), DriftStatus::Unknown),
        (Some(&d), Some(&good), at(2, 1), DriftStatus::Unknown),
    ];
    for (i, (want, have, now, status)) in cases.iter().enumerate() {
        let e = evaluate(*want, *have, None, *now, &cfg);
        assert_eq!(e.status, *status, "case {i}");
    }
}

#[test]
fn drift_age_is_continuous_and_resets_in_spec() {
    let cfg = DriftConfig::default();
    let d = desired(bundle("1.0.0", "p1", map(&[("k", "v")])), at(0, 0));
    let bad1 = actual("1.0.0", "p1", map(&[("k", "w")]), at(1, 0));
    let bad2 = actual("0.9.0", "p1", map(&[("k", "x")]), at(1, 30));
    let good = actual("1.0.0", "p1", map(&[("k", "v")]), at(2, 0));
    let e1 = evaluate(Some(&d), Some(&bad1), None, at(1, 0), &cfg);
    assert_eq!(e1.first_out_of_spec_ms, Some(at(1, 0)));
    let e2 = evaluate(Some(&d), Some(&bad2), Some(&e1), at(1, 40), &cfg);
    assert_eq!(e2.first_out_of_spec_ms, Some(at(1, 0)));
    assert_eq!(e2.drift_age_ms, Some(40 * MIN));
    // Stale: unknown, age keeps running.
    let e3 = evaluate(Some(&d), Some(&bad2), Some(&e2), at(4, 0), &cfg);
    assert_eq!(e3.status, DriftStatus::Unknown);
    assert_eq!(e3.first_out_of_spec_ms, Some(at(1, 0)));
    let e4 = evaluate(Some(&d), Some(&good), Some(&e3), at(2, 5), &cfg);
    assert_eq!(
        (e4.status, e4.first_out_of_spec_ms),
        (DriftStatus::InSpec, None)
    );
    // A later assignment makes the drift start at the assignment.
    let d2 = desired(bundle("1.1.0", "p1", map(&[("k", "v")])), at(2, 10));
    let e5 = evaluate(Some(&d2), Some(&good), Some(&e4), at(2, 10), &cfg);
    assert_eq!(e5.first_out_of_spec_ms, Some(at(2, 10)));
}

fn domain(id: &str, parent: Option<&str>) -> DomainDef {
    DomainDef {
        domain_id: id.into(),
        parent_id: parent.map(String::from),
        level: DomainLevel::Region,
        autonomy: None,
        version: None,
        sync: None,
        utc_offset_minutes: None,
    }
}

#[test]
fn resolver_precedence_and_inheritance() {
    let mut r = DesiredResolver::default();
    for (id, parent) in [
        ("global", None),
        ("region-a", Some("global")),
        ("edge-zone-a1", Some("region-a")),
    ] {
        r.upsert_domain(&domain(id, parent));
    }
    let mut b1 = bundle("1.0.0", "p1", StringMap::new());
    b1.bundle_id = "b-global".into();
    let mut b2 = b1.clone();
    b2.bundle_id = "b-node".into();
    r.offer_bundle(&b1, at(0, 0));
    r.offer_bundle(&b2, at(0, 0));
    assert_eq!(
        r.resolve("n1", Some("edge-zone-a1")),
        Resolution::Unassigned
    );
    r.assign_domain("global", "b-global", at(0, 0));
    let Resolution::Resolved(got) = r.resolve("n1", Some("edge-zone-a1")) else {
        panic!("inherits from global");
    };
    assert_eq!(
        got.source,
        DesiredSource::Domain {
            domain_id: "global".into()
        }
    );
    assert_eq!(got.bundle.bundle_id, "b-global");
    r.assign_domain("region-a", "b-missing", at(0, 5));
    assert_eq!(
        r.resolve("n1", Some("edge-zone-a1")),
        Resolution::MissingBundle {
            bundle_id: "b-missing".into()
        }
    );
    r.assign_node("n1", "b-node", at(0, 10));
    let Resolution::Resolved(got) = r.resolve("n1", Some("edge-zone-a1")) else {
        panic!("node assignment");
    };
    assert_eq!(
        (got.source, got.assigned_ms),
        (DesiredSource::Node, at(0, 10))
    );
    // Unknown domain, no node assignment.
    assert_eq!(r.resolve("n2", Some("nowhere")), Resolution::Unassigned);
    assert_eq!(r.resolve("n2", None), Resolution::Unassigned);
}

#[test]
fn resolver_survives_parent_cycles() {
    let mut r = DesiredResolver::default();
    r.upsert_domain(&domain("a", Some("b")));
    r.upsert_domain(&domain("b", Some("a")));
    assert_eq!(r.resolve("n", Some("a")), Resolution::Unassigned);
}

#[test]
fn durations_render_like_the_seeds() {
    let cases = [
        (0, "0m"),
        (30_000, "30s"),
        (15 * MIN, "15m"),
        (225 * MIN, "3h45m"),
        (17 * 60 * MIN, "17h"),
        (52 * 60 * MIN, "2d4h"),
    ];
    for (ms, text) in cases {
        assert_eq!(format_duration(ms), text);
    }
}

#[test]
fn evaluation_round_trips_through_json() {
    let (d, a) = seed_003();
    let e = evaluate(Some(&d), Some(&a), None, at(3, 45), &DriftConfig::default());
    let text = serde_json::to_string(&e).expect("serialize");
    let back: DriftEvaluation = serde_json::from_str(&text).expect("deserialize");
    assert_eq!(back, e);
    let cfg: DriftConfig = serde_json::from_str("{\"stale_after_ms\":5}").expect("config");
    assert_eq!(cfg.stale_after_ms, 5);
    assert!(serde_json::from_str::<DriftConfig>("{\"bogus\":1}").is_err());
}

fn config_strategy() -> impl Strategy<Value = StringMap> {
    prop::collection::btree_map("[a-z]{1,3}(\\.[a-z]{1,3})?", "[a-z0-9]{0,4}", 0..8)
}

proptest! {
    #[test]
    fn exact_match_is_in_spec_with_score_zero(
        config in config_strategy(),
        major in 0u64..5, minor in 0u64..5, patch in 0u64..5,
        lag in 0i64..=3_600_000,
    ) {
        let version = format!("{major}.{minor}.{patch}");
        let d = desired(bundle(&version, "p", config.clone()), at(0, 0));
        let a = actual(&version, "p", config, at(1, 0));
        let e = evaluate(Some(&d), Some(&a), None, at(1, 0) + lag, &DriftConfig::default());
        prop_assert_eq!(e.status, DriftStatus::InSpec);
        prop_assert_eq!(e.score, 0.0);
        prop_assert_eq!(e.objects_out_of_spec, 0);
        prop_assert!(e.config_drift.details.is_empty());
        prop_assert!(e.version_drift.is_none());
        prop_assert!(e.first_out_of_spec_ms.is_none());
    }

    #[test]
    fn evaluation_is_deterministic_and_bounded(
        want in config_strategy(), have in config_strategy(),
        wv in "[0-2]\\.[0-2]\\.[0-2]", hv in "[0-2]\\.[0-2]\\.[0-2]|x",
        wp in "p[12]", hp in "p[12]", lag in 0i64..20_000_000,
    ) {
        let d = desired(bundle(&wv, &wp, want), at(0, 0));
        let a = actual(&hv, &hp, have, at(1, 0));
        let cfg = DriftConfig::default();
        let e1 = evaluate(Some(&d), Some(&a), None, at(1, 0) + lag, &cfg);
        let e2 = evaluate(Some(&d), Some(&a), None, at(1, 0) + lag, &cfg);
        prop_assert_eq!(&e1, &e2);
        prop_assert!((0.0..=100.0).contains(&e1.score));
        let p = e1.policy_drift.clone().expect("policy");
        prop_assert!((0.0..=1.0).contains(&p.compliance_score));
        prop_assert_eq!(e1.config_drift.objects as usize, e1.config_drift.details.len());
        prop_assert_eq!(e1.status == DriftStatus::Unknown, lag > cfg.stale_after_ms);
    }

    #[test]
    fn a_stale_node_is_unknown(
        want in config_strategy(), have in config_strategy(),
        over in 1i64..1_000_000_000,
    ) {
        let cfg = DriftConfig::default();
        let d = desired(bundle("1.0.0", "p", want), at(0, 0));
        let a = actual("0.1.0", "q", have, at(1, 0));
        let e = evaluate(Some(&d), Some(&a), None, at(1, 0) + cfg.stale_after_ms + over, &cfg);
        prop_assert_eq!(e.status, DriftStatus::Unknown);
    }
}

/// Seed example (item 1): bundle versions in any arrival order; the greater version stays in
/// force, semver components compare as numbers, and an older version is stale.
#[test]
fn bundle_versions_never_go_backwards() {
    use crate::drift::{version_order, Verdict, VersionRule as R};
    let mut r = DesiredResolver::default();
    let offer = |version: &str, target: &str| {
        let mut b = bundle(target, "p1", StringMap::new());
        b.bundle_id = "b-region-a".into();
        b.version = version.into();
        b
    };
    // (version, target_version, minute, verdict, version in force after, replaced)
    type Case<'a> = (&'a str, &'a str, i64, Verdict, &'a str, Option<&'a str>);
    let cases: &[Case] = &[
        (
            "1.1.0",
            "1.4.6",
            0,
            Verdict::Accepted(R::First),
            "1.1.0",
            None,
        ),
        (
            "1.2.0",
            "1.4.7",
            1,
            Verdict::Accepted(R::Version),
            "1.2.0",
            Some("1.1.0"),
        ),
        (
            "1.1.0",
            "1.4.6",
            9,
            Verdict::Rejected(R::Version),
            "1.2.0",
            None,
        ),
        ("1.2.0", "1.4.7", 10, Verdict::Duplicate, "1.2.0", None),
        (
            "1.2.0",
            "1.4.8",
            11,
            Verdict::Accepted(R::Timestamp),
            "1.2.0",
            Some("1.2.0"),
        ),
        (
            "1.2.0",
            "1.4.9",
            5,
            Verdict::Rejected(R::Timestamp),
            "1.2.0",
            None,
        ),
        (
            "1.10.0",
            "1.5.0",
            6,
            Verdict::Accepted(R::Version),
            "1.10.0",
            Some("1.2.0"),
        ),
        (
            "1.9.0",
            "1.5.0",
            20,
            Verdict::Rejected(R::Version),
            "1.10.0",
            None,
        ),
        (
            "1.10.0-rc.1",
            "1.5.0",
            21,
            Verdict::Rejected(R::Version),
            "1.10.0",
            None,
        ),
    ];
    for (version, target, minute, verdict, in_force, replaced) in cases {
        let (got, old) = r.offer_bundle(&offer(version, target), at(0, *minute));
        assert_eq!(got, *verdict, "{version} at minute {minute}");
        assert_eq!(
            old.map(|(b, _)| b.version).as_deref(),
            *replaced,
            "{version}"
        );
        assert_eq!(
            r.bundles["b-region-a"].version, *in_force,
            "after {version}"
        );
    }
    // Not semver: plain string order.
    assert_eq!(version_order("beta", "alpha"), std::cmp::Ordering::Greater);
    assert_eq!(version_order("v2", "v10"), std::cmp::Ordering::Less);
    assert_eq!(
        version_order("2024-06", "2024-05"),
        std::cmp::Ordering::Greater
    );
}
