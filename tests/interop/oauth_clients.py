"""Standard client libraries, unmodified, against the running function (`cargo lambda watch`).

- Authlib's OAuth2Session: discovery of the endpoints from the RFC 8414 metadata, a code
  redemption, `introspect_token` (RFC 7662) as a resource server, `revoke_token` (RFC 7009) as
  the app, and a refresh that must then fail.
- PyJWT's PyJWKClient: verifies the RS256 access token from the JWKS alone (RFC 7517, RFC 9068).
- Authlib's client credentials grant (RFC 6749 §4.4): the demo client's token for itself, no
  refresh token, introspected as active, and a revocation that says it cannot be done.

Uses the local demo data of Cargo.toml. Exits non-zero on the first surprise.

Usage: python oauth_clients.py ISSUER DEMO_CODE
"""

import sys

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError

issuer, demo_code = sys.argv[1], sys.argv[2]
metadata = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=30).json()
assert metadata["issuer"] == issuer, metadata
print("metadata:", ", ".join(sorted(metadata)))

app = OAuth2Session(
    "000000",
    "999999",
    token_endpoint_auth_method="client_secret_basic",
    revocation_endpoint_auth_method="client_secret_post",
    redirect_uri="http://localhost:8080/callback",
)
token = app.fetch_token(metadata["token_endpoint"], code=demo_code, grant_type="authorization_code")
print("code redeemed: token_type", token["token_type"], "expires_in", token["expires_in"])

jwks = jwt.PyJWKClient(metadata["jwks_uri"])
signing_key = jwks.get_signing_key_from_jwt(token["access_token"])
claims = jwt.decode(
    token["access_token"],
    signing_key.key,
    algorithms=["RS256"],
    audience="000000",
    issuer=issuer,
)
header = jwt.get_unverified_header(token["access_token"])
assert header["alg"] == "RS256" and header["typ"] == "at+jwt", header
assert claims["sub"] == "8836257", claims
print("PyJWT verified the RS256 access token from the JWKS: kid", header["kid"])

resource_server = OAuth2Session("api-server", "api-server-secret")
answer = resource_server.introspect_token(
    metadata["introspection_endpoint"], token=token["access_token"], token_type_hint="access_token"
).json()
assert answer["active"] is True and answer["client_id"] == "000000", answer
print(f"introspected the access token: active, sub {answer['sub']}, scope {answer['scope']}")
answer = resource_server.introspect_token(
    metadata["introspection_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
).json()
assert answer == {"active": False}, answer
print("introspected the refresh token: never active for a resource server")

assert "client_credentials" in metadata["grant_types_supported"], metadata
backend = OAuth2Session("000000", "999999", scope="user_info_read")
own = backend.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
assert "refresh_token" not in own and own["scope"] == "user_info_read", own
own_claims = jwt.decode(
    own["access_token"],
    jwks.get_signing_key_from_jwt(own["access_token"]).key,
    algorithms=["RS256"],
    audience="000000",
    issuer=issuer,
)
assert own_claims["sub"] == "000000" and "gid" not in own_claims, own_claims
answer = resource_server.introspect_token(metadata["introspection_endpoint"], token=own["access_token"]).json()
assert answer["active"] is True and answer["sub"] == "000000", answer
refused = backend.revoke_token(metadata["revocation_endpoint"], token=own["access_token"])
assert refused.status_code == 400 and refused.json()["error"] == "unsupported_token_type", refused.text
print("client credentials: a token for the client itself, active, not revocable")

revoked = app.revoke_token(
    metadata["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
)
assert revoked.status_code == 200 and revoked.text == "", (revoked.status_code, revoked.text)
print("revoked the refresh token")

for kind in ("access_token", "refresh_token"):
    answer = resource_server.introspect_token(metadata["introspection_endpoint"], token=token[kind]).json()
    assert answer == {"active": False}, answer
print("both tokens introspect as inactive")

try:
    app.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
except OAuthError as error:
    assert error.error == "invalid_grant", error
    print("the refresh after revocation is invalid_grant")
else:
    sys.exit("a revoked refresh token still worked")
print("interop: ok")
