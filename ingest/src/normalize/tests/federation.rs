//! The federation additions of issue 12: `via` on heartbeats and links, the `edge` node type,
//! domain `version` and `sync` settings, and the `sync` control type.

use sxfleet_schemas::EventPayload;

use super::{code_of, ctx, RECEIVED_MS};
use crate::config::{NormalizerConfig, UnknownFields};
use crate::normalize::{normalize, Normalized};
use crate::reject::ReasonCode;

/// One raw message of `type` with the common fields and `extra` fields appended.
fn msg(kind: &str, extra: &str) -> String {
    let common = match kind {
        "sync" | "domain" => String::new(),
        _ => r#","node_id":"n-1","seq":1"#.to_owned(),
    };
    format!(r#"{{"type":"{kind}","ts":"2026-02-27T00:00:00Z"{common}{extra}}}"#)
}

fn only(raw: &str) -> Normalized {
    let mut records = normalize(&NormalizerConfig::default(), raw.as_bytes(), ctx())
        .unwrap_or_else(|rejected| panic!("{raw}: {rejected:?}"));
    assert_eq!(records.len(), 1, "{raw}");
    records.remove(0)
}

#[test]
fn federation_fields_are_accepted_or_rejected_with_their_reason() {
    let hops17 = (0..17).map(|i| format!("\"r-{i}\"")).collect::<Vec<_>>();
    let hops16 = &hops17[..16];
    let sync = r#","controller_id":"region-a-control","domain_id":"region-a","peer":"global-control","last_sync":"2026-02-26T23:50:00Z""#;
    let domain = r#","domain_id":"region-a","level":"REGION""#;
    let cases: Vec<(String, Result<usize, ReasonCode>)> = vec![
        // via on heartbeat and link
        (msg("heartbeat", r#","via":["relay-7","sat-link-2"]"#), Ok(1)),
        (msg("heartbeat", r#","via":[]"#), Ok(1)),
        (msg("heartbeat", &format!(",\"via\":[{}]", hops16.join(","))), Ok(1)),
        (msg("heartbeat", &format!(",\"via\":[{}]", hops17.join(","))), Err(ReasonCode::OutOfRange)),
        (msg("heartbeat", r#","via":["relay-7",""]"#), Err(ReasonCode::BadId)),
        (msg("heartbeat", r#","via":["relay 7"]"#), Err(ReasonCode::BadId)),
        (msg("heartbeat", r#","via":[7]"#), Err(ReasonCode::WrongType)),
        (msg("heartbeat", r#","via":"relay-7""#), Err(ReasonCode::WrongType)),
        (msg("link", r#","state":"lost","via":["relay-7"]"#), Ok(1)),
        (msg("link", r#","state":"lost","via":[""]"#), Err(ReasonCode::BadId)),
        // edge
        (msg("edge", r#","peer_id":"n-2","relation":"media","state":"down""#), Ok(1)),
        (msg("edge", r#","peer_id":"n-2","relation":"BYPASS""#), Ok(1)),
        (msg("edge", r#","relation":"media""#), Err(ReasonCode::MissingField)),
        (msg("edge", r#","peer_id":"n-1","relation":"media""#), Err(ReasonCode::BadId)),
        (msg("edge", r#","peer_id":"n-2""#), Err(ReasonCode::MissingField)),
        (msg("edge", r#","peer_id":"n-2","relation":"telepathy""#), Err(ReasonCode::BadEnum)),
        (msg("edge", r#","peer_id":"n-2","relation":"unknown""#), Err(ReasonCode::BadEnum)),
        (msg("edge", r#","peer_id":"n-2","relation":"media","state":"gone""#), Err(ReasonCode::BadEnum)),
        (msg("edge", r#","peer_id":"n-2","relation":"media","state":"unknown""#), Err(ReasonCode::BadEnum)),
        // domain version and sync settings
        (msg("domain", &format!("{domain},\"version\":4")), Ok(1)),
        (msg("domain", &format!("{domain},\"version\":-1")), Err(ReasonCode::OutOfRange)),
        (msg("domain", &format!("{domain},\"version\":\"4\"")), Err(ReasonCode::WrongType)),
        (msg("domain", &format!("{domain},\"sync\":{{\"frequency\":\"15m\",\"mode\":\"push\"}}")), Ok(1)),
        (msg("domain", &format!("{domain},\"sync\":{{\"frequency\":900000}}")), Ok(1)),
        (msg("domain", &format!("{domain},\"sync\":{{\"frequency\":\"15 minutes\"}}")), Err(ReasonCode::BadDuration)),
        (msg("domain", &format!("{domain},\"sync\":{{\"frequency\":\"0s\"}}")), Err(ReasonCode::BadDuration)),
        (msg("domain", &format!("{domain},\"sync\":{{\"frequency\":-5}}")), Err(ReasonCode::BadDuration)),
        (msg("domain", &format!("{domain},\"sync\":{{\"frequency\":1.5}}")), Err(ReasonCode::BadDuration)),
        (msg("domain", &format!("{domain},\"sync\":{{\"frequency\":true}}")), Err(ReasonCode::WrongType)),
        (msg("domain", &format!("{domain},\"sync\":{{\"can_operate_isolated\":\"yes\"}}")), Err(ReasonCode::WrongType)),
        (msg("domain", &format!("{domain},\"sync\":{{\"upstream\":\"\"}}")), Err(ReasonCode::BadId)),
        (msg("domain", &format!("{domain},\"sync\":\"15m\"")), Err(ReasonCode::WrongType)),
        // sync reports
        (msg("sync", &format!("{sync},\"direction\":\"upstream\"")), Ok(1)),
        (msg("sync", &format!("{sync},\"direction\":\"DOWNSTREAM\",\"frequency\":\"30s\",\"pending_changes\":3")), Ok(1)),
        (msg("sync", &format!("{sync},\"direction\":\"sideways\"")), Err(ReasonCode::BadEnum)),
        (msg("sync", &format!("{sync},\"direction\":\"unknown\"")), Err(ReasonCode::BadEnum)),
        (msg("sync", sync), Err(ReasonCode::MissingField)),
        (msg("sync", r#","controller_id":"c","domain_id":"d","direction":"upstream","peer":"p""#), Err(ReasonCode::MissingField)),
        (msg("sync", &format!("{sync},\"direction\":\"upstream\",\"frequency\":\"soon\"")), Err(ReasonCode::BadDuration)),
        (msg("sync", &format!("{sync},\"direction\":\"upstream\",\"pending_changes\":-1")), Err(ReasonCode::OutOfRange)),
        (
            msg("sync", r#","controller_id":"c","domain_id":"d","direction":"upstream","peer":"p","last_sync":"last week""#),
            Err(ReasonCode::BadTimestamp),
        ),
        (msg("sync", &format!("{sync},\"direction\":\"upstream\"").replace("\"peer\":\"global-control\"", "\"peer\":\"\"")), Err(ReasonCode::BadId)),
    ];
    let config = NormalizerConfig::default();
    for (raw, want) in cases {
        assert_eq!(code_of(&raw, &config), want, "{raw}");
    }
    // In a replay chunk, a sync report is not a node event.
    let chunk = msg(
        "replay",
        &format!(
            r#","phase":"chunk","events":[{}]"#,
            msg(
                "sync",
                &format!("{sync},\"direction\":\"upstream\",\"node_id\":\"n-1\"")
            )
        ),
    );
    assert_eq!(code_of(&chunk, &config), Err(ReasonCode::UnknownType));
}

#[test]
fn durations_read_every_unit() {
    use crate::normalize::fields::duration_ms;
    let cases = [
        ("500ms", Some(500)),
        ("30s", Some(30_000)),
        ("15m", Some(900_000)),
        ("2h", Some(7_200_000)),
        ("1d", Some(86_400_000)),
        ("0ms", None),
        ("15", None),
        ("m", None),
        ("1.5h", None),
        ("15M", None),
        (" 15m", None),
        ("-1s", None),
        ("9223372036854775807d", None),
    ];
    for (text, want) in cases {
        assert_eq!(duration_ms(text), want, "{text}");
    }
}

#[test]
fn federation_fields_reach_the_canonical_records() {
    use sxfleet_schemas::{
        ControlPayload, DomainSync, EdgeDecl, EdgeRelation, EdgeState, FederationSync,
        SyncDirection,
    };
    let event = |raw: &str| match only(raw) {
        Normalized::Event(event) => event,
        other => panic!("{raw}: {other:?}"),
    };
    let control = |raw: &str| match only(raw) {
        Normalized::Control(event) => event,
        other => panic!("{raw}: {other:?}"),
    };

    let hb = event(&msg("heartbeat", r#","via":["relay-7","sat-link-2"]"#));
    let EventPayload::Heartbeat(hb) = hb.payload else {
        panic!()
    };
    assert_eq!(
        hb.via,
        Some(vec!["relay-7".to_owned(), "sat-link-2".to_owned()])
    );
    let EventPayload::Heartbeat(hb) = event(&msg("heartbeat", "")).payload else {
        panic!()
    };
    assert_eq!(hb.via, None, "absent: path unchanged");
    let EventPayload::Link(link) = event(&msg("link", r#","state":"detected","via":[]"#)).payload
    else {
        panic!()
    };
    assert_eq!(link.via, Some(vec![]), "empty: direct");

    let edge = event(&msg("edge", r#","peer_id":"n-2","relation":"signaling""#));
    assert_eq!(
        (edge.node_id.as_str(), edge.seq, edge.event_id.as_str()),
        ("n-1", 1, "n-1:1")
    );
    assert_eq!(
        edge.payload,
        EventPayload::Edge(EdgeDecl {
            peer_id: "n-2".into(),
            relation: EdgeRelation::Signaling,
            state: EdgeState::Up,
        }),
        "state defaults to UP"
    );

    let domain = control(&msg(
        "domain",
        r#","domain_id":"edge-zone-c","level":"ZONE","version":2,"sync":{"upstream":"global-control","frequency":"2h","mode":"opportunistic","can_operate_isolated":true}"#,
    ));
    let ControlPayload::Domain(def) = domain.payload else {
        panic!()
    };
    assert_eq!(def.version, Some(2));
    assert_eq!(
        def.sync,
        Some(DomainSync {
            upstream: Some("global-control".into()),
            frequency_ms: Some(7_200_000),
            mode: Some("opportunistic".into()),
            can_operate_isolated: Some(true),
        })
    );
    let ControlPayload::Domain(plain) =
        control(&msg("domain", r#","domain_id":"d","level":"GLOBAL""#)).payload
    else {
        panic!()
    };
    assert_eq!((plain.version, plain.sync), (None, None));

    let sync = control(&msg(
        "sync",
        r#","controller_id":"region-a-control","domain_id":"region-a","direction":"upstream","peer":"global-control","last_sync":"2026-02-26T23:45:00Z","frequency":"15m","mode":"continuous","pending_changes":3"#,
    ));
    assert_eq!(sync.key, "region-a", "keyed by domain_id");
    assert_eq!(sync.event_time_ms, RECEIVED_MS);
    assert_eq!(
        sync.payload,
        ControlPayload::Sync(FederationSync {
            controller_id: "region-a-control".into(),
            domain_id: "region-a".into(),
            direction: SyncDirection::Upstream,
            peer: "global-control".into(),
            last_sync_ms: RECEIVED_MS - 900_000,
            frequency_ms: Some(900_000),
            mode: Some("continuous".into()),
            pending_changes: 3,
        })
    );
    let ControlPayload::Sync(minimal) = control(&msg(
        "sync",
        r#","controller_id":"c","domain_id":"d","direction":"downstream","peer":"p","last_sync":"2026-02-26T00:00:00Z""#,
    ))
    .payload
    else {
        panic!()
    };
    assert_eq!(
        (minimal.frequency_ms, minimal.mode, minimal.pending_changes),
        (None, None, 0)
    );
}

#[test]
fn new_fields_are_known_to_the_strict_contract() {
    let strict = NormalizerConfig {
        unknown_fields: UnknownFields::Reject,
        ..NormalizerConfig::default()
    };
    for raw in [
        msg("heartbeat", r#","via":["r"]"#),
        msg("link", r#","state":"lost","via":["r"]"#),
        msg(
            "edge",
            r#","peer_id":"n-2","relation":"media","state":"up""#,
        ),
        msg(
            "domain",
            r#","domain_id":"d","level":"ZONE","version":1,"sync":{"mode":"push"}"#,
        ),
        msg(
            "sync",
            r#","controller_id":"c","domain_id":"d","direction":"upstream","peer":"p","last_sync":"2026-02-26T00:00:00Z","frequency":1000,"mode":"push","pending_changes":0"#,
        ),
    ] {
        assert_eq!(code_of(&raw, &strict), Ok(1), "{raw}");
    }
    let extra = msg("edge", r#","peer_id":"n-2","relation":"media","weight":3"#);
    assert_eq!(code_of(&extra, &strict), Err(ReasonCode::UnknownField));
}
