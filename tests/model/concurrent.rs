//! Concurrent histories: a few requests on one grant sent at once (racing refreshes of one
//! token, a refresh racing a revocation or a code replay, ...), and the answers checked for
//! linearizability: some order of the requests, consistent with real time (a request that ended
//! before another started comes first), must give exactly the observed answers in the model,
//! and leave the store as that order leaves the model.

use super::backends::ModelBackend;
use super::ops::{new_grant, Choice, Kind, Op, Pick, SendProof, SendVerifier, REFRESH_SCOPES};
use super::run::{check, Prepared, World};
use super::{Answer, Caller, Fault, Model, Redirect, LIFETIMES};
use crate::support::Reply;
use chatroom_token::http::handle;
use proptest::prelude::*;
use std::time::Instant;

/// A grant brought to some point, then requests on it all at once.
#[derive(Clone, Debug)]
pub struct Race {
    /// Refreshes before the race (each a second apart): 0 leaves the first token current.
    pub prior_refreshes: usize,
    /// The clock moves past the grace window before the race.
    pub past_grace: bool,
    pub requests: Vec<Op>,
}

fn recent(kind: Kind) -> impl Strategy<Value = Pick> {
    (0usize..3).prop_map(move |n| Pick {
        kind,
        choice: Choice::Recent(n),
    })
}

fn racing_request() -> impl Strategy<Value = Op> {
    let scope =
        prop_oneof![3 => Just(None), 1 => prop::sample::select(REFRESH_SCOPES).prop_map(Some)];
    prop_oneof![
        6 => (recent(Kind::Refresh), scope).prop_map(|(token, scope)| Op::Refresh {
            caller: Caller::App,
            token,
            scope,
            proof: SendProof::None,
            fault: Fault::None,
        }),
        2 => prop_oneof![recent(Kind::Refresh), recent(Kind::Access)].prop_map(|token| {
            Op::Revoke {
                caller: Caller::App,
                token,
                fault: Fault::None,
            }
        }),
        1 => recent(Kind::Access).prop_map(|token| Op::Introspect {
            caller: Caller::ResourceServer,
            token,
        }),
        1 => Just(Op::Redeem {
            caller: Caller::App,
            code: Pick { kind: Kind::Code, choice: Choice::Recent(0) },
            redirect: Redirect::Right,
            verifier: SendVerifier::Proper,
            proof: SendProof::None,
            fault: Fault::None,
        }),
    ]
}

pub fn race() -> impl Strategy<Value = Race> {
    (
        0usize..=2,
        any::<bool>(),
        prop::collection::vec(racing_request(), 2..=4),
    )
        .prop_map(|(prior_refreshes, past_grace, requests)| Race {
            prior_refreshes,
            past_grace,
            requests,
        })
}

/// A request as it was seen: its answer and when it started and ended.
struct Observed {
    reply: Reply,
    start: Instant,
    end: Instant,
}

/// An order of the requests that explains every answer: the model's answers in it (by request)
/// and the model after it.
struct Explanation {
    order: Vec<usize>,
    answers: Vec<Option<Answer>>,
    model: Model,
}

pub async fn run_race<B: ModelBackend>(backend: &B, race: &Race) -> Result<(), String> {
    let mut world = World::new(backend).await;
    let newest_refresh = Pick {
        kind: Kind::Refresh,
        choice: Choice::Recent(0),
    };
    let mut setup = new_grant();
    for _ in 0..race.prior_refreshes {
        setup.push(Op::Advance(1));
        setup.push(Op::Refresh {
            caller: Caller::App,
            token: newest_refresh,
            scope: None,
            proof: SendProof::None,
            fault: Fault::None,
        });
    }
    if race.past_grace {
        setup.push(Op::Advance(LIFETIMES.grace));
    }
    for op in &setup {
        world
            .step(op)
            .await
            .map_err(|why| format!("setup {op:?}: {why}"))?;
    }

    let requests: Vec<Prepared> = race
        .requests
        .iter()
        .filter_map(|op| world.prepare(op))
        .collect();
    let tasks: Vec<_> = requests
        .iter()
        .map(|prepared| {
            let service = world.h.service.clone();
            let request = prepared.request();
            tokio::spawn(async move {
                let start = Instant::now();
                let reply = Reply::from(handle(&service, request).await);
                Observed {
                    reply,
                    start,
                    end: Instant::now(),
                }
            })
        })
        .collect();
    let mut observed = Vec::new();
    for task in tasks {
        observed.push(task.await.expect("a request task panicked"));
    }

    let mut explanations = Vec::new();
    let mut order = Vec::new();
    let mut answers = vec![None; requests.len()];
    explain(
        &world,
        &world.model,
        &requests,
        &observed,
        &mut order,
        &mut answers,
        &mut explanations,
    );
    let seen: Vec<String> = observed
        .iter()
        .map(|o| format!("{} {}", o.reply.status, o.reply.raw))
        .collect();
    if explanations.is_empty() {
        return Err(format!(
            "no order of the requests explains the answers\n  requests: {requests:#?}\n  answers: {seen:#?}"
        ));
    }
    // Every explanation matches the same replies, so the tokens they hand out are the same;
    // the first one's order records them (a grace retry after the rotation it repeats).
    let first = &explanations[0];
    for &i in &first.order {
        let answer = first.answers[i].as_ref().expect("explained");
        world.record(answer, &observed[i].reply, &requests[i])?;
    }
    let mut store_mismatch = String::new();
    for explanation in explanations {
        match world.check_store(&explanation.model).await {
            Ok(()) => {
                world.model = explanation.model;
                return Ok(());
            }
            Err(why) => store_mismatch = why,
        }
    }
    Err(format!(
        "the answers are explained, but the store is not as any explaining order leaves it: \
         {store_mismatch}\n  answers: {seen:#?}"
    ))
}

/// Collects every order, consistent with real time, whose model answers are the observed ones.
fn explain<B: ModelBackend>(
    world: &World<'_, B>,
    model: &Model,
    requests: &[Prepared],
    observed: &[Observed],
    order: &mut Vec<usize>,
    answers: &mut Vec<Option<Answer>>,
    found: &mut Vec<Explanation>,
) {
    if order.len() == requests.len() {
        found.push(Explanation {
            order: order.clone(),
            answers: answers.clone(),
            model: model.clone(),
        });
        return;
    }
    let pending: Vec<usize> = (0..requests.len()).filter(|i| !order.contains(i)).collect();
    for &i in &pending {
        // `i` may come next only if no other pending request ended before it started.
        if pending
            .iter()
            .any(|&j| j != i && observed[j].end < observed[i].start)
        {
            continue;
        }
        let mut next = model.clone();
        let step = requests[i].apply(&mut next);
        if world
            .verify(&step.answer, &observed[i].reply, requests[i].caller)
            .is_ok()
        {
            order.push(i);
            answers[i] = Some(step.answer);
            explain(world, &next, requests, observed, order, answers, found);
            answers[i] = None;
            order.pop();
        }
    }
}

/// The concurrent property on one backend.
pub fn races_are_linearizable<B: ModelBackend + Default>(
    source_file: &'static str,
    default_cases: u32,
) {
    let runtime = super::run::runtime();
    check(
        "races_are_linearizable",
        source_file,
        default_cases,
        race(),
        |race| {
            runtime.block_on(async {
                let backend = B::default();
                let result = run_race(&backend, &race).await;
                backend.cleanup().await;
                result
            })
        },
    );
}
