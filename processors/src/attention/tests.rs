//! Tests of the attention score and its hysteresis.

use sxfleet_schemas::Health;

use super::*;

fn inputs() -> AttentionInputs {
    AttentionInputs {
        drift_score: 0.0,
        seconds_behind: 0,
        split_brain: false,
        no_master: false,
        health: Health::Ok,
        supply_chain_violation: false,
    }
}

const NODE: Subject<'static> = Subject {
    kind: "ATTENTION",
    subject_kind: "NODE",
    id: "n1",
    domain_id: "d1",
};

#[test]
fn score_table() {
    let config = AttentionConfig::default();
    // (case, inputs, score, reasons largest first)
    let cases: Vec<(&str, AttentionInputs, f64, Vec<&str>)> = vec![
        ("healthy", inputs(), 0.0, vec![]),
        (
            "seed 003 drift alone (47.5)",
            AttentionInputs {
                drift_score: 47.5,
                ..inputs()
            },
            14.25,
            vec!["drift"],
        ),
        (
            "seed 002 sync debt 3.75 h",
            AttentionInputs {
                seconds_behind: 13_500,
                ..inputs()
            },
            18.75,
            vec!["sync_debt"],
        ),
        (
            "a supply-chain violation alone raises",
            AttentionInputs {
                supply_chain_violation: true,
                ..inputs()
            },
            45.0,
            vec!["supply_chain"],
        ),
        (
            "everything at once is capped at 100",
            AttentionInputs {
                drift_score: 100.0,
                seconds_behind: 86_400,
                split_brain: true,
                no_master: true,
                health: Health::Failed,
                supply_chain_violation: true,
            },
            100.0,
            vec!["supply_chain", "drift", "sync_debt", "health", "authority"],
        ),
        (
            "no master is a small authority mismatch",
            AttentionInputs {
                no_master: true,
                health: Health::Degraded,
                ..inputs()
            },
            15.0,
            vec!["health", "authority"],
        ),
    ];
    for (case, given, want, reasons) in cases {
        let (got, why) = score(&given, &config);
        assert!((got - want).abs() < 1e-9, "{case}: {got} != {want}");
        assert_eq!(why, reasons, "{case}");
    }
}

#[test]
fn alerts_do_not_flap_between_the_thresholds() {
    let config = AttentionConfig::default();
    let mut state = AttentionState::default();
    let scores = [
        10.0, 39.9, 40.0, 45.0, 30.0, 39.0, 41.0, 24.9, 26.0, 39.0, 55.0,
    ];
    let actions: Vec<(f64, String, String)> = scores
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            update(&mut state, NODE, (*s, vec![]), i as i64, &config)
                .map(|a| (*s, a.action, a.alert_id))
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            (40.0, "RAISE".to_owned(), "ATTENTION:n1:1".to_owned()),
            (24.9, "RESOLVE".to_owned(), "ATTENTION:n1:1".to_owned()),
            (55.0, "RAISE".to_owned(), "ATTENTION:n1:2".to_owned()),
        ]
    );
    assert!(state.open);
    assert_eq!(state.raised, 2);
}
