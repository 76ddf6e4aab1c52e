//! Converts records to and from DynamoDB items. Attribute names live here and in the condition
//! expressions of `mod.rs`, nowhere else.

use crate::crypto::grant_token::{GrantId, TokenHash};
use crate::domain::client_assertion::ClientKeys;
use crate::domain::model::{
    Client, ClientLifetimes, GrantRecord, GrantType, LastProof, PreviousSecret, SecretHash,
};
use crate::domain::pkce::{ChallengeMethod, CodeChallenge, PkcePolicy};
use crate::domain::scope::Scope;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "pk";
pub const TTL: &str = "expires_at";

pub fn grant_key(id: &GrantId) -> AttributeValue {
    AttributeValue::S(format!("grant#{id}"))
}

pub fn client_key(id: &str) -> AttributeValue {
    AttributeValue::S(format!("client#{id}"))
}

/// A spent client assertion: its `jti` hashed with the client id (`VerifiedAssertion`).
pub fn assertion_key(jti_hash: &[u8; 32]) -> AttributeValue {
    let hex: String = jti_hash.iter().map(|b| format!("{b:02x}")).collect();
    AttributeValue::S(format!("assertion#{hex}"))
}

/// The random mark of the request that spent an assertion: a retry of that very request (the
/// SDK's, after a lost answer) finds its own mark and is not a replay.
pub const SPENDER: &str = "spender";

pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn b(bytes: &[u8]) -> AttributeValue {
    AttributeValue::B(Blob::new(bytes))
}

pub fn string_set<'a>(values: impl Iterator<Item = &'a str>) -> AttributeValue {
    AttributeValue::Ss(values.map(str::to_owned).collect())
}

/// A malformed item: a bug or a hand edit, never a client's fault.
#[derive(Debug)]
pub struct BadItem(pub &'static str);

fn get_s(item: &Item, name: &'static str) -> Result<String, BadItem> {
    opt_s(item, name)?.ok_or(BadItem(name))
}

fn opt_s(item: &Item, name: &'static str) -> Result<Option<String>, BadItem> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(BadItem(name)),
    }
}

fn get_n(item: &Item, name: &'static str) -> Result<i64, BadItem> {
    opt_n(item, name)?.ok_or(BadItem(name))
}

fn opt_n(item: &Item, name: &'static str) -> Result<Option<i64>, BadItem> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| BadItem(name)),
        Some(_) => Err(BadItem(name)),
    }
}

fn opt_b(item: &Item, name: &'static str) -> Result<Option<Vec<u8>>, BadItem> {
    match item.get(name) {
        None => Ok(None),
        Some(AttributeValue::B(v)) => Ok(Some(v.as_ref().to_vec())),
        Some(_) => Err(BadItem(name)),
    }
}

fn opt_hash(item: &Item, name: &'static str) -> Result<Option<TokenHash>, BadItem> {
    opt_b(item, name)?
        .map(|bytes| bytes.try_into().map(TokenHash).map_err(|_| BadItem(name)))
        .transpose()
}

fn get_set(item: &Item, name: &'static str) -> Result<Vec<String>, BadItem> {
    match item.get(name) {
        None => Ok(Vec::new()),
        Some(AttributeValue::Ss(v)) => Ok(v.clone()),
        Some(_) => Err(BadItem(name)),
    }
}

pub fn grant_to_item(g: &GrantRecord) -> Item {
    let mut item = Item::from([
        (PK.to_owned(), grant_key(&g.grant_id)),
        ("client_id".to_owned(), s(&g.client_id)),
        ("user_id".to_owned(), s(&g.user_id)),
        ("scope".to_owned(), string_set(g.scope.tokens())),
        ("created_at".to_owned(), n(g.created_at)),
        ("code_hash".to_owned(), b(&g.code_hash.0)),
        ("code_expires_at".to_owned(), n(g.code_expires_at)),
        ("generation".to_owned(), n(g.generation.into())),
        (TTL.to_owned(), n(g.expires_at)),
    ]);
    let mut put = |name: &str, value: Option<AttributeValue>| {
        if let Some(value) = value {
            item.insert(name.to_owned(), value);
        }
    };
    put("redirect_uri", g.redirect_uri.as_deref().map(s));
    put("challenge", g.code_challenge.as_ref().map(|c| s(&c.value)));
    put(
        "challenge_method",
        g.code_challenge.as_ref().map(|c| s(c.method.as_str())),
    );
    put("redeemed_at", g.redeemed_at.map(n));
    put("refresh_hash", g.refresh_hash.map(|h| b(&h.0)));
    put("previous_hash", g.previous_hash.map(|h| b(&h.0)));
    put("sealed_successor", g.sealed_successor.as_deref().map(b));
    put("rotated_at", g.rotated_at.map(n));
    put("revoked_at", g.revoked_at.map(n));
    put(DPOP_KEY, g.dpop_key.as_ref().map(|k| b(k)));
    put(PROOF_IAT, g.last_proof.map(|p| n(p.iat)));
    put(PROOF_JTI, g.last_proof.map(|p| b(&p.jti)));
    item
}

