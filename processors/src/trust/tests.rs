//! Table-driven tests of the trust rules and of the lifecycle's quarantine paths.

use sxfleet_schemas::{
    Attestation, EventPayload, Firmware, FleetEvent, Hardware, Lifecycle, NodeKind, Register,
    Source,
};

use super::*;
use crate::lifecycle::{self, LifecycleState, PreciseState as S};

fn ev(seq: i64, payload: EventPayload) -> FleetEvent {
    FleetEvent {
        event_id: format!("n1:{seq}"),
        node_id: "n1".to_owned(),
        seq,
        event_time_ms: 1_000 * seq,
        received_ms: 1_000 * seq,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    }
}

fn register(seq: i64, signature: Option<&str>) -> FleetEvent {
    ev(
        seq,
        EventPayload::Register(Register {
            kind: NodeKind::Edge,
            domain_id: "d".to_owned(),
            firmware: Firmware {
                version: Some("1.0".to_owned()),
                signature: signature.map(str::to_owned),
            },
            region: "r".to_owned(),
            zone: "z".to_owned(),
            tags: Vec::new(),
            hardware: Hardware::default(),
            public_key: None,
        }),
    )
}

fn attest(seq: i64, ok: bool, signature: Option<&str>, not_after: Option<i64>) -> FleetEvent {
    ev(
        seq,
        EventPayload::Attestation(Attestation {
            result: if ok {
                AttestationResult::Verified
            } else {
                AttestationResult::Failed
            },
            firmware_signature: signature.map(str::to_owned),
            cert_not_after_ms: not_after,
        }),
    )
}

fn remediation(seq: i64) -> FleetEvent {
    ev(
        seq,
        EventPayload::Lifecycle(Lifecycle {
            event: "remediation_complete".to_owned(),
            reason: None,
        }),
    )
}

#[test]
fn trust_rules() {
    // (case, events, violation reasons in order, final verdict)
    let cases: Vec<(&str, Vec<FleetEvent>, Vec<&str>, TrustVerdict)> = vec![
        (
            "matching attestation",
            vec![
                register(1, Some("sig-a")),
                attest(2, true, Some("sig-a"), None),
            ],
            vec![],
            TrustVerdict::Trusted,
        ),
        (
            "no attestation yet",
            vec![register(1, Some("sig-a"))],
            vec![],
            TrustVerdict::Unverified,
        ),
        (
            "failed attestation",
            vec![
                register(1, Some("sig-a")),
                attest(2, false, Some("sig-a"), None),
            ],
            vec!["attestation_failed"],
            TrustVerdict::Violated,
        ),
        (
            "signature differs from the enrollment baseline",
            vec![
                register(1, Some("sig-a")),
                attest(2, true, Some("sig-b"), None),
            ],
            vec!["firmware_signature_mismatch"],
            TrustVerdict::Violated,
        ),
        (
            "failed and forged at once",
            vec![
                register(1, Some("sig-a")),
                attest(2, false, Some("sig-b"), None),
            ],
            vec!["attestation_failed", "firmware_signature_mismatch"],
            TrustVerdict::Violated,
        ),
        (
            "re-registration with another signature",
            vec![register(1, Some("sig-a")), register(2, Some("sig-b"))],
            vec!["baseline_signature_changed"],
            TrustVerdict::Violated,
        ),
        (
            "certificate expires: reported once, at the first event after expiry",
            vec![
                register(1, Some("sig-a")),
                attest(2, true, Some("sig-a"), Some(3_500)),
                attest(3, true, Some("sig-a"), None),
                attest(4, true, Some("sig-a"), None),
                attest(5, true, Some("sig-a"), None),
            ],
            vec!["certificate_expired"],
            TrustVerdict::Violated,
        ),
        (
            "a renewed certificate is checked afresh",
            vec![
                attest(2, true, None, Some(2_500)),
                attest(3, true, None, None),
                attest(4, true, None, Some(10_000)),
                attest(9, true, None, None),
                attest(11, true, None, None),
            ],
            vec!["certificate_expired", "certificate_expired"],
            TrustVerdict::Violated,
        ),
        (
            "remediation clears the violation",
            vec![
                register(1, Some("sig-a")),
                attest(2, false, Some("sig-a"), None),
                remediation(3),
            ],
            vec!["attestation_failed"],
            TrustVerdict::Trusted,
        ),
        (
            "no baseline: the signature cannot be compared",
            vec![register(1, None), attest(2, true, Some("sig-b"), None)],
            vec![],
            TrustVerdict::Trusted,
        ),
    ];
    for (case, events, reasons, verdict) in cases {
        let mut state = TrustState::default();
        let seen: Vec<String> = events
            .iter()
            .flat_map(|e| on_event(&mut state, e))
            .map(|v| v.reason)
            .collect();
        assert_eq!(seen, reasons, "{case}");
        assert_eq!(state.verdict, verdict, "{case}");
        assert_eq!(state.violations, reasons.len() as i64, "{case}");
        assert_eq!(trusted(&state), verdict != TrustVerdict::Violated, "{case}");
    }
}

#[test]
fn a_replayed_register_does_not_set_the_baseline() {
    let mut state = TrustState::default();
    let mut old = register(1, Some("sig-old"));
    old.replayed = true;
    assert!(on_event(&mut state, &old).is_empty());
    assert_eq!(state.baseline_signature, None);
}

#[test]
fn trust_violations_follow_the_diagram_to_quarantine() {
    // (state before, states entered in order; empty when nothing may move)
    let cases = [
        (S::LiveOk, vec![S::Degraded, S::Quarantined]),
        (S::Delayed, vec![S::Degraded, S::Quarantined]),
        (S::Autonomous, vec![S::Degraded, S::Quarantined]),
        (S::Active, vec![S::Degraded, S::Quarantined]),
        (S::Updating, vec![S::Degraded, S::Quarantined]),
        (S::Degraded, vec![S::Quarantined]),
        (S::Replaying, vec![S::Quarantined]),
        (S::Returning, vec![]),
        (S::Quarantined, vec![]),
    ];
    for (from, path) in cases {
        let mut state = LifecycleState {
            state: from,
            ..LifecycleState::default()
        };
        let out = lifecycle::on_trust_violation(&mut state, 5_000, "attestation_failed");
        let entered: Vec<S> = out.transitions.iter().map(|t| t.to).collect();
        assert_eq!(entered, path, "from {from:?}");
        assert!(
            out.violations.is_empty(),
            "from {from:?}: {:?}",
            out.violations
        );
        assert!(out
            .transitions
            .iter()
            .all(|t| t.reason == "attestation_failed"));
    }
    // Outside the diagram's reach the request is recorded, not applied.
    let mut state = LifecycleState {
        state: S::Enrolled,
        ..LifecycleState::default()
    };
    let out = lifecycle::on_trust_violation(&mut state, 5_000, "attestation_failed");
    assert!(out.transitions.is_empty());
    assert_eq!(out.violations.len(), 1);
    assert_eq!(state.state, S::Enrolled);
}
