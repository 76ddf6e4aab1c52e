//! The operations a history is made of, and how random ones are drawn. Tokens are picked by
//! position among those handed out so far ("the newest refresh token", "the one before"), so a
//! history stays meaningful when proptest shrinks it by dropping steps.

use super::{lifetimes, Caller, Fault, Redirect, LIFETIMES};
use proptest::prelude::*;

/// Which kind of token an operation presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Code,
    Refresh,
    Access,
}

/// Which token of that kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The n-th newest handed out (0: the newest, the current one of its grant if it rotated
    /// last; 1: usually its predecessor; more: older ones or other grants').
    Recent(usize),
    /// The n-th newest, with one character changed.
    Tampered(usize),
    /// A token of the n-th newest one's grant and generation, minted under a key the service
    /// does not hold (an access token: signed with another key).
    OtherKey(usize),
    /// Not a token at all.
    Garbage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    pub kind: Kind,
    pub choice: Choice,
}

/// The verifier a redemption sends, relative to its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendVerifier {
    /// The right one when the code has a challenge, none when it has not.
    Proper,
    Wrong,
    Missing,
}

/// The DPoP proof a code redemption or refresh sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendProof {
    None,
    /// A fresh proof of the native app's key.
    AppKey,
    /// A fresh proof of a thief's key.
    ThiefKey,
    /// The last proof sent by anyone, again (copied off the wire).
    Replay,
}

/// One step of a history.
#[derive(Clone, Debug)]
pub enum Op {
    IssueCode {
        client: Caller,
        narrow: bool,
        pkce: bool,
        /// The consent page binds the code to the native app's DPoP key (`dpop_jkt`, RFC 9449
        /// §10), whichever client it is for.
        bind: bool,
    },
    Redeem {
        caller: Caller,
        code: Pick,
        redirect: Redirect,
        verifier: SendVerifier,
        proof: SendProof,
        fault: Fault,
    },
    Refresh {
        caller: Caller,
        token: Pick,
        scope: Option<&'static str>,
        proof: SendProof,
        fault: Fault,
    },
    Revoke {
        caller: Caller,
        token: Pick,
        fault: Fault,
    },
    Introspect {
        caller: Caller,
        token: Pick,
    },
    /// `grant_type=client_credentials`, asking for this scope or none.
    ClientToken {
        caller: Caller,
        scope: Option<&'static str>,
    },
    /// The backend's last assertion that authenticated, sent again in a client credentials
    /// request (as by someone who copied it off the wire).
    ReplayAssertion,
    Advance(i64),
    SetEnabled {
        client: Caller,
        enabled: bool,
    },
}

/// Scopes a refresh may ask for: within every grant, within some, or beyond every one.
pub const REFRESH_SCOPES: &[&str] = &[
    "chat_read",
    "user_info_read",
    "chat_read user_info_read",
    "chat_write",
];

/// Scopes a backend may ask for: none (its own), within its own, and beyond it.
pub const CLIENT_TOKEN_SCOPES: &[&str] = &["chat_read", "chat_write user_info_read", "admin"];

/// The clock steps: just inside and just past the grace window, past a code's life, past an
/// access token's, and past the idle and absolute limits of a grant; and the other app's own
/// shorter access-token and idle limits.
pub fn advances() -> impl Strategy<Value = i64> {
    let l = LIFETIMES;
    let other = lifetimes(Caller::OtherApp);
    prop::sample::select(vec![
        1,
        l.grace - 1,
        l.grace,
        l.code,
        l.access_token,
        l.refresh_idle - 1,
        l.refresh_idle,
        l.refresh_absolute / 3,
        other.access_token,
        other.refresh_idle,
    ])
}

fn app() -> impl Strategy<Value = Caller> {
    prop_oneof![
        4 => Just(Caller::App),
        1 => Just(Caller::OtherApp),
        1 => Just(Caller::NativeApp),
    ]
}

pub fn caller() -> impl Strategy<Value = Caller> {
    prop_oneof![
        12 => Just(Caller::App),
        2 => Just(Caller::OtherApp),
        6 => Just(Caller::NativeApp),
        1 => Just(Caller::Backend),
        1 => Just(Caller::ResourceServer),
    ]
}

/// Mostly the backend, sometimes an app (which is not registered for client credentials).
fn client_token_caller() -> impl Strategy<Value = Caller> {
    prop_oneof![6 => Just(Caller::Backend), 1 => Just(Caller::App)]
}

/// A client that an operator may disable: either app or the backend.
fn registered() -> impl Strategy<Value = Caller> {
    prop_oneof![
        3 => Just(Caller::App),
        1 => Just(Caller::OtherApp),
        1 => Just(Caller::NativeApp),
        2 => Just(Caller::Backend),
    ]
}

/// Mostly the resource server, sometimes an app (which may not introspect).
fn introspector() -> impl Strategy<Value = Caller> {
    prop_oneof![8 => Just(Caller::ResourceServer), 1 => Just(Caller::App)]
}

