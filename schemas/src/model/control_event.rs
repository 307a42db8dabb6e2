//! `ControlEvent` (topic `fleet.control.v1`, keyed by domain id or bundle id): control-plane
//! records. Same domain/wire split as [`crate::FleetEvent`].

use serde::{Deserialize, Serialize, Serializer};

use super::avro_enum;
use super::common::{AuthorityClaim, AuthorityLevel, DomainLevel, Source};
use super::objects::PolicyBundle;
use super::EpochMillis;
use crate::catalog;
use crate::codec::Canonical;
use crate::error::{only_payload, PayloadError};

avro_enum! {
    /// Kind of a [`ControlEvent`]; names its payload.
    pub enum ControlKind {
        /// [`DomainDef`] payload.
        Domain = "DOMAIN",
        /// [`PolicyBundle`] payload.
        PolicyBundle = "POLICY_BUNDLE",
        /// [`Assign`] payload.
        Assign = "ASSIGN",
        /// [`AuthorityClaimEvent`] payload.
        Authority = "AUTHORITY",
        /// A kind added after this schema version; such a record cannot be interpreted.
        Unknown = "UNKNOWN",
    }
}

impl ControlKind {
    /// Name of the ControlEvent field that carries this kind's payload (`None` for `Unknown`).
    pub fn payload_field(self) -> Option<&'static str> {
        match self {
            ControlKind::Domain => Some("domain"),
            ControlKind::PolicyBundle => Some("policy_bundle"),
            ControlKind::Assign => Some("assign"),
            ControlKind::Authority => Some("authority"),
            ControlKind::Unknown => None,
        }
    }
}

avro_enum! {
    /// What an assignment targets.
    pub enum AssignTarget {
        /// A domain: every node in it.
        Domain = "DOMAIN",
        /// One node.
        Node = "NODE",
    }
}

/// Declaration of a trust/authority domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainDef {
    /// Domain id.
    pub domain_id: String,
    /// Parent domain; `None` for a root.
    pub parent_id: Option<String>,
    /// Scope.
    pub level: DomainLevel,
    /// Autonomy policy.
    pub autonomy: Option<String>,
}

/// Assignment of a policy bundle to a domain or node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assign {
    /// Assigned bundle.
    pub bundle_id: String,
    /// Whether `target_id` is a domain or a node.
    pub target_kind: AssignTarget,
    /// Domain id or node id.
    pub target_id: String,
    /// Authority the assignment is made under.
    pub authority: AuthorityClaim,
}

/// A controller claims master-of-record for a domain at an epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityClaimEvent {
    /// Domain claimed.
    pub domain_id: String,
    /// Claiming controller.
    pub controller_id: String,
    /// Level it acts at.
    pub level: AuthorityLevel,
    /// Monotonic authority epoch.
    pub epoch: i64,
}

/// A control-plane record. Serde sees it as the wire record.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "ControlEventWire")]
pub struct ControlEvent {
    /// Event id.
    pub event_id: String,
    /// Kafka key: the domain id, or the bundle id for a policy bundle.
    pub key: String,
    /// Event time.
    pub event_time_ms: EpochMillis,
    /// Ingest time: raw Kafka message timestamp or HTTP receive time.
    pub received_ms: EpochMillis,
    /// How the record entered the pipeline.
    pub source: Source,
    /// What is declared.
    pub payload: ControlPayload,
}

impl ControlEvent {
    /// Kind of the payload.
    pub fn kind(&self) -> ControlKind {
        self.payload.kind()
    }
}

/// Payload of a [`ControlEvent`], one variant per [`ControlKind`] (except `Unknown`).
#[derive(Debug, Clone, PartialEq)]
pub enum ControlPayload {
    /// Domain declaration.
    Domain(DomainDef),
    /// Policy bundle definition.
    PolicyBundle(PolicyBundle),
    /// Bundle assignment.
    Assign(Assign),
    /// Authority claim.
    Authority(AuthorityClaimEvent),
}

impl ControlPayload {
    /// The [`ControlKind`] matching this payload.
    pub fn kind(&self) -> ControlKind {
        match self {
            ControlPayload::Domain(_) => ControlKind::Domain,
            ControlPayload::PolicyBundle(_) => ControlKind::PolicyBundle,
            ControlPayload::Assign(_) => ControlKind::Assign,
            ControlPayload::Authority(_) => ControlKind::Authority,
        }
    }
}