/// DPoP: the key a public client's grant is bound to (`model::KeyDigest`), and the last proof
/// the grant accepted (when made, and `model::JtiDigest`). Short names: the largest grant item
/// stays under 1 KB with them.
pub const DPOP_KEY: &str = "jkt";
pub const PROOF_IAT: &str = "piat";
pub const PROOF_JTI: &str = "pjti";

pub fn grant_from_item(item: &Item) -> Result<GrantRecord, BadItem> {
    let pk = get_s(item, PK)?;
    let grant_id = pk
        .strip_prefix("grant#")
        .and_then(GrantId::parse)
        .ok_or(BadItem(PK))?;
    let code_challenge = match (opt_s(item, "challenge")?, opt_s(item, "challenge_method")?) {
        (Some(value), Some(method)) => Some(CodeChallenge {
            method: ChallengeMethod::parse(&method).ok_or(BadItem("challenge_method"))?,
            value,
        }),
        (None, None) => None,
        _ => return Err(BadItem("challenge")),
    };
    Ok(GrantRecord {
        grant_id,
        client_id: get_s(item, "client_id")?,
        user_id: get_s(item, "user_id")?,
        scope: Scope::from_tokens(get_set(item, "scope")?),
        created_at: get_n(item, "created_at")?,
        code_hash: opt_hash(item, "code_hash")?.ok_or(BadItem("code_hash"))?,
        code_expires_at: get_n(item, "code_expires_at")?,
        redirect_uri: opt_s(item, "redirect_uri")?,
        code_challenge,
        redeemed_at: opt_n(item, "redeemed_at")?,
        generation: u32::try_from(get_n(item, "generation")?).map_err(|_| BadItem("generation"))?,
        refresh_hash: opt_hash(item, "refresh_hash")?,
        previous_hash: opt_hash(item, "previous_hash")?,
        sealed_successor: opt_b(item, "sealed_successor")?,
        rotated_at: opt_n(item, "rotated_at")?,
        revoked_at: opt_n(item, "revoked_at")?,
        expires_at: get_n(item, TTL)?,
        dpop_key: opt_b(item, DPOP_KEY)?
            .map(|key| key.try_into().map_err(|_| BadItem(DPOP_KEY)))
            .transpose()?,
        last_proof: match (opt_n(item, PROOF_IAT)?, opt_b(item, PROOF_JTI)?) {
            (Some(iat), Some(jti)) => Some(LastProof {
                iat,
                jti: jti.try_into().map_err(|_| BadItem(PROOF_JTI))?,
            }),
            (None, None) => None,
            _ => return Err(BadItem(PROOF_IAT)),
        },
    })
}

/// `none` for a public client, `private_key_jwt` for a client with keys (RFC 7591's
/// `token_endpoint_auth_method`); absent for a client secret.
pub const AUTH_METHOD: &str = "auth_method";
/// A `private_key_jwt` client's public keys, as a JWK set (JSON).
pub const JWKS: &str = "jwks";
/// RFC 9449 §5.2: the client's token requests need a DPoP proof (absent: they do not).
pub const DPOP_BOUND: &str = "dpop_bound_access_tokens";
/// The secret before the last rotation (absent when there is none), and when it stops working
/// (absent: when it is retired).
pub const PREVIOUS_SECRET: &str = "previous_secret_hash";
pub const PREVIOUS_SECRET_EXPIRES: &str = "previous_secret_expires_at";
/// A client's own lifetimes, in seconds; each absent where the server's applies.
pub const ACCESS_TOKEN_TTL: &str = "access_token_ttl";
pub const REFRESH_IDLE_TTL: &str = "refresh_idle_ttl";
pub const REFRESH_ABSOLUTE_TTL: &str = "refresh_absolute_ttl";
pub const GRACE: &str = "refresh_grace";