pub fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        12 => Just(Fault::None),
        1 => Just(Fault::BeforeWrite),
        1 => Just(Fault::AnswerLost),
    ]
}

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![
        // Mostly the newest (often the current token), then its predecessor, then older ones.
        8 => Just(Choice::Recent(0)),
        4 => Just(Choice::Recent(1)),
        2 => (2usize..4).prop_map(Choice::Recent),
        1 => (0usize..2).prop_map(Choice::Tampered),
        1 => (0usize..2).prop_map(Choice::OtherKey),
        1 => Just(Choice::Garbage),
    ]
}

/// Mostly a token of `usual` kind, sometimes another kind in its place.
pub fn pick(usual: Kind) -> impl Strategy<Value = Pick> {
    let kind = prop_oneof![
        8 => Just(usual),
        1 => Just(Kind::Code),
        1 => Just(Kind::Refresh),
        1 => Just(Kind::Access),
    ];
    (kind, choice()).prop_map(|(kind, choice)| Pick { kind, choice })
}

fn redirect() -> impl Strategy<Value = Redirect> {
    prop_oneof![
        10 => Just(Redirect::Right),
        1 => Just(Redirect::Wrong),
        1 => Just(Redirect::Missing),
    ]
}

fn send_verifier() -> impl Strategy<Value = SendVerifier> {
    prop_oneof![
        10 => Just(SendVerifier::Proper),
        1 => Just(SendVerifier::Wrong),
        1 => Just(SendVerifier::Missing),
    ]
}

/// Mostly the app's own key (the native app's grants are bound to it), sometimes none, a
/// thief's, or a copy of the last proof sent.
pub fn send_proof() -> impl Strategy<Value = SendProof> {
    prop_oneof![
        3 => Just(SendProof::None),
        6 => Just(SendProof::AppKey),
        2 => Just(SendProof::ThiefKey),
        2 => Just(SendProof::Replay),
    ]
}

fn refresh_scope() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        4 => Just(None),
        1 => prop::sample::select(REFRESH_SCOPES).prop_map(Some),
    ]
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (app(), any::<bool>(), any::<bool>(), prop::bool::weighted(0.25))
            .prop_map(|(client, narrow, pkce, bind)| Op::IssueCode { client, narrow, pkce, bind }),
        4 => (caller(), pick(Kind::Code), redirect(), send_verifier(), send_proof(), fault())
            .prop_map(|(caller, code, redirect, verifier, proof, fault)| Op::Redeem {
                caller,
                code,
                redirect,
                verifier,
                proof,
                fault,
            }),
        8 => (caller(), pick(Kind::Refresh), refresh_scope(), send_proof(), fault()).prop_map(
            |(caller, token, scope, proof, fault)| Op::Refresh {
                caller,
                token,
                scope,
                proof,
                fault,
            }
        ),
        2 => (caller(), pick(Kind::Refresh), fault())
            .prop_map(|(caller, token, fault)| Op::Revoke { caller, token, fault }),
        1 => (caller(), pick(Kind::Access), fault())
            .prop_map(|(caller, token, fault)| Op::Revoke { caller, token, fault }),
        3 => (
            client_token_caller(),
            prop_oneof![2 => Just(None), 1 => prop::sample::select(CLIENT_TOKEN_SCOPES).prop_map(Some)],
        )
            .prop_map(|(caller, scope)| Op::ClientToken { caller, scope }),
        1 => Just(Op::ReplayAssertion),
        2 => (introspector(), pick(Kind::Access))
            .prop_map(|(caller, token)| Op::Introspect { caller, token }),
        4 => advances().prop_map(Op::Advance),
        2 => (registered(), any::<bool>())
            .prop_map(|(client, enabled)| Op::SetEnabled { client, enabled }),
    ]
}

/// A code issued to the app (with an S256 challenge) and redeemed: a live grant.
pub fn new_grant() -> Vec<Op> {
    new_grant_of(Caller::App)
}

/// A code issued to `client` (with an S256 challenge) and redeemed by it.
pub fn new_grant_of(client: Caller) -> Vec<Op> {
    vec![
        Op::IssueCode {
            client,
            narrow: false,
            pkce: true,
            bind: false,
        },
        Op::Redeem {
            caller: client,
            code: Pick {
                kind: Kind::Code,
                choice: Choice::Recent(0),
            },
            redirect: Redirect::Right,
            verifier: SendVerifier::Proper,
            // The native app redeems with its key (so its grant is bound), the others without.
            proof: if client == Caller::NativeApp {
                SendProof::AppKey
            } else {
                SendProof::None
            },
            fault: Fault::None,
        },
    ]
}

/// A history: a new grant first (most histories are about a live grant), then random steps.
pub fn history(max_steps: usize) -> impl Strategy<Value = Vec<Op>> {
    let first = prop_oneof![1 => Just(Caller::App), 1 => Just(Caller::NativeApp)];
    (first, prop::collection::vec(op(), 1..=max_steps)).prop_map(|(first, steps)| {
        let mut history = new_grant_of(first);
        history.extend(steps);
        history
    })
}
