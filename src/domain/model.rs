//! The records the grant logic reads and the stores keep.

use super::client_assertion::ClientKeys;
use super::pkce::{CodeChallenge, PkcePolicy};
use super::scope::Scope;
use crate::crypto::grant_token::{GrantId, TokenHash};
use crate::crypto::{constant_time_eq, sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    /// A backend's token for itself, no user (RFC 6749 §4.4).
    ClientCredentials,
}

impl GrantType {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "authorization_code" => Some(Self::AuthorizationCode),
            "refresh_token" => Some(Self::RefreshToken),
            "client_credentials" => Some(Self::ClientCredentials),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }
}

/// A client secret as the store keeps it. Secrets we issue carry 256 random bits, so one round
/// of SHA-256 cannot be reversed by a dump's reader, and verification costs a microsecond (no
/// password hashing on the hot path). The label keeps these hashes apart from every other hash.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        Self(sha256(&[
            b"chatroom-token/client-secret\0",
            secret.as_bytes(),
        ]))
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// The secret a client held before its last rotation: it keeps working beside the new one
/// until it is retired, or until `expires_at` if the rotation gave one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviousSecret {
    pub hash: SecretHash,
    pub expires_at: Option<i64>,
}

impl PreviousSecret {
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }
}

/// A client's own lifetimes, where it has any: each is used only up to the server's own value
/// (`Lifetimes::for_client`), so a registration can shorten a lifetime, never lengthen it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientLifetimes {
    pub access_token: Option<i64>,
    pub refresh_idle: Option<i64>,
    pub refresh_absolute: Option<i64>,
    pub grace: Option<i64>,
}

/// A public client's own lifetimes at registration: its refresh tokens are bearer tokens in an
/// app on a device until DPoP binds them, so its grants end sooner than the server's.
pub const PUBLIC_CLIENT_LIFETIMES: ClientLifetimes = ClientLifetimes {
    access_token: None,
    refresh_idle: Some(7 * 86_400),
    refresh_absolute: Some(30 * 86_400),
    grace: None,
};

/// A registered third-party app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// The current secret (the newest). A public client's is random and never consulted.
    pub secret_hash: SecretHash,
    /// A native or browser app (`token_endpoint_auth_method` `none`, RFC 8252): it holds no
    /// secret and sends its `client_id` alone, which proves nothing; its codes need an S256
    /// challenge.
    pub public: bool,
    /// A client that authenticates with keys instead of a secret (`private_key_jwt`, RFC 7523):
    /// its registered public keys. Such a client never authenticates with a secret.
    pub assertion_keys: Option<ClientKeys>,
    /// During a rotation, the one before it: at most two secrets at once.
    pub previous_secret: Option<PreviousSecret>,
    pub scope: Scope,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub enabled: bool,
    /// May call the introspection endpoint (RFC 7662): resource servers, not ordinary apps.
    pub may_introspect: bool,
    /// What the client's codes must carry; S256 unless registered otherwise.
    pub pkce: PkcePolicy,
    pub lifetimes: ClientLifetimes,
    /// RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request of this client needs a
    /// DPoP proof.
    pub dpop_bound_access_tokens: bool,
    pub created_at: i64,
}

impl Client {
    pub fn may_use(&self, grant_type: GrantType) -> bool {
        self.grant_types.contains(&grant_type)
    }

    /// What the client's codes must carry: an S256 challenge for every public client,
    /// whatever it was registered with (the verifier is all that ties its code to it).
    pub fn pkce_policy(&self) -> PkcePolicy {
        if self.public {
            PkcePolicy::S256
        } else {
            self.pkce
        }
    }

    /// Whether `presented` is one of the client's live secrets. Both hashes are always compared,
    /// in constant time, so the timing does not tell which one matched.
    pub fn secret_verifies(&self, presented: &str, now: i64) -> bool {
        let hash = SecretHash::of(presented);
        let current = constant_time_eq(&self.secret_hash.0, &hash.0);
        let previous = self.previous_secret.is_some_and(|previous| {
            constant_time_eq(&previous.hash.0, &hash.0) & previous.is_live(now)
        });
        current | previous
    }
}

