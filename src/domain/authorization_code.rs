//! The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6).
//!
//! Redemption is one conditional write on the grant the code was issued with: every check (code
//! hash, unredeemed, unexpired, client, redirect URI, PKCE) is part of the write's condition, so
//! a code works exactly once even under concurrent redemptions. When the write is refused, the
//! record it hands back says why.

use super::error::OAuthError;
use super::model::{Client, GrantRecord};
use super::pkce::VerifierProof;
use super::service::{Event, Lifetimes, Report, TokenRequest, TokenResponse, TokenService};
use crate::crypto::grant_token::{GrantToken, TokenKind};
use crate::domain::conditions::key_fits;
use crate::domain::dpop::Proof;
use crate::domain::port::{ProofUse, Redemption, Rejected};

pub async fn redeem(
    service: &TokenService,
    client: &Client,
    request: &TokenRequest,
    proof: Option<&Proof>,
    report: &mut Report,
) -> Result<TokenResponse, OAuthError> {
    let code = request
        .code
        .as_ref()
        .ok_or(OAuthError::invalid_request("code is required"))?;
    let verifier = match &request.code_verifier {
        Some(v) => Some(
            VerifierProof::from_verifier(v.expose())
                .ok_or(OAuthError::invalid_request("code_verifier is malformed"))?,
        ),
        None => None,
    };
    let now = service.clock.now();
    let keys = service.keys();
    let token_keys = keys.token_keys(now);
    let code = token_keys
        .open(TokenKind::Code, code.expose())
        .ok_or(OAuthError::invalid_grant(
            "the authorization code is invalid",
        ))?;
    report.grant_id = Some(code.grant_id);

    let lifetimes = service.lifetimes.for_client(&client.lifetimes);
    let refresh = token_keys.mint(TokenKind::Refresh, code.grant_id, 0);
    let redemption = Redemption {
        grant_id: code.grant_id,
        code_hash: code.hash,
        client_id: client.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        verifier,
        now,
        refresh_hash: refresh.hash,
        expires_at: now + lifetimes.refresh_absolute,
        proof: proof.map(proof_use),
        // RFC 9449 §5: a public client's refresh tokens are bound to the key of the proof it
        // redeemed its code with; a confidential client's are not (its authentication already
        // constrains them, and it may change keys).
        bind_to_proof_key: client.public,
    };
    match service.grants.redeem_code(&redemption).await {
        Ok(grant) => {
            report.event = Some(Event::CodeRedeemed);
            issue(service, &grant, &refresh, &lifetimes, proof)
        }
        Err(Rejected::Store(error)) => Err(error.into()),
        Err(Rejected::Condition(None)) => Err(invalid_code()),
        Err(Rejected::Condition(Some(grant))) => {
            let refusal = Refusal {
                grant: &grant,
                code: &code,
                refresh: &refresh,
                redemption: &redemption,
                lifetimes: &lifetimes,
                public_client: client.public,
                proof,
            };
            explain_refusal(service, refusal, report).await
        }
    }
}

/// The redemption carries the verifier of the code's challenge.
fn proves_the_code(grant: &GrantRecord, redemption: &Redemption) -> bool {
    match (&grant.code_challenge, &redemption.verifier) {
        (Some(challenge), Some(proof)) => proof.satisfies(challenge),
        _ => false,
    }
}

fn invalid_code() -> OAuthError {
    OAuthError::invalid_grant("the authorization code is invalid")
}

fn issue(
    service: &TokenService,
    grant: &GrantRecord,
    refresh: &GrantToken,
    lifetimes: &Lifetimes,
    proof: Option<&Proof>,
) -> Result<TokenResponse, OAuthError> {
    let scope = grant.scope.to_string();
    service.respond(grant, scope, refresh.text(), lifetimes, proof)
}

/// What the grant keeps of a DPoP proof.
pub(crate) fn proof_use(proof: &Proof) -> ProofUse {
    ProofUse {
        key: proof.key_digest(),
        iat: proof.iat,
        jti: proof.jti_digest(),
    }
}

/// A refused redemption and what it was refused with.
struct Refusal<'a> {
    grant: &'a GrantRecord,
    code: &'a GrantToken,
    refresh: &'a GrantToken,
    redemption: &'a Redemption,
    lifetimes: &'a Lifetimes,
    /// The redeeming client is public: its `client_id` proved nothing.
    public_client: bool,
    proof: Option<&'a Proof>,
}

/// Works out why the redemption was refused, from the record as it stood.
async fn explain_refusal(
    service: &TokenService,
    refusal: Refusal<'_>,
    report: &mut Report,
) -> Result<TokenResponse, OAuthError> {
    let Refusal {
        grant,
        code,
        refresh,
        redemption,
        lifetimes,
        public_client,
        proof,
    } = refusal;
    if !grant.code_hash.matches(&code.hash) {
        return Err(invalid_code());
    }
    // Revocation wins over everything, even our own write revoked just after it applied.
    if grant.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant(
            "the authorization code is invalid",
        ));
    }
    if grant.refresh_hash.is_some_and(|h| h.matches(&refresh.hash)) {
        // Our own write was applied but its answer was lost, and the SDK's retry found the
        // code redeemed by us: this is not a replay.
        report.event = Some(Event::OwnWriteRecovered);
        return issue(service, grant, refresh, lifetimes, proof);
    }
    if grant.client_id != redemption.client_id {
        // Before the replay check: another client holding this code (a leaked redirect, a
        // shared log) must not be able to revoke the grant of the client it was issued to,
        // nor learn anything about the code.
        return Err(invalid_code());
    }
    if !key_fits(grant, redemption.proof.as_ref()) {
        // A code bound with dpop_jkt (RFC 9449 §10), or a public client's redeemed grant, and
        // no proof of its key: whoever sent it cannot use the code, nor revoke the grant.
        report.event = Some(Event::DpopKeyMismatch);
        return Err(OAuthError::invalid_grant(
            "the authorization code is bound to another DPoP key",
        ));
    }
    if grant.redeemed_at.is_some() && public_client && !proves_the_code(grant, redemption) {
        // Anyone can name a public client: a replay without the code's verifier proves no
        // more than knowing the code (a leaked redirect), so it must not log the user out.
        return Err(OAuthError::invalid_grant(
            "the authorization code was already used",
        ));
    }
    if grant.redeemed_at.is_some() {
        // RFC 6749 §4.1.2: a second use of a code by its own client revokes what the first use
        // started.
        report.event = Some(Event::CodeReplayed);
        service
            .grants
            .revoke_grant(&grant.grant_id, redemption.now)
            .await?;
        tracing::warn!(grant_id = %grant.grant_id, "authorization code replayed; grant revoked");
        return Err(OAuthError::invalid_grant(
            "the authorization code was already used",
        ));
    }
    if grant.code_expires_at <= redemption.now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    let redirect_ok = match (&grant.redirect_uri, &redemption.redirect_uri) {
        (Some(issued), Some(presented)) => issued == presented,
        (Some(_), None) => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is required for this code",
            ))
        }
        (None, _) => true,
    };
    if !redirect_ok {
        return Err(OAuthError::invalid_grant("redirect_uri does not match"));
    }
    match (&grant.code_challenge, &redemption.verifier) {
        (Some(_), None) => Err(OAuthError::invalid_request(
            "code_verifier is required for this code",
        )),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier was sent for a code issued without a code_challenge",
        )),
        (Some(_), Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        )),
        (None, None) => Err(invalid_code()),
    }
}