pub fn lifetime_attributes(l: &ClientLifetimes) -> [(&'static str, Option<i64>); 4] {
    [
        (ACCESS_TOKEN_TTL, l.access_token),
        (REFRESH_IDLE_TTL, l.refresh_idle),
        (REFRESH_ABSOLUTE_TTL, l.refresh_absolute),
        (GRACE, l.grace),
    ]
}

pub fn client_to_item(c: &Client) -> Item {
    let mut item = Item::from([
        (PK.to_owned(), client_key(&c.id)),
        ("name".to_owned(), s(&c.name)),
        ("secret_hash".to_owned(), b(&c.secret_hash.0)),
        ("enabled".to_owned(), AttributeValue::Bool(c.enabled)),
        (
            "introspect".to_owned(),
            AttributeValue::Bool(c.may_introspect),
        ),
        ("created_at".to_owned(), n(c.created_at)),
    ]);
    // Absent means the default (S256 required): items stay as they were for most clients.
    if c.pkce != PkcePolicy::default() {
        item.insert("pkce".to_owned(), s(c.pkce.as_str()));
    }
    // Absent for a confidential client (a secret), as on every record written before.
    if c.public {
        item.insert(AUTH_METHOD.to_owned(), s("none"));
    }
    if let Some(keys) = &c.assertion_keys {
        item.insert(AUTH_METHOD.to_owned(), s("private_key_jwt"));
        item.insert(JWKS.to_owned(), s(keys.as_json()));
    }
    if let Some(previous) = &c.previous_secret {
        item.insert(PREVIOUS_SECRET.to_owned(), b(&previous.hash.0));
        if let Some(at) = previous.expires_at {
            item.insert(PREVIOUS_SECRET_EXPIRES.to_owned(), n(at));
        }
    }
    if c.dpop_bound_access_tokens {
        item.insert(DPOP_BOUND.to_owned(), AttributeValue::Bool(true));
    }
    for (name, value) in lifetime_attributes(&c.lifetimes) {
        if let Some(seconds) = value {
            item.insert(name.to_owned(), n(seconds));
        }
    }
    // DynamoDB refuses empty sets: leave such attributes out (a resource server that only
    // introspects has no grant type).
    if !c.grant_types.is_empty() {
        item.insert(
            "grant_types".to_owned(),
            string_set(c.grant_types.iter().map(|g| g.as_str())),
        );
    }
    if !c.scope.is_empty() {
        item.insert("scopes".to_owned(), string_set(c.scope.tokens()));
    }
    if !c.redirect_uris.is_empty() {
        item.insert(
            "redirect_uris".to_owned(),
            string_set(c.redirect_uris.iter().map(String::as_str)),
        );
    }
    item
}

pub fn client_from_item(item: &Item) -> Result<Client, BadItem> {
    let pk = get_s(item, PK)?;
    let id = pk.strip_prefix("client#").ok_or(BadItem(PK))?.to_owned();
    let secret_hash = opt_b(item, "secret_hash")?
        .and_then(|bytes| bytes.try_into().ok())
        .map(SecretHash)
        .ok_or(BadItem("secret_hash"))?;
    let enabled = match item.get("enabled") {
        Some(AttributeValue::Bool(v)) => *v,
        _ => return Err(BadItem("enabled")),
    };
    // Absent on records written before introspection existed: not allowed.
    let may_introspect = match item.get("introspect") {
        None => false,
        Some(AttributeValue::Bool(v)) => *v,
        _ => return Err(BadItem("introspect")),
    };
    // Absent on records of the default policy, and on those written before it existed: S256.
    let pkce = match item.get("pkce") {
        None => PkcePolicy::default(),
        Some(AttributeValue::S(text)) => PkcePolicy::parse(text).ok_or(BadItem("pkce"))?,
        _ => return Err(BadItem("pkce")),
    };
    let previous_secret = match opt_b(item, PREVIOUS_SECRET)? {
        None => None,
        Some(bytes) => Some(PreviousSecret {
            hash: SecretHash(bytes.try_into().map_err(|_| BadItem(PREVIOUS_SECRET))?),
            expires_at: opt_n(item, PREVIOUS_SECRET_EXPIRES)?,
        }),
    };
    let (public, assertion_keys) = match item.get(AUTH_METHOD) {
        None => (false, None),
        Some(AttributeValue::S(method)) if method == "none" => (true, None),
        Some(AttributeValue::S(method)) if method == "private_key_jwt" => {
            let jwks = get_s(item, JWKS)?;
            let keys = ClientKeys::parse(&jwks).map_err(|_| BadItem(JWKS))?;
            (false, Some(keys))
        }
        _ => return Err(BadItem(AUTH_METHOD)),
    };
    let lifetimes = ClientLifetimes {
        access_token: opt_n(item, ACCESS_TOKEN_TTL)?,
        refresh_idle: opt_n(item, REFRESH_IDLE_TTL)?,
        refresh_absolute: opt_n(item, REFRESH_ABSOLUTE_TTL)?,
        grace: opt_n(item, GRACE)?,
    };
    let dpop_bound_access_tokens = match item.get(DPOP_BOUND) {
        None => false,
        Some(AttributeValue::Bool(v)) => *v,
        _ => return Err(BadItem(DPOP_BOUND)),
    };
    let grant_types = get_set(item, "grant_types")?
        .iter()
        .map(|g| GrantType::parse(g).ok_or(BadItem("grant_types")))
        .collect::<Result<_, _>>()?;
    let mut redirect_uris = get_set(item, "redirect_uris")?;
    redirect_uris.sort();
    Ok(Client {
        id,
        name: get_s(item, "name")?,
        secret_hash,
        previous_secret,
        public,
        assertion_keys,
        scope: Scope::from_tokens(get_set(item, "scopes")?),
        redirect_uris,
        grant_types,
        enabled,
        may_introspect,
        pkce,
        lifetimes,
        dpop_bound_access_tokens,
        created_at: get_n(item, "created_at")?,
    })
}

/// DynamoDB's size of an item: attribute names plus values (numbers approximated by their
/// decimal length, which over-counts).
pub fn item_size(item: &Item) -> usize {
    fn value_size(value: &AttributeValue) -> usize {
        match value {
            AttributeValue::S(v) | AttributeValue::N(v) => v.len(),
            AttributeValue::B(v) => v.as_ref().len(),
            AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
            AttributeValue::Bool(_) => 1,
            _ => 0,
        }
    }
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::grant_token::{TokenKeys, TokenKind};
    use crate::domain::code_issuer::{
        pending_grant, CodeRequest, MAX_REDIRECT_URI, MAX_SCOPE, MAX_USER_ID,
    };

    /// A rotated grant at every length limit the code issuer allows still costs one write unit.
    #[test]
    fn the_largest_grant_item_stays_under_one_kilobyte() {
        let keys = TokenKeys::new(vec![vec![1; 32]]);
        let code = keys.mint(TokenKind::Code, GrantId::random(), 0);
        let request = CodeRequest {
            dpop_jkt: None,
            client_id: "c".repeat(32),
            user_id: "u".repeat(MAX_USER_ID),
            scope: Scope::parse(&"s".repeat(MAX_SCOPE)).unwrap(),
            redirect_uri: Some(format!("https://{}", "a".repeat(MAX_REDIRECT_URI - 8))),
            challenge: Some(CodeChallenge {
                method: ChallengeMethod::S256,
                value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            }),
        };
        let mut grant = pending_grant(&code, &request, 1_795_000_000, 1_795_000_600);
        grant.redeemed_at = Some(1_795_000_100);
        grant.rotated_at = Some(1_795_000_200);
        grant.generation = 4_000_000;
        grant.refresh_hash = Some(TokenHash([2; 32]));
        grant.previous_hash = Some(TokenHash([3; 32]));
        grant.sealed_successor = Some(vec![4; 69]);
        grant.revoked_at = Some(1_795_000_300);
        grant.dpop_key = Some([8; 16]);
        grant.last_proof = Some(LastProof {
            iat: 1_795_000_250,
            jti: [9; 8],
        });
        let item = grant_to_item(&grant);
        assert!(item_size(&item) < 1024, "{} bytes", item_size(&item));
        assert_eq!(grant_from_item(&item).unwrap(), grant);
    }
}
