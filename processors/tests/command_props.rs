//! Property: duplicates of commands and acks, repeated timer firings and store round-trips (a
//! restart) change nothing (timers due by an input's time fire before it, as in the stage) the node's command book decides. Per command, an AT_MOST_ONCE one is
//! published at most once, an AT_LEAST_ONCE one is published again at every release while it
//! is open, and the final statuses equal those of the run without duplicates. Pure.

use proptest::prelude::*;
use sxfleet_processors::command::{CommandConfig, Origin};
use sxfleet_processors::lifecycle::PreciseState;
use sxfleet_processors::node::commands::{self, CommandStepped};
use sxfleet_processors::node::NodeState;
use sxfleet_runtime::store::StoreCodec;
use sxfleet_schemas::{
    AckStatus, CommandAck, CommandKind, CommandRequest, CommandState, CommandTarget,
};
use sxfleet_schemas::{AuthorityClaim, AuthorityLevel, ConnectivityMode, Delivery};

const T0: i64 = 1_772_150_400_000;
const KEYS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Submit(usize),
    Ack(usize, AckStatus),
    Timer,
    Away,
    Back,
}

fn request(i: usize, issued_ms: i64) -> CommandRequest {
    CommandRequest {
        command_id: format!("cmd-{i}"),
        idempotency_key: format!("key-{i}"),
        target_kind: CommandTarget::Node,
        target_id: "n1".to_owned(),
        kind: CommandKind::Restart,
        delivery: if i % 2 == 0 {
            Delivery::AtLeastOnce
        } else {
            Delivery::AtMostOnce
        },
        issued_ms,
        // Key 2 expires 20 minutes after it was issued.
        expires_ms: (i == 2).then_some(issued_ms + 1_200_000),
        authority: AuthorityClaim {
            controller_id: "c".to_owned(),
            level: AuthorityLevel::Region,
            epoch: 1,
        },
        params: Default::default(),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..KEYS).prop_map(Op::Submit),
        (
            0..KEYS,
            prop_oneof![
                Just(AckStatus::Received),
                Just(AckStatus::Applied),
                Just(AckStatus::Failed)
            ]
        )
            .prop_map(|(i, s)| Op::Ack(i, s)),
        Just(Op::Timer),
        Just(Op::Away),
        Just(Op::Back),
    ]
}

/// One step of a run: an op at an absolute time.
type Timed = (i64, Op);

fn node() -> NodeState {
    let mut state = NodeState::new("n1");
    state.twin.domain_id = "d".to_owned();
    state.lifecycle.state = PreciseState::LiveOk;
    state.lifecycle.connectivity = ConnectivityMode::Live;
    state
}

#[derive(Default)]
struct Seen {
    /// Publications per key.
    published: [usize; KEYS],
}

fn apply(
    state: &mut NodeState,
    at: i64,
    op: &Op,
    issued: &mut [Option<i64>; KEYS],
    seen: &mut Seen,
) {
    let config = CommandConfig::default();
    // As in the stage, the node's timers due by an input's time fire before it.
    let fired = commands::on_timer(state, 0, at, &config);
    count(&fired, seen);
    let stepped: CommandStepped = match op {
        Op::Submit(i) => {
            let at_issue = *issued[*i].get_or_insert(at);
            let origin = Origin::Controller(Ok(()));
            commands::on_command(state, &request(*i, at_issue), origin, 0, at, &config)
        }
        Op::Ack(i, status) => {
            let ack = CommandAck {
                command_id: format!("cmd-{i}"),
                status: *status,
                reason: None,
                reported_version: None,
            };
            commands::on_ack(state, &ack, 0, at, &config)
        }
        Op::Timer => commands::on_timer(state, 0, at, &config),
        Op::Away => {
            state.lifecycle.state = PreciseState::Autonomous;
            state.lifecycle.connectivity = ConnectivityMode::Autonomous;
            commands::after_step(state, 0, at, &config)
        }
        Op::Back => {
            let held: Vec<(usize, bool)> = (0..KEYS)
                .filter_map(|i| {
                    let c = state.commands.commands.get(&format!("key-{i}"))?;
                    let open = c.status == CommandState::Held
                        && c.request.expires_ms.is_none_or(|e| e > at);
                    open.then_some((i, c.request.delivery == Delivery::AtLeastOnce))
                })
                .collect();
            state.lifecycle.state = PreciseState::LiveOk;
            state.lifecycle.connectivity = ConnectivityMode::Live;
            let stepped = commands::after_step(state, 0, at, &config);
            for (i, _) in held {
                let sent = stepped
                    .outcome
                    .commands
                    .iter()
                    .any(|c| c.idempotency_key == format!("key-{i}"));
                assert!(sent, "held key-{i} is published at the release");
            }
            stepped
        }
    };
    count(&stepped, seen);
}

