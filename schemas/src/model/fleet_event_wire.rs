//! Wire form of `FleetEvent` and the conversions between wire and domain.

use serde::{Deserialize, Serialize, Serializer};

use super::common::{EventKind, Source};
use super::fleet_event::{
    Attestation, EventPayload, FleetEvent, Heartbeat, Lifecycle, Link, Register, Replay, Snapshot,
    TrustViolation,
};
use super::EpochMillis;
use crate::catalog;
use crate::codec::Canonical;
use crate::error::{only_payload, PayloadError};

/// `FleetEvent` exactly as the Avro record: one nullable field per payload.
///
/// Any combination can be decoded; [`FleetEvent::try_from`] checks that exactly the payload
/// named by `kind` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "FleetEvent")]
pub struct FleetEventWire {
    /// See [`FleetEvent::event_id`].
    pub event_id: String,
    /// See [`FleetEvent::node_id`].
    pub node_id: String,
    /// See [`FleetEvent::seq`].
    pub seq: i64,
    /// See [`FleetEvent::event_time_ms`].
    pub event_time_ms: EpochMillis,
    /// See [`FleetEvent::received_ms`].
    pub received_ms: EpochMillis,
    /// See [`FleetEvent::source`].
    pub source: Source,
    /// See [`FleetEvent::replayed`].
    pub replayed: bool,
    /// Names the payload field that should be set.
    pub kind: EventKind,
    /// REGISTER payload.
    pub register: Option<Register>,
    /// HEARTBEAT payload.
    pub heartbeat: Option<Heartbeat>,
    /// LINK payload.
    pub link: Option<Link>,
    /// SNAPSHOT payload.
    pub snapshot: Option<Snapshot>,
    /// LIFECYCLE payload.
    pub lifecycle: Option<Lifecycle>,
    /// ATTESTATION payload.
    pub attestation: Option<Attestation>,
    /// REPLAY payload.
    pub replay: Option<Replay>,
    /// TRUST_VIOLATION payload.
    #[serde(default)]
    pub trust_violation: Option<TrustViolation>,
}

/// The wire record borrowed from a [`FleetEvent`], so encoding copies nothing.
#[derive(Serialize)]
#[serde(rename = "FleetEvent")]
struct FleetEventView<'a> {
    event_id: &'a str,
    node_id: &'a str,
    seq: i64,
    event_time_ms: EpochMillis,
    received_ms: EpochMillis,
    source: Source,
    replayed: bool,
    kind: EventKind,
    register: Option<&'a Register>,
    heartbeat: Option<&'a Heartbeat>,
    link: Option<&'a Link>,
    snapshot: Option<&'a Snapshot>,
    lifecycle: Option<&'a Lifecycle>,
    attestation: Option<&'a Attestation>,
    replay: Option<&'a Replay>,
    trust_violation: Option<&'a TrustViolation>,
}

impl<'a> From<&'a FleetEvent> for FleetEventView<'a> {
    fn from(event: &'a FleetEvent) -> Self {
        let mut view = FleetEventView {
            event_id: &event.event_id,
            node_id: &event.node_id,
            seq: event.seq,
            event_time_ms: event.event_time_ms,
            received_ms: event.received_ms,
            source: event.source,
            replayed: event.replayed,
            kind: event.payload.kind(),
            register: None,
            heartbeat: None,
            link: None,
            snapshot: None,
            lifecycle: None,
            attestation: None,
            replay: None,
            trust_violation: None,
        };
        match &event.payload {
            EventPayload::Register(p) => view.register = Some(p),
            EventPayload::Heartbeat(p) => view.heartbeat = Some(p),
            EventPayload::Link(p) => view.link = Some(p),
            EventPayload::Snapshot(p) => view.snapshot = Some(p),
            EventPayload::Lifecycle(p) => view.lifecycle = Some(p),
            EventPayload::Attestation(p) => view.attestation = Some(p),
            EventPayload::Replay(p) => view.replay = Some(p),
            EventPayload::TrustViolation(p) => view.trust_violation = Some(p),
        }
        view
    }
}

impl Serialize for FleetEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        FleetEventView::from(self).serialize(serializer)
    }
}

