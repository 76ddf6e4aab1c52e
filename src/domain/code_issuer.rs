//! Issuing authorization codes: what the platform's login-and-consent page calls once a user has
//! approved an app. Exposed as a library function and through the admin tool.

use super::model::{Client, GrantRecord, GrantType, KeyDigest};
use super::pkce::{valid_challenge, CodeChallenge};
use super::redirect_uri::redirect_matches;
use super::scope::Scope;
use crate::crypto::grant_token::{GrantId, GrantToken, TokenKeys, TokenKind};
use crate::crypto::secret::Secret;
use crate::domain::port::{ClientStore, GrantStore, StoreError};
use std::fmt;

/// Limits that keep every grant item under 1 KB (see the item-size test in the DynamoDB store).
pub const MAX_USER_ID: usize = 64;
pub const MAX_SCOPE: usize = 128;
pub const MAX_REDIRECT_URI: usize = 256;

#[derive(Clone, Debug)]
pub struct CodeRequest {
    pub client_id: String,
    pub user_id: String,
    pub scope: Scope,
    pub redirect_uri: Option<String>,
    pub challenge: Option<CodeChallenge>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code is bound to (`dpop_jkt`); its
    /// redemption needs a proof of that key.
    pub dpop_jkt: Option<String>,
}

#[derive(Debug)]
pub enum IssueCodeError {
    UnknownClient,
    ClientDisabled,
    GrantTypeNotAllowed,
    ScopeNotAllowed,
    EmptyUserId,
    /// Bounds that keep a grant item under 1 KB (one DynamoDB write unit per refresh).
    TooLong,
    RedirectUriNotRegistered,
    MalformedChallenge,
    /// No challenge, or `plain`, for a client not registered to allow it.
    ChallengeNotAllowed,
    /// `dpop_jkt` is not a JWK SHA-256 thumbprint (43 base64url characters).
    MalformedDpopJkt,
    Store(StoreError),
}

impl IssueCodeError {
    /// The fixed text of a refusal (`None` for a store failure, whose text is for logs only):
    /// what `tokenctl` prints and the internal route answers.
    pub fn description(&self) -> Option<&'static str> {
        Some(match self {
            Self::UnknownClient => "no client has this id",
            Self::ClientDisabled => "the client is disabled",
            Self::GrantTypeNotAllowed => "the client may not use authorization_code",
            Self::ScopeNotAllowed => "the scope is empty or exceeds the client's scope",
            Self::EmptyUserId => "the user id is empty",
            Self::TooLong => {
                "the user id (64 bytes), scope (128) or redirect URI (256) is too long"
            }
            Self::RedirectUriNotRegistered => "the redirect URI is not registered for the client",
            Self::MalformedChallenge => "the code challenge is not 43-128 unreserved characters",
            Self::ChallengeNotAllowed => {
                "the client must send a code challenge with the S256 method"
            }
            Self::MalformedDpopJkt => "dpop_jkt is not a base64url SHA-256 JWK thumbprint",
            Self::Store(_) => return None,
        })
    }
}

impl fmt::Display for IssueCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.description()) {
            (Self::Store(error), _) => write!(f, "{error}"),
            (_, Some(text)) => f.write_str(text),
            (_, None) => Ok(()),
        }
    }
}

impl std::error::Error for IssueCodeError {}

/// A code just issued, and the grant it starts (the grant id may be logged; the code never).
#[derive(Debug)]
pub struct IssuedCode {
    pub grant_id: GrantId,
    pub code: Secret,
}

/// Checks the request against the client's registration and stores a pending grant, in one
/// conditional write. Returns the code to hand to the client through the redirect; it is shown
/// nowhere else.
pub async fn issue_code(
    clients: &dyn ClientStore,
    grants: &dyn GrantStore,
    keys: &TokenKeys,
    request: &CodeRequest,
    now: i64,
    code_lifetime: i64,
) -> Result<IssuedCode, IssueCodeError> {
    let client = clients
        .find_client(&request.client_id)
        .await
        .map_err(IssueCodeError::Store)?
        .ok_or(IssueCodeError::UnknownClient)?;
    check_request(&client, request)?;
    let grant_id = GrantId::random();
    let code = keys.mint(TokenKind::Code, grant_id, 0);
    let record = pending_grant(&code, request, now, now + code_lifetime);
    grants
        .issue_code(&record)
        .await
        .map_err(IssueCodeError::Store)?;
    Ok(IssuedCode {
        grant_id,
        code: code.text(),
    })
}

/// The record of a grant waiting for its code to be redeemed.
pub fn pending_grant(
    code: &GrantToken,
    request: &CodeRequest,
    now: i64,
    code_expires_at: i64,
) -> GrantRecord {
    GrantRecord {
        grant_id: code.grant_id,
        client_id: request.client_id.clone(),
        user_id: request.user_id.clone(),
        scope: request.scope.clone(),
        created_at: now,
        code_hash: code.hash,
        code_expires_at,
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.challenge.clone(),
        redeemed_at: None,
        generation: 0,
        refresh_hash: None,
        previous_hash: None,
        sealed_successor: None,
        rotated_at: None,
        revoked_at: None,
        expires_at: code_expires_at,
        dpop_key: request.dpop_jkt.as_deref().and_then(key_digest),
        last_proof: None,
    }
}