/// `ControlEvent` exactly as the Avro record; [`ControlEvent::try_from`] checks it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "ControlEvent")]
pub struct ControlEventWire {
    /// See [`ControlEvent::event_id`].
    pub event_id: String,
    /// See [`ControlEvent::key`].
    pub key: String,
    /// See [`ControlEvent::event_time_ms`].
    pub event_time_ms: EpochMillis,
    /// See [`ControlEvent::received_ms`].
    pub received_ms: EpochMillis,
    /// See [`ControlEvent::source`].
    pub source: Source,
    /// Names the payload field that should be set.
    pub kind: ControlKind,
    /// DOMAIN payload.
    pub domain: Option<DomainDef>,
    /// POLICY_BUNDLE payload.
    pub policy_bundle: Option<PolicyBundle>,
    /// ASSIGN payload.
    pub assign: Option<Assign>,
    /// AUTHORITY payload.
    pub authority: Option<AuthorityClaimEvent>,
}

#[derive(Serialize)]
#[serde(rename = "ControlEvent")]
struct ControlEventView<'a> {
    event_id: &'a str,
    key: &'a str,
    event_time_ms: EpochMillis,
    received_ms: EpochMillis,
    source: Source,
    kind: ControlKind,
    domain: Option<&'a DomainDef>,
    policy_bundle: Option<&'a PolicyBundle>,
    assign: Option<&'a Assign>,
    authority: Option<&'a AuthorityClaimEvent>,
}

impl Serialize for ControlEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut view = ControlEventView {
            event_id: &self.event_id,
            key: &self.key,
            event_time_ms: self.event_time_ms,
            received_ms: self.received_ms,
            source: self.source,
            kind: self.payload.kind(),
            domain: None,
            policy_bundle: None,
            assign: None,
            authority: None,
        };
        match &self.payload {
            ControlPayload::Domain(p) => view.domain = Some(p),
            ControlPayload::PolicyBundle(p) => view.policy_bundle = Some(p),
            ControlPayload::Assign(p) => view.assign = Some(p),
            ControlPayload::Authority(p) => view.authority = Some(p),
        }
        view.serialize(serializer)
    }
}

impl From<ControlEvent> for ControlEventWire {
    fn from(event: ControlEvent) -> Self {
        let mut wire = ControlEventWire {
            event_id: event.event_id,
            key: event.key,
            event_time_ms: event.event_time_ms,
            received_ms: event.received_ms,
            source: event.source,
            kind: event.payload.kind(),
            domain: None,
            policy_bundle: None,
            assign: None,
            authority: None,
        };
        match event.payload {
            ControlPayload::Domain(p) => wire.domain = Some(p),
            ControlPayload::PolicyBundle(p) => wire.policy_bundle = Some(p),
            ControlPayload::Assign(p) => wire.assign = Some(p),
            ControlPayload::Authority(p) => wire.authority = Some(p),
        }
        wire
    }
}

impl TryFrom<ControlEventWire> for ControlEvent {
    type Error = PayloadError;

    /// # Errors
    /// As for [`crate::FleetEvent::try_from`]: unknown kind, extra payloads, missing payload.
    fn try_from(wire: ControlEventWire) -> Result<Self, PayloadError> {
        const RECORD: &str = "ControlEvent";
        let Some(field) = wire.kind.payload_field() else {
            return Err(PayloadError::UnknownKind { record: RECORD });
        };
        let kind = wire.kind.as_str();
        only_payload(
            RECORD,
            kind,
            field,
            &[
                ("domain", wire.domain.is_some()),
                ("policy_bundle", wire.policy_bundle.is_some()),
                ("assign", wire.assign.is_some()),
                ("authority", wire.authority.is_some()),
            ],
        )?;
        let payload = match wire.kind {
            ControlKind::Domain => wire.domain.map(ControlPayload::Domain),
            ControlKind::PolicyBundle => wire.policy_bundle.map(ControlPayload::PolicyBundle),
            ControlKind::Assign => wire.assign.map(ControlPayload::Assign),
            ControlKind::Authority => wire.authority.map(ControlPayload::Authority),
            ControlKind::Unknown => None,
        };
        let payload = payload.ok_or(PayloadError::Missing {
            record: RECORD,
            kind,
            field,
        })?;
        Ok(ControlEvent {
            event_id: wire.event_id,
            key: wire.key,
            event_time_ms: wire.event_time_ms,
            received_ms: wire.received_ms,
            source: wire.source,
            payload,
        })
    }
}

impl Canonical for ControlEvent {
    const ENTRY: &'static catalog::CatalogEntry = &catalog::CONTROL_EVENT;
    type Wire = ControlEventWire;
    fn from_wire(wire: ControlEventWire) -> Result<Self, PayloadError> {
        ControlEvent::try_from(wire)
    }
}

/// The unchecked wire form; decoding it accepts any payload combination.
impl Canonical for ControlEventWire {
    const ENTRY: &'static catalog::CatalogEntry = &catalog::CONTROL_EVENT;
    type Wire = Self;
    fn from_wire(wire: Self) -> Result<Self, PayloadError> {
        Ok(wire)
    }
}