fn count(stepped: &CommandStepped, seen: &mut Seen) {
    for command in &stepped.outcome.commands {
        let i: usize = command.idempotency_key["key-".len()..].parse().unwrap();
        seen.published[i] += 1;
        if command.delivery == Delivery::AtMostOnce {
            assert_eq!(seen.published[i], 1, "AT_MOST_ONCE key-{i} published twice");
            assert_eq!(command.attempt, 1);
        }
    }
}

fn finals(state: &NodeState) -> Vec<(String, CommandState, Option<String>)> {
    state
        .commands
        .commands
        .iter()
        .map(|(k, c)| (k.clone(), c.status, c.reason.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn duplicates_timers_and_restarts_change_nothing(
        base in prop::collection::vec((0i64..400_000, op()), 1..30),
        copies in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..3), 0..20),
    ) {
        // The plain run, at absolute times.
        // Acks only of commands already sent (an ack before its command is another story:
        // `unknown_command`, and its copy after the command would be news).
        let mut at = T0;
        let mut submitted = [false; KEYS];
        let plain: Vec<Timed> = base
            .iter()
            .filter(|(_, op)| match op {
                Op::Submit(i) => { submitted[*i] = true; true }
                Op::Ack(i, _) => submitted[*i],
                _ => true,
            })
            .map(|(dt, op)| { at += dt; (at, op.clone()) })
            .collect();
        prop_assume!(!plain.is_empty());
        // The noisy run: copies of submits and acks after their original (at the time of the
        // step they follow), timer firings at times already reached, and restarts.
        let mut after: Vec<Vec<Option<Op>>> = vec![Vec::new(); plain.len()];
        for (which, whereto, kind) in copies {
            let from = which.index(plain.len());
            let to = from + whereto.index(plain.len() - from);
            let extra = match (kind, &plain[from].1) {
                (0, op @ (Op::Submit(_) | Op::Ack(..))) => Some(op.clone()),
                (1, _) => Some(Op::Timer),
                _ => None, // a restart
            };
            after[to].push(extra);
        }
        let noisy: Vec<(i64, Option<Op>)> = plain
            .iter()
            .zip(after)
            .flat_map(|((t, op), extras)| {
                std::iter::once((*t, Some(op.clone()))).chain(extras.into_iter().map(|e| (*t, e)))
            })
            .collect();
        let mut want = node();
        let (mut issued, mut seen) = ([None; KEYS], Seen::default());
        for (t, op) in &plain {
            apply(&mut want, *t, op, &mut issued, &mut seen);
        }
        let mut got = node();
        let (mut issued, mut seen) = ([None; KEYS], Seen::default());
        for (t, op) in &noisy {
            match op {
                Some(op) => apply(&mut got, *t, op, &mut issued, &mut seen),
                None => got = NodeState::decode(&got.encode().unwrap()).unwrap(),
            }
        }
        prop_assert_eq!(finals(&got), finals(&want));
    }
}
