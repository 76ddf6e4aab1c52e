//! Every way a token request can fail, and the one place that turns each into an RFC 6749 §5.2
//! error code and HTTP status. Descriptions are fixed strings: nothing the caller sent, and no
//! internal detail, can reach an error body.

use crate::domain::port::StoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 7009 §2.2.1: a token this server cannot revoke (a client's own token).
    UnsupportedTokenType,
    /// RFC 9449 §5: the request's DPoP proof is missing where required, invalid, or used.
    InvalidDpopProof,
    /// RFC 9449 §8: the proof needs the server's current nonce (sent in `DPoP-Nonce`).
    UseDpopNonce,
    ServerError,
    TemporarilyUnavailable,
    /// Routing answers, outside the token endpoint proper.
    NotFound,
    MethodNotAllowed,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClient => 401,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            _ => 400,
        }
    }
}

/// How the client tried to authenticate; decides whether a 401 carries `WWW-Authenticate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    None,
    Body,
    Basic,
    /// A signed client assertion (`private_key_jwt`).
    Assertion,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: &'static str,
    /// Set on `invalid_client` when the client used HTTP Basic (RFC 6749 §5.2).
    pub auth_method: AuthMethod,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: &'static str) -> Self {
        Self {
            code,
            description,
            auth_method: AuthMethod::None,
        }
    }

    pub fn invalid_request(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_dpop_proof(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidDpopProof, description)
    }

    pub fn invalid_scope(description: &'static str) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// The same answer for an unknown client, a wrong secret and a disabled client, so that it
    /// tells nobody which client ids exist.
    pub fn invalid_client(auth_method: AuthMethod) -> Self {
        Self {
            code: ErrorCode::InvalidClient,
            description: "client authentication failed",
            auth_method,
        }
    }

    pub fn with_description(self, description: &'static str) -> Self {
        Self {
            description,
            ..self
        }
    }

    pub fn server_error() -> Self {
        Self::new(
            ErrorCode::ServerError,
            "the server could not complete the request",
        )
    }

    /// Seconds a client should wait before retrying a 503.
    pub const RETRY_AFTER_SECONDS: u32 = 1;
}

/// The one place a store failure becomes a client answer, so the one place its cause is logged:
/// the body says nothing, the log keeps the SDK's description (which carries no token values).
impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = %error, "store request failed");
        match error {
            StoreError::Unavailable(_) => Self::new(
                ErrorCode::TemporarilyUnavailable,
                "the service is busy; retry shortly",
            ),
            StoreError::Internal(_) | StoreError::AlreadyExists => Self::server_error(),
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_replaces_the_default_and_keeps_the_rest() {
        let error = OAuthError::invalid_client(AuthMethod::Basic).with_description("malformed");
        assert_eq!(error.description, "malformed");
        assert_eq!(error.code, ErrorCode::InvalidClient);
        assert_eq!(error.auth_method, AuthMethod::Basic);
    }

    /// What an error says where it is shown as text (a panic, an error chain): its code and
    /// description, the two public parts.
    #[test]
    fn an_error_displays_its_code_and_description() {
        let error = OAuthError::invalid_grant("the refresh token is invalid");
        assert_eq!(
            error.to_string(),
            "invalid_grant: the refresh token is invalid"
        );
    }
}
