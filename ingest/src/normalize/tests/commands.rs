//! The command additions of issue 13: the `command` control type, the node's `command_ack`,
//! the heartbeat's `battery_pct` and the domain's `utc_offset`.

use sxfleet_schemas::{
    AckStatus, CommandKind, CommandTarget, ControlPayload, Delivery, EventPayload,
};

use super::ctx;
use crate::config::NormalizerConfig;
use crate::normalize::{normalize, Normalized};
use crate::reject::ReasonCode;

const TS_MS: i64 = 1_772_150_400_000; // 2026-02-27T00:00:00Z
const AUTH: &str = r#""authority":{"controller_id":"region-a-control","level":"REGION","epoch":3}"#;

fn command(extra: &str) -> String {
    format!(r#"{{"type":"command","ts":"2026-02-27T00:00:00Z",{AUTH}{extra}}}"#)
}

fn code_of(raw: &str) -> ReasonCode {
    match super::code_of(raw, &NormalizerConfig::default()) {
        Ok(records) => panic!("{raw}: accepted as {records} records"),
        Err(code) => code,
    }
}

fn only(raw: &str) -> Normalized {
    let mut records = normalize(&NormalizerConfig::default(), raw.as_bytes(), ctx())
        .unwrap_or_else(|rejected| panic!("{raw}: {rejected:?}"));
    assert_eq!(records.len(), 1, "{raw}");
    records.remove(0)
}

#[test]
fn a_command_normalizes_with_its_target_delivery_and_expiry() {
    let raw = command(
        r#","idempotency_key":"k-1","target":{"node":"edge-1"},"kind":"update","delivery":"at_most_once","ttl":"1h","params":{"version":"1.4.7","force":true}"#,
    );
    let Normalized::Control(event) = only(&raw) else {
        panic!("not a control record")
    };
    assert_eq!(event.key, "edge-1");
    let ControlPayload::Command(request) = event.payload else {
        panic!("not a command")
    };
    assert_eq!(request.command_id, "k-1", "defaults to the idempotency key");
    assert_eq!(request.target_kind, CommandTarget::Node);
    assert_eq!(request.kind, CommandKind::Update);
    assert_eq!(request.delivery, Delivery::AtMostOnce);
    assert_eq!(request.issued_ms, TS_MS);
    assert_eq!(request.expires_ms, Some(TS_MS + 3_600_000));
    assert_eq!(request.authority.epoch, 3);
    assert_eq!(request.params["force"], "true");

    let raw = command(
        r#","command_id":"c-9","idempotency_key":"k-2","target":{"domain":"zone-a"},"kind":"custom","params":{"name":"flush"},"payload":{"depth":2},"expires":"2026-02-27T05:00:00Z""#,
    );
    let Normalized::Control(event) = only(&raw) else {
        panic!("not a control record")
    };
    let ControlPayload::Command(request) = event.payload else {
        panic!("not a command")
    };
    assert_eq!(
        (event.key.as_str(), request.command_id.as_str()),
        ("zone-a", "c-9")
    );
    assert_eq!(request.target_kind, CommandTarget::Domain);
    assert_eq!(request.delivery, Delivery::AtLeastOnce, "the default");
    assert_eq!(request.params["payload"], r#"{"depth":2}"#);
    assert_eq!(request.expires_ms, Some(TS_MS + 5 * 3_600_000));
}

#[test]
fn a_bad_command_is_rejected_with_its_reason() {
    let key = r#","idempotency_key":"k""#;
    let node = r#","target":{"node":"edge-1"}"#;
    let cases = [
        (format!(r#"{key}{node}"#), ReasonCode::MissingField), // no kind
        (format!(r#"{key},"kind":"restart""#), ReasonCode::BadCommand), // no target
        (
            format!(r#"{key},"kind":"restart","target":{{"node":"a","domain":"b"}}"#),
            ReasonCode::BadCommand,
        ),
        (
            format!(r#"{key}{node},"kind":"reboot""#),
            ReasonCode::BadCommand,
        ),
        (
            format!(r#"{key}{node},"kind":"restart","delivery":"exactly_once""#),
            ReasonCode::BadCommand,
        ),
        (
            format!(r#"{key}{node},"kind":"custom""#),
            ReasonCode::BadCommand,
        ),
        (
            format!(r#"{key}{node},"kind":"restart","payload":1"#),
            ReasonCode::BadCommand,
        ),
        (
            format!(r#"{key}{node},"kind":"restart","ttl":"1h","expires":"2026-02-27T05:00:00Z""#),
            ReasonCode::BadCommand,
        ),
        (
            format!(r#"{key}{node},"kind":"restart","ttl":"soon""#),
            ReasonCode::BadDuration,
        ),
        (
            format!(r#"{node},"kind":"restart""#),
            ReasonCode::MissingField,
        ), // no key
        (
            format!(r#"{key},"target":{{"node":"edge 1"}},"kind":"restart""#),
            ReasonCode::BadId,
        ),
    ];
    for (extra, code) in cases {
        let raw = command(&extra);
        assert_eq!(code_of(&raw), code, "{raw}");
    }
    let no_authority = r#"{"type":"command","ts":"2026-02-27T00:00:00Z","idempotency_key":"k","target":{"node":"n"},"kind":"restart"}"#;
    assert_eq!(code_of(no_authority), ReasonCode::BadCommand);
}

#[test]
fn a_command_ack_battery_and_utc_offset_normalize() {
    let ack = r#"{"type":"command_ack","node_id":"edge-1","seq":4,"ts":"2026-02-27T00:00:00Z","command_id":"c-1","status":"failed","reason":"disk full"}"#;
    let Normalized::Event(event) = only(ack) else {
        panic!("not an event")
    };
    let EventPayload::CommandAck(ack) = event.payload else {
        panic!("not an ack")
    };
    assert_eq!(
        (ack.status, ack.reason.as_deref()),
        (AckStatus::Failed, Some("disk full"))
    );
    let bad_status = ack_with(r#""status":"done""#);
    assert_eq!(code_of(&bad_status), ReasonCode::BadEnum);

    let heartbeat = r#"{"type":"heartbeat","node_id":"edge-1","seq":5,"ts":"2026-02-27T00:00:00Z","health":"OK","battery_pct":41.5}"#;
    let Normalized::Event(event) = only(heartbeat) else {
        panic!("not an event")
    };
    let EventPayload::Heartbeat(heartbeat) = event.payload else {
        panic!("not a heartbeat")
    };
    assert_eq!(heartbeat.battery_pct, Some(41.5));
    let over = r#"{"type":"heartbeat","node_id":"edge-1","seq":5,"ts":"2026-02-27T00:00:00Z","battery_pct":101}"#;
    assert_eq!(code_of(over), ReasonCode::OutOfRange);

    for (offset, minutes) in [
        ("Z", Some(0)),
        ("+02:00", Some(120)),
        ("-05:30", Some(-330)),
    ] {
        let raw = format!(
            r#"{{"type":"domain","ts":"2026-02-27T00:00:00Z","domain_id":"d","level":"ZONE","utc_offset":"{offset}"}}"#
        );
        let Normalized::Control(event) = only(&raw) else {
            panic!("not a control record")
        };
        let ControlPayload::Domain(domain) = event.payload else {
            panic!("not a domain")
        };
        assert_eq!(domain.utc_offset_minutes, minutes, "{offset}");
    }
    for offset in ["+2", "+15:00", "02:00", "+02:60"] {
        let raw = format!(
            r#"{{"type":"domain","ts":"2026-02-27T00:00:00Z","domain_id":"d","level":"ZONE","utc_offset":"{offset}"}}"#
        );
        assert_eq!(code_of(&raw), ReasonCode::BadTimestamp, "{offset}");
    }
}

fn ack_with(status: &str) -> String {
    format!(
        r#"{{"type":"command_ack","node_id":"edge-1","seq":4,"ts":"2026-02-27T00:00:00Z","command_id":"c-1",{status}}}"#
    )
}