/// One user's authorization of one client: born pending with its authorization code, made
/// active when the code is redeemed, then carried forward by refresh-token rotation.
///
/// Only hashes of the code and of the current and previous refresh tokens are kept; the current
/// token's successor-in-waiting is kept sealed under the previous token (see `successor_seal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    pub grant_id: GrantId,
    pub client_id: String,
    pub user_id: String,
    pub scope: Scope,
    pub created_at: i64,
    /// Authorization code.
    pub code_hash: TokenHash,
    pub code_expires_at: i64,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    /// Set when the code is redeemed; the absolute lifetime counts from here.
    pub redeemed_at: Option<i64>,
    /// Refresh-token chain.
    pub generation: u32,
    pub refresh_hash: Option<TokenHash>,
    pub previous_hash: Option<TokenHash>,
    pub sealed_successor: Option<Vec<u8>>,
    /// Time of the last redemption or rotation; the idle lifetime counts from here.
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// When the store may delete the record (DynamoDB TTL). Validity never depends on it.
    pub expires_at: i64,
    /// DPoP (RFC 9449 §5): the key a public client's refresh tokens are bound to, set by the
    /// redemption that presented a proof; every refresh then needs a proof with that key.
    pub dpop_key: Option<KeyDigest>,
    /// The last DPoP proof a redemption or rotation of this grant accepted: a proof no newer
    /// is refused (each proof works once, at the cost of no extra request).
    pub last_proof: Option<LastProof>,
}

/// A DPoP key as a grant keeps it: the first 16 bytes of its RFC 7638 thumbprint (finding
/// another key with the same ones takes 2^128 work), so the largest grant item stays under 1 KB.
pub type KeyDigest = [u8; 16];

/// The digest of the key whose RFC 7638 thumbprint (SHA-256) is `thumbprint`.
pub fn key_digest(thumbprint: &[u8; 32]) -> KeyDigest {
    let mut digest = [0; 16];
    digest.copy_from_slice(&thumbprint[..16]);
    digest
}

/// A proof's `jti` as a grant keeps it: 8 bytes of its hash with the key (a grant sees a few
/// proofs a day; a replay is the same `jti`, so the same bytes).
pub type JtiDigest = [u8; 8];

/// A DPoP proof as a grant remembers it: when it was made, and its `jti`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastProof {
    pub iat: i64,
    pub jti: JtiDigest,
}

impl LastProof {
    /// Whether a proof made at `iat` with `jti` is newer than this one: made later, or in the
    /// same second with another `jti`.
    pub fn is_older_than(&self, iat: i64, jti: &JtiDigest) -> bool {
        self.iat < iat || (self.iat == iat && self.jti != *jti)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A public client's grants end sooner than the server's (README "Native and browser
    /// apps"): idle after a week, at the latest after 30 days.
    #[test]
    fn public_clients_get_a_week_idle_and_30_days_in_all() {
        assert_eq!(PUBLIC_CLIENT_LIFETIMES.refresh_idle, Some(604_800));
        assert_eq!(PUBLIC_CLIENT_LIFETIMES.refresh_absolute, Some(2_592_000));
        assert_eq!(PUBLIC_CLIENT_LIFETIMES.access_token, None);
        assert_eq!(PUBLIC_CLIENT_LIFETIMES.grace, None);
    }

    /// The wire and store names of the grant types (`grant_type`, the client item's
    /// `grant_types`, the log line) read back as themselves.
    #[test]
    fn grant_type_names_round_trip() {
        for (grant_type, name) in [
            (GrantType::AuthorizationCode, "authorization_code"),
            (GrantType::RefreshToken, "refresh_token"),
            (GrantType::ClientCredentials, "client_credentials"),
        ] {
            assert_eq!(grant_type.as_str(), name);
            assert_eq!(GrantType::parse(name), Some(grant_type));
        }
        assert_eq!(GrantType::parse("password"), None);
    }

    #[test]
    fn a_secret_hash_prints_as_nothing_but_its_name() {
        let printed = format!("{:?}", SecretHash::of("client-secret"));
        assert_eq!(printed, "SecretHash(..)");
    }

    #[test]
    fn a_previous_secret_works_until_its_expiry_or_retirement() {
        let client = |expires_at| Client {
            id: "c".into(),
            name: "c".into(),
            secret_hash: SecretHash::of("new"),
            public: false,
            previous_secret: Some(PreviousSecret {
                hash: SecretHash::of("old"),
                expires_at,
            }),
            scope: Scope::default(),
            redirect_uris: vec![],
            grant_types: vec![],
            enabled: true,
            may_introspect: false,
            assertion_keys: None,
            dpop_bound_access_tokens: false,
            pkce: PkcePolicy::default(),
            lifetimes: ClientLifetimes::default(),
            created_at: 0,
        };
        assert!(client(None).secret_verifies("old", 100));
        assert!(client(Some(101)).secret_verifies("old", 100));
        assert!(!client(Some(100)).secret_verifies("old", 100));
        assert!(client(Some(100)).secret_verifies("new", 100));
        assert!(!client(None).secret_verifies("other", 100));
        let retired = Client {
            previous_secret: None,
            ..client(None)
        };
        assert!(!retired.secret_verifies("old", 100));
    }
}
