//! The fleet processor stage's federation outputs, driven in memory: domain records on
//! `fleet.domains.v1` and bundle versions on `fleet.bundles.v1` come from partition 0 only,
//! and the `#control` timer republishes a domain whose upstream sync became overdue when the
//! partition's time (a tick) passes that instant. Pure: no services.

use sxfleet_processors::TwinStage;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{
    decode, encode, AuthorityClaimEvent, AuthorityLevel, BundleVersion, ControlEvent,
    ControlPayload, Domain, DomainDef, DomainLevel, DomainSync, FederationSync, PolicyBundle,
    Source, SyncDirection,
};

const T0: i64 = 1_772_150_400_000;
const MIN: i64 = 60_000;

fn control(n: i64, at_ms: i64, payload: ControlPayload) -> ControlEvent {
    ControlEvent {
        event_id: format!("c{n}"),
        key: "k".to_owned(),
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        payload,
    }
}

fn inputs() -> Vec<ControlEvent> {
    let domain = |id: &str, parent: Option<&str>| {
        ControlPayload::Domain(DomainDef {
            domain_id: id.to_owned(),
            parent_id: parent.map(str::to_owned),
            level: DomainLevel::Region,
            autonomy: None,
            version: Some(1),
            sync: Some(DomainSync {
                frequency_ms: Some(15 * MIN),
                ..DomainSync::default()
            }),
            utc_offset_minutes: None,
        })
    };
    let bundle = |version: &str| {
        ControlPayload::PolicyBundle(PolicyBundle {
            bundle_id: "b-region-a".to_owned(),
            version: version.to_owned(),
            target_version: "1.4.7".to_owned(),
            policy_version: "policy-v1".to_owned(),
            config: Default::default(),
            constraints: Default::default(),
        })
    };
    vec![
        control(1, T0, domain("global", None)),
        control(2, T0, domain("region-a", Some("global"))),
        control(
            3,
            T0 + 1,
            ControlPayload::Authority(AuthorityClaimEvent {
                domain_id: "region-a".to_owned(),
                controller_id: "region-a-control".to_owned(),
                level: AuthorityLevel::Region,
                epoch: 1,
            }),
        ),
        control(
            4,
            T0 + 2,
            ControlPayload::Sync(FederationSync {
                controller_id: "region-a-control".to_owned(),
                domain_id: "region-a".to_owned(),
                direction: SyncDirection::Upstream,
                peer: "global-control".to_owned(),
                last_sync_ms: T0,
                frequency_ms: None,
                mode: None,
                pending_changes: 0,
            }),
        ),
        control(5, T0 + 3, bundle("1.2.0")),
        control(6, T0 + 4, bundle("1.1.0")),
    ]
}

fn feed(stage: &mut TwinStage, partition: i32, offset: i64, event: &ControlEvent) -> Vec<Output> {
    let payload = encode(event).expect("encodes");
    let input = Input {
        topic: "fleet.events.v1",
        partition,
        offset,
        key: Some(b"k"),
        payload: Some(&payload),
        timestamp_ms: Some(event.event_time_ms),
        source: None,
    };
    let mut out = Vec::new();
    stage.process(&input, &mut out).expect("processes");
    stage.flush(&mut out).expect("flushes");
    out
}

fn on<'a>(out: &'a [Output], topic: &'a str) -> impl Iterator<Item = (&'a str, &'a [u8])> {
    out.iter()
        .filter(move |o| o.topic == topic)
        .filter_map(|o| {
            let key = std::str::from_utf8(o.key.as_deref()?).ok()?;
            Some((key, o.payload.as_deref()?))
        })
}

#[test]
fn partition_0_publishes_domains_and_bundle_versions() {
    let topics = Topics::with_prefix("test.");
    let mut stage = TwinStage::new("federation", topics.clone());
    let (mut zero, mut one) = (Vec::new(), Vec::new());
    for (offset, event) in inputs().iter().enumerate() {
        zero.extend(feed(&mut stage, 0, offset as i64, event));
        one.extend(feed(&mut stage, 1, offset as i64, event));
    }
    for topic in [&topics.domains, &topics.bundles, &topics.authority] {
        assert_eq!(
            on(&one, topic).count(),
            0,
            "partition 1 publishes nothing on {topic}"
        );
    }
    let bundles: Vec<(String, String)> = on(&zero, &topics.bundles)
        .map(|(key, bytes)| {
            (
                key.to_owned(),
                decode::<BundleVersion>(bytes).unwrap().status,
            )
        })
        .collect();
    let want = [
        ("b-region-a@1.2.0", "IN_FORCE"),
        ("b-region-a@1.1.0", "STALE"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, s)| ((*k).to_owned(), (*s).to_owned()))
        .collect();
    assert_eq!(bundles, want);
    // Bundle decisions are keyed by bundle id on the authority topic.
    let keys: Vec<&str> = on(&zero, &topics.authority).map(|(key, _)| key).collect();
    assert!(
        keys.contains(&"b-region-a") && keys.contains(&"region-a"),
        "{keys:?}"
    );
    let region: Vec<Domain> = on(&zero, &topics.domains)
        .filter(|(key, _)| *key == "region-a")
        .map(|(_, bytes)| decode::<Domain>(bytes).unwrap())
        .collect();
    let last = region.last().expect("region-a published");
    assert_eq!(last.revision, region.len() as i64);
    assert_eq!(last.authority_status, "AUTHORITATIVE");
    assert_eq!(last.path, ["global", "region-a"]);

    // Partition time passes the instant region-a's sync is overdue (a tick while idle).
    let mut out = Vec::new();
    stage.on_tick(0, T0 + 20 * MIN, &mut out).expect("ticks");
    stage.flush(&mut out).expect("flushes");
    let flipped: Vec<Domain> = on(&out, &topics.domains)
        .map(|(_, bytes)| decode::<Domain>(bytes).unwrap())
        .collect();
    let [record] = flipped.as_slice() else {
        panic!("{flipped:?}")
    };
    assert_eq!(record.domain_id, "region-a");
    assert_eq!(record.updated_ms, T0 + 15 * MIN + 1);
    assert_eq!(record.authority_reason.as_deref(), Some("SYNC_OVERDUE"));
    assert_eq!(record.revision, last.revision + 1);
    // The same tick on partition 1 changes its state silently.
    let mut quiet = Vec::new();
    stage.on_tick(1, T0 + 20 * MIN, &mut quiet).expect("ticks");
    stage.flush(&mut quiet).expect("flushes");
    assert_eq!(on(&quiet, &topics.domains).count(), 0);
    let reason = |p: i32| {
        let control = stage.control(p).expect("control state");
        control.domains.published["region-a"]
            .authority_reason
            .clone()
    };
    assert_eq!(reason(1), reason(0));
}
