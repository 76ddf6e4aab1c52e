//! tokenctl's output: plain lines for people, one JSON document for scripts. Client secrets are
//! printed only by the commands that create them; listings never carry one.

use crate::crypto::grant_token::GrantId;
use crate::domain::model::{Client, ClientLifetimes, PreviousSecret};
use crate::store::dynamodb::admin::GrantSummary;
use serde_json::{json, Value};

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    fn emit(&self, plain: &str, value: Value) {
        if self.json {
            println!("{value}");
        } else {
            println!("{plain}");
        }
    }

    pub fn done(&self, message: &str, value: Value) {
        self.emit(message, value);
    }

    /// A value meant for a program (a code, a new secret): plain mode prints it alone.
    pub fn secret(&self, plain: &str, value: Value) {
        self.emit(plain, value);
    }

    pub fn client_created(&self, client: &Client, secret: &str) {
        let plain = format!(
            "client_id:     {}\nclient_secret: {}\n(the secret is shown only now; only its hash is stored)",
            client.id, secret
        );
        let mut value = client_json(client);
        value["client_secret"] = json!(secret);
        self.emit(&plain, value);
    }

    /// A public client, or one with keys, has no secret to show.
    pub fn client_without_secret_created(&self, client: &Client) {
        let what = if client.public {
            "a public client"
        } else {
            "authenticates with its keys (private_key_jwt)"
        };
        let plain = format!("client_id:     {}\n({what}: no secret)", client.id);
        self.emit(&plain, client_json(client));
    }

    pub fn clients(&self, clients: &[Client]) {
        if self.json {
            println!(
                "{}",
                Value::Array(clients.iter().map(client_json).collect())
            );
            return;
        }
        for c in clients {
            println!(
                "{}\t{}\t{}\tscope={}\tgrants={}\tredirects={}\tsecrets={}",
                c.id,
                if c.enabled { "enabled" } else { "disabled" },
                c.name,
                c.scope,
                c.grant_types
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                c.redirect_uris.join(","),
                match c.previous_secret {
                    None => "1".to_owned(),
                    Some(PreviousSecret {
                        expires_at: None, ..
                    }) => {
                        "2 (old until retired)".to_owned()
                    }
                    Some(PreviousSecret {
                        expires_at: Some(at),
                        ..
                    }) => {
                        format!("2 (old until {at})")
                    }
                }
            );
        }
    }

    pub fn grants(&self, grants: &[GrantSummary]) {
        if self.json {
            let list: Vec<Value> = grants
                .iter()
                .map(|g| {
                    json!({
                        "grant_id": g.grant_id.to_string(),
                        "client_id": g.client_id,
                        "user_id": g.user_id,
                        "created_at": g.created_at,
                        "redeemed_at": g.redeemed_at,
                        "revoked_at": g.revoked_at,
                    })
                })
                .collect();
            println!("{}", Value::Array(list));
            return;
        }
        for g in grants {
            let state = match (g.redeemed_at, g.revoked_at) {
                (_, Some(_)) => "revoked",
                (Some(_), None) => "active",
                (None, None) => "code-pending",
            };
            println!(
                "{}\t{}\tuser={}\tclient={}\tcreated_at={}",
                g.grant_id, state, g.user_id, g.client_id, g.created_at
            );
        }
    }

    pub fn revoked(&self, ids: &[GrantId]) {
        let plain = format!("revoked {} grant(s)", ids.len());
        let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.emit(&plain, json!({"revoked": list}));
    }
}

fn client_json(c: &Client) -> Value {
    json!({
        "client_id": c.id,
        "name": c.name,
        "enabled": c.enabled,
        "scope": c.scope.to_string(),
        "redirect_uris": c.redirect_uris,
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "introspect": c.may_introspect,
        "pkce": c.pkce_policy().as_str(),
        "token_endpoint_auth_method": auth_method(c),
        // Public keys: nothing secret in them.
        "jwks": c.assertion_keys.as_ref()
            .and_then(|keys| serde_json::from_str::<Value>(keys.as_json()).ok()),
        // Which secrets exist and when each ends; never a secret or its hash.
        "secrets": {
            "current": auth_method(c) == "client_secret_basic",
            "previous": c.previous_secret.map(|p| json!({
                "expires_at": p.expires_at,
            })),
        },
        "lifetimes": lifetimes_json(&c.lifetimes),
        "dpop_bound_access_tokens": c.dpop_bound_access_tokens,
        "created_at": c.created_at,
    })
}

fn auth_method(c: &Client) -> &'static str {
    match (c.public, &c.assertion_keys) {
        (true, _) => "none",
        (false, Some(_)) => "private_key_jwt",
        (false, None) => "client_secret_basic",
    }
}

/// A client's own lifetimes; `null` where the server's apply.
pub fn lifetimes_json(l: &ClientLifetimes) -> Value {
    json!({
        "access_token": l.access_token,
        "refresh_idle": l.refresh_idle,
        "refresh_absolute": l.refresh_absolute,
        "grace": l.grace,
    })
}
