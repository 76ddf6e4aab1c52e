//! The metadata document (RFC 8414) and the JWKS (RFC 7517): every URL the metadata names is
//! built from the issuer and answers; both documents may be cached; no secret is published.

use crate::support::*;

fn get(path: &str) -> lambda_http::Request {
    request_with("GET", path, None, "", None)
}

pub async fn the_metadata_names_every_endpoint_and_each_answers(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.call(get("/.well-known/oauth-authorization-server")).await;
    assert_eq!(reply.status, 200, "{}", reply.raw);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    let metadata = &reply.body;
    assert_eq!(metadata["issuer"], ISSUER);
    for (field, path) in [
        ("token_endpoint", "/chatroom/api/token"),
        ("revocation_endpoint", "/chatroom/api/revoke"),
        ("introspection_endpoint", "/chatroom/api/introspect"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(metadata[field], format!("{ISSUER}{path}"), "{field}");
        let answer = if field == "jwks_uri" {
            h.call(get(path)).await
        } else {
            h.call(form_request_to(path, &[])).await
        };
        assert_ne!(answer.status, 404, "{field} answers");
    }
    for field in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        assert_eq!(
            metadata[field],
            serde_json::json!(["client_secret_post", "client_secret_basic"])
        );
    }
    assert_eq!(
        metadata["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        metadata["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        serde_json::json!(["S256", "plain"])
    );
    h.call(form_request_to(
        "/.well-known/oauth-authorization-server",
        &[],
    ))
    .await
    .assert_error(405, "method_not_allowed");
}

pub async fn the_jwks_publishes_no_symmetric_secret(backend: &impl Backend) {
    let h = Harness::standard(backend).await;
    let reply = h.call(get("/.well-known/jwks.json")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    // The harness signs with HS256 only: nothing to publish, and never its secret.
    assert_eq!(reply.body, serde_json::json!({"keys": []}));
    assert!(!reply.raw.contains("test-signing-key"));
}
