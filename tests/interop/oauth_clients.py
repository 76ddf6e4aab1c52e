"""Standard client libraries, unmodified, against the running function (`cargo lambda watch`).

- Authlib's OAuth2Session: discovery of the endpoints from the RFC 8414 metadata, a code
  redemption, `introspect_token` (RFC 7662) as a resource server, `revoke_token` (RFC 7009) as
  the app, and a refresh that must then fail.
- PyJWT's PyJWKClient: verifies the RS256 access token from the JWKS alone (RFC 7517, RFC 9068).
- Authlib's client credentials grant (RFC 6749 §4.4): the demo client's token for itself, no
  refresh token, introspected as active, and a revocation that says it cannot be done.
- Authlib's `private_key_jwt` (RFC 7523): the demo backend with keys gets a token for itself
  and introspects it, each request with a fresh ES256 assertion (aud = the URL called); the
  same assertion sent again is refused.
- Authlib as a native app (RFC 8252, public client): the demo app's code redeemed with its PKCE
  verifier (S256) and its loopback redirect URI, then refreshed, with `client_id` alone.

Uses the local demo data of Cargo.toml. Exits non-zero on the first surprise.

Usage: python oauth_clients.py ISSUER DEMO_CODE DEMO_PUBLIC_CODE
"""

import base64
import sys

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey

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

assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"], metadata
assert "ES256" in metadata["token_endpoint_auth_signing_alg_values_supported"], metadata
# The demo backend's private key: tests/fixtures/keys/ec-p256.b64 (its public half is in
# Cargo.toml's DEMO_KEYED_CLIENT_JWKS).
with open("tests/fixtures/keys/ec-p256.b64") as fixture:
    der = base64.urlsafe_b64decode(fixture.read().strip() + "==")
private_pem = serialization.load_der_private_key(der, None).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
# Authlib takes a PEM as an RSA key; an EC key goes in as a JWK object (joserfc, its JOSE layer).
signer = OAuth2Session(
    "backend-with-keys",
    ECKey.import_key(private_pem),
    scope="user_info_read",
    token_endpoint_auth_method=PrivateKeyJWT(alg="ES256", headers={"kid": "demo-backend-1"}),
)
signed = signer.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
assert "refresh_token" not in signed, signed
answer = signer.introspect_token(metadata["introspection_endpoint"], token=signed["access_token"]).json()
assert answer["active"] is True and answer["client_id"] == "backend-with-keys", answer
print("private_key_jwt: a token for the backend with keys, introspected with a fresh assertion")
assertion = private_key_jwt_sign(
    ECKey.import_key(private_pem),
    "backend-with-keys",
    metadata["token_endpoint"],
    alg="ES256",
    header={"kid": "demo-backend-1"},
)
form = {
    "grant_type": "client_credentials",
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": assertion,
}
first = requests.post(metadata["token_endpoint"], data=form, timeout=30)
assert first.status_code == 200, first.text
again = requests.post(metadata["token_endpoint"], data=form, timeout=30)
assert again.status_code == 401 and again.json()["error"] == "invalid_client", again.text
print("private_key_jwt: the same assertion a second time is invalid_client")

native = OAuth2Session(
    "native-app",
    token_endpoint_auth_method="none",
    redirect_uri="http://127.0.0.1:53123/callback",
    code_challenge_method="S256",
)
native_token = native.fetch_token(
    metadata["token_endpoint"],
    code=sys.argv[3],
    grant_type="authorization_code",
    code_verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
)
assert native_token["token_type"] == "Bearer" and native_token["refresh_token"], native_token
refreshed = native.refresh_token(metadata["token_endpoint"], refresh_token=native_token["refresh_token"])
assert refreshed["refresh_token"] != native_token["refresh_token"], refreshed
print("native app: a code with PKCE to a loopback redirect URI, then a refresh, with client_id alone")

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