impl From<FleetEvent> for FleetEventWire {
    fn from(event: FleetEvent) -> Self {
        let mut wire = FleetEventWire {
            event_id: event.event_id,
            node_id: event.node_id,
            seq: event.seq,
            event_time_ms: event.event_time_ms,
            received_ms: event.received_ms,
            source: event.source,
            replayed: event.replayed,
            kind: event.payload.kind(),
            register: None,
            heartbeat: None,
            link: None,
            snapshot: None,
            lifecycle: None,
            attestation: None,
            replay: None,
            trust_violation: None,
        };
        match event.payload {
            EventPayload::Register(p) => wire.register = Some(p),
            EventPayload::Heartbeat(p) => wire.heartbeat = Some(p),
            EventPayload::Link(p) => wire.link = Some(p),
            EventPayload::Snapshot(p) => wire.snapshot = Some(p),
            EventPayload::Lifecycle(p) => wire.lifecycle = Some(p),
            EventPayload::Attestation(p) => wire.attestation = Some(p),
            EventPayload::Replay(p) => wire.replay = Some(p),
            EventPayload::TrustViolation(p) => wire.trust_violation = Some(p),
        }
        wire
    }
}

impl TryFrom<FleetEventWire> for FleetEvent {
    type Error = PayloadError;

    /// # Errors
    /// [`PayloadError::UnknownKind`] for kind UNKNOWN; [`PayloadError::Unexpected`] if a payload
    /// other than the one `kind` names is set; [`PayloadError::Missing`] if that one is null.
    fn try_from(wire: FleetEventWire) -> Result<Self, PayloadError> {
        const RECORD: &str = "FleetEvent";
        let Some(field) = wire.kind.payload_field() else {
            return Err(PayloadError::UnknownKind { record: RECORD });
        };
        let kind = wire.kind.as_str();
        only_payload(
            RECORD,
            kind,
            field,
            &[
                ("register", wire.register.is_some()),
                ("heartbeat", wire.heartbeat.is_some()),
                ("link", wire.link.is_some()),
                ("snapshot", wire.snapshot.is_some()),
                ("lifecycle", wire.lifecycle.is_some()),
                ("attestation", wire.attestation.is_some()),
                ("replay", wire.replay.is_some()),
                ("trust_violation", wire.trust_violation.is_some()),
            ],
        )?;
        let payload = match wire.kind {
            EventKind::Register => wire.register.map(EventPayload::Register),
            EventKind::Heartbeat => wire.heartbeat.map(EventPayload::Heartbeat),
            EventKind::Link => wire.link.map(EventPayload::Link),
            EventKind::Snapshot => wire.snapshot.map(EventPayload::Snapshot),
            EventKind::Lifecycle => wire.lifecycle.map(EventPayload::Lifecycle),
            EventKind::Attestation => wire.attestation.map(EventPayload::Attestation),
            EventKind::Replay => wire.replay.map(EventPayload::Replay),
            EventKind::TrustViolation => wire.trust_violation.map(EventPayload::TrustViolation),
            EventKind::Unknown => None,
        };
        let payload = payload.ok_or(PayloadError::Missing {
            record: RECORD,
            kind,
            field,
        })?;
        Ok(FleetEvent {
            event_id: wire.event_id,
            node_id: wire.node_id,
            seq: wire.seq,
            event_time_ms: wire.event_time_ms,
            received_ms: wire.received_ms,
            source: wire.source,
            replayed: wire.replayed,
            payload,
        })
    }
}

impl Canonical for FleetEvent {
    const ENTRY: &'static catalog::CatalogEntry = &catalog::FLEET_EVENT;
    type Wire = FleetEventWire;
    fn from_wire(wire: FleetEventWire) -> Result<Self, PayloadError> {
        FleetEvent::try_from(wire)
    }
}

/// The unchecked wire form; decoding it accepts any payload combination.
impl Canonical for FleetEventWire {
    const ENTRY: &'static catalog::CatalogEntry = &catalog::FLEET_EVENT;
    type Wire = Self;
    fn from_wire(wire: Self) -> Result<Self, PayloadError> {
        Ok(wire)
    }
}