/// A DPoP key's thumbprint (`dpop_jkt`, `cnf.jkt`) as a grant keeps it; `None` if it is no
/// SHA-256 thumbprint.
pub fn key_digest(jkt: &str) -> Option<KeyDigest> {
    let thumbprint: [u8; 32] = crate::crypto::b64url_decode(jkt)?.try_into().ok()?;
    Some(crate::domain::model::key_digest(&thumbprint))
}

fn check_request(client: &Client, request: &CodeRequest) -> Result<(), IssueCodeError> {
    if !client.enabled {
        return Err(IssueCodeError::ClientDisabled);
    }
    if !client.may_use(GrantType::AuthorizationCode) {
        return Err(IssueCodeError::GrantTypeNotAllowed);
    }
    if request.scope.is_empty() || !request.scope.is_subset_of(&client.scope) {
        return Err(IssueCodeError::ScopeNotAllowed);
    }
    if request.user_id.is_empty() {
        return Err(IssueCodeError::EmptyUserId);
    }
    let too_long = request.user_id.len() > MAX_USER_ID
        || request.scope.to_string().len() > MAX_SCOPE
        || request
            .redirect_uri
            .as_ref()
            .is_some_and(|u| u.len() > MAX_REDIRECT_URI);
    if too_long {
        return Err(IssueCodeError::TooLong);
    }
    match &request.redirect_uri {
        Some(uri)
            if !client
                .redirect_uris
                .iter()
                .any(|r| redirect_matches(r, uri)) =>
        {
            return Err(IssueCodeError::RedirectUriNotRegistered);
        }
        Some(_) => {}
        // A public client's code goes only to a URI it registered, named in the request.
        None if client.public => return Err(IssueCodeError::RedirectUriNotRegistered),
        None => {}
    }
    if let Some(challenge) = &request.challenge {
        if !valid_challenge(&challenge.value) {
            return Err(IssueCodeError::MalformedChallenge);
        }
    }
    if !client.pkce_policy().allows(request.challenge.as_ref()) {
        return Err(IssueCodeError::ChallengeNotAllowed);
    }
    if request
        .dpop_jkt
        .as_deref()
        .is_some_and(|j| key_digest(j).is_none())
    {
        return Err(IssueCodeError::MalformedDpopJkt);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{ClientLifetimes, SecretHash};
    use crate::domain::pkce::{ChallengeMethod, PkcePolicy};

    fn client() -> Client {
        Client {
            id: "c".into(),
            name: "c".into(),
            secret_hash: SecretHash::of("s"),
            public: false,
            previous_secret: None,
            scope: Scope::parse(&format!("chat_read {}", "s".repeat(MAX_SCOPE - 10))).unwrap(),
            redirect_uris: vec![format!("https://app.example/{}", "a".repeat(256 - 20))],
            grant_types: vec![GrantType::AuthorizationCode],
            enabled: true,
            may_introspect: false,
            assertion_keys: None,
            dpop_bound_access_tokens: false,
            pkce: PkcePolicy::Optional,
            lifetimes: ClientLifetimes::default(),
            created_at: 0,
        }
    }

    fn request(user_id: &str, scope: &Scope, redirect_uri: &str) -> CodeRequest {
        CodeRequest {
            dpop_jkt: None,
            client_id: "c".into(),
            user_id: user_id.into(),
            scope: scope.clone(),
            redirect_uri: Some(redirect_uri.into()),
            challenge: Some(CodeChallenge {
                method: ChallengeMethod::S256,
                value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            }),
        }
    }

    /// The bounds that keep a grant item under 1 KB hold exactly: at the limit is accepted,
    /// one byte over is refused, for the user id, the scope and the redirect URI alike.
    #[test]
    fn each_length_bound_is_exact() {
        let client = client();
        let uri = client.redirect_uris[0].clone();
        assert_eq!(uri.len(), MAX_REDIRECT_URI);
        let wide = client.scope.clone();
        assert_eq!(wide.to_string().len(), MAX_SCOPE);
        let user = "u".repeat(MAX_USER_ID);
        assert!(check_request(&client, &request(&user, &wide, &uri)).is_ok());
        let long_user = format!("{user}u");
        assert!(matches!(
            check_request(&client, &request(&long_user, &wide, &uri)),
            Err(IssueCodeError::TooLong)
        ));
        let mut longer = client.clone();
        let long_scope = Scope::parse(&format!("{wide} x")).unwrap();
        longer.scope = long_scope.clone();
        let long_uri = format!("{uri}a");
        longer.redirect_uris = vec![uri.clone(), long_uri.clone()];
        assert!(matches!(
            check_request(&longer, &request(&user, &long_scope, &uri)),
            Err(IssueCodeError::TooLong)
        ));
        assert!(matches!(
            check_request(&longer, &request(&user, &wide, &long_uri)),
            Err(IssueCodeError::TooLong)
        ));
    }

    /// What tokenctl prints and the internal route answers: each refusal's fixed text, and a
    /// store failure's own description only in its Display (for logs).
    #[test]
    fn refusals_have_their_fixed_text() {
        let disabled = IssueCodeError::ClientDisabled;
        assert_eq!(disabled.description(), Some("the client is disabled"));
        assert_eq!(disabled.to_string(), "the client is disabled");
        let store = IssueCodeError::Store(StoreError::Internal("table missing".into()));
        assert_eq!(store.description(), None);
        assert!(store.to_string().contains("table missing"));
    }
}
