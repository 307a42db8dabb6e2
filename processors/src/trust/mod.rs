//! Trust and supply chain: the firmware signature registered at enrollment is the baseline;
//! attestations are checked against it and against their certificate's expiry. Pure: time comes
//! from the event. Rules in `docs/projections.md` ("Trust").
//!
//! A violation makes the node's trust `VIOLATED` until a `remediation_complete` lifecycle signal
//! clears it; the node processor turns each violation into the lifecycle's quarantine path
//! ([`crate::lifecycle::on_trust_violation`]) and a failing replay verdict.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{AttestationResult, EpochMillis, EventPayload, FleetEvent};

/// Verdict spelled as in the twin's `trust.state`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrustVerdict {
    /// No attestation seen yet.
    #[default]
    Unverified,
    /// The last attestation verified and matched the baseline; no violation outstanding.
    Trusted,
    /// A violation was seen and not remediated.
    Violated,
}

impl TrustVerdict {
    /// The twin's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustVerdict::Unverified => "UNVERIFIED",
            TrustVerdict::Trusted => "TRUSTED",
            TrustVerdict::Violated => "VIOLATED",
        }
    }
}

/// Trust state of one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustState {
    /// Current verdict.
    pub verdict: TrustVerdict,
    /// Firmware signature registered at enrollment (the first `register` that carried one).
    pub baseline_signature: Option<String>,
    /// Certificate expiry from the last attestation that carried one.
    pub cert_not_after_ms: Option<EpochMillis>,
    /// The expiry above was already reported as a violation.
    pub expiry_reported: bool,
    /// Violations seen.
    pub violations: i64,
    /// The last violation.
    pub last_violation: Option<TrustViolation>,
}

/// One trust violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustViolation {
    /// Event time.
    pub at_ms: EpochMillis,
    /// Reason code: `attestation_failed`, `firmware_signature_mismatch`,
    /// `baseline_signature_changed`, `certificate_expired`, or an ingest check's code.
    pub reason: String,
}

/// Applies a live event of the node. Returns the violations it revealed, in order.
/// Replayed events are history: their attestations are checked too (a forged backlog must not
/// slip through), but a replayed `register` does not set the baseline.
pub fn on_event(state: &mut TrustState, event: &FleetEvent) -> Vec<TrustViolation> {
    let at_ms = event.event_time_ms;
    let mut found = Vec::new();
    match &event.payload {
        EventPayload::Register(register) if !event.replayed => {
            match (&state.baseline_signature, &register.firmware.signature) {
                (None, Some(signature)) => state.baseline_signature = Some(signature.clone()),
                (Some(baseline), Some(signature)) if baseline != signature => {
                    found.push("baseline_signature_changed");
                }
                _ => {}
            }
        }
        EventPayload::Attestation(attestation) => {
            if attestation.result == AttestationResult::Failed {
                found.push("attestation_failed");
            }
            let mismatch = matches!(
                (&state.baseline_signature, &attestation.firmware_signature),
                (Some(baseline), Some(measured)) if baseline != measured
            );
            if mismatch {
                found.push("firmware_signature_mismatch");
            }
            if attestation.cert_not_after_ms.is_some() {
                state.cert_not_after_ms = attestation.cert_not_after_ms;
                state.expiry_reported = false;
            }
            if found.is_empty() && state.verdict == TrustVerdict::Unverified {
                state.verdict = TrustVerdict::Trusted;
            }
        }
        EventPayload::Lifecycle(signal)
            if signal.event.eq_ignore_ascii_case("remediation_complete") =>
        {
            remediate(state);
        }
        _ => {}
    }
    let expired = state
        .cert_not_after_ms
        .is_some_and(|not_after| not_after < at_ms);
    if expired && !state.expiry_reported {
        state.expiry_reported = true;
        found.push("certificate_expired");
    }
    found
        .into_iter()
        .map(|reason| violate(state, at_ms, reason))
        .collect()
}

/// Records a violation reported from outside the node's own events (an ingest signature check).
pub fn violate(state: &mut TrustState, at_ms: EpochMillis, reason: &str) -> TrustViolation {
    let violation = TrustViolation {
        at_ms,
        reason: reason.to_owned(),
    };
    state.verdict = TrustVerdict::Violated;
    state.violations += 1;
    state.last_violation = Some(violation.clone());
    violation
}

/// A remediation completed (the node's `remediation_complete` signal, or an applied REMEDIATE
/// command): the violations that caused the quarantine are cleared (the verdict is TRUSTED
/// again; the count and the last violation stay as history).
pub fn remediate(state: &mut TrustState) {
    if state.verdict == TrustVerdict::Violated {
        state.verdict = TrustVerdict::Trusted;
    }
}

/// Whether a replay may reconcile to LIVE as far as trust goes.
pub fn trusted(state: &TrustState) -> bool {
    state.verdict != TrustVerdict::Violated
}

#[cfg(test)]
mod tests;
