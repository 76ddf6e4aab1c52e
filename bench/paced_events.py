"""DPoP proofs, and the events of runs that need something new in every request, for
bench/lambda.sh.

    python bench/paced_events.py proof ALG TARGET
prints one proof (a fresh key of ALG, `jti` "bench", `iat` now) for TARGET, the token URL.

    python bench/paced_events.py chain IN_FIFO OUT_FIFO MODE BASE_EVENT ISSUER CLIENT_ID CODE REDIRECT_URI VERIFIER
makes the events of a run, as the harness asks for them. MODE ES256, Ed25519 or RS256: the
native app of the local demo data redeems its code (PKCE and a DPoP proof), then refreshes again
and again, each time with the refresh token the previous answer carried and a fresh proof (new
`jti`, current `iat`) of the same key: what every bound app sends, every two hours. `none`: the
same chain without proofs. `assertion`: the demo backend asks for client credentials, each time
with a fresh `private_key_jwt` assertion (its key is tests/fixtures/keys/ec-p256.b64; each
`jti` works once). `hello` repeats BASE_EVENT as it is (the comparison, paced alike).

The harness starts a command per event (`coldstart warm --gen-cmd`) and hands it the previous
answer; starting Python and its cryptography for each would make a run of thousands take many
minutes. So this process runs once, beside the harness, and the per-event command only passes
the answer in through one FIFO and the next event out through another. Exits (non-zero) on the
first answer that is not a 200.
"""

import base64
import json
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_for(alg: str):
    """A fresh key of the algorithm: its public JWK, and a function signing bytes with it."""
    if alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
        n = key.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": b64(n.x.to_bytes(32, "big")),
               "y": b64(n.y.to_bytes(32, "big"))}

        def sign(data: bytes) -> bytes:
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return jwk, sign
    if alg == "Ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}, key.sign
    if alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        n = key.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": b64(n.n.to_bytes(256, "big")), "e": b64(n.e.to_bytes(3, "big"))}
        return jwk, lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise SystemExit(f"paced_events: no key for {alg}")


def prover(alg: str, target: str):
    """A function making fresh proofs of one new key for `target`, given a `jti`."""
    jwk, sign = key_for(alg)
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": alg, "jwk": jwk}).encode())

    def proof(jti: str) -> str:
        claims = b64(json.dumps({"jti": jti, "htm": "POST", "htu": target,
                                 "iat": int(time.time())}).encode())
        signing_input = f"{header}.{claims}"
        return f"{signing_input}.{b64(sign(signing_input.encode()))}"
    return proof


def asserter(target: str):
    """A function making fresh ES256 assertions of the demo backend for `target`, given a `jti`."""
    from cryptography.hazmat.primitives.serialization import load_der_private_key
    with open("tests/fixtures/keys/ec-p256.b64") as fixture:
        key = load_der_private_key(base64.urlsafe_b64decode(fixture.read().strip() + "=="), None)
    header = b64(json.dumps({"alg": "ES256", "kid": "demo-backend-1"}).encode())

    def assertion(jti: str) -> str:
        now = int(time.time())
        claims = b64(json.dumps({"iss": "backend-with-keys", "sub": "backend-with-keys",
                                 "aud": target, "iat": now, "exp": now + 60,
                                 "jti": jti}).encode())
        r, s = decode_dss_signature(key.sign(f"{header}.{claims}".encode(),
                                             ec.ECDSA(hashes.SHA256())))
        return f"{header}.{claims}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    return assertion


def chain(fifo_in, fifo_out, alg, base_event, issuer, client_id, code, redirect_uri, verifier):
    event = json.load(open(base_event))
    target = issuer + "/chatroom/api/token"
    proof = None if alg in ("none", "hello", "assertion") else prover(alg, target)
    assertion = asserter(target) if alg == "assertion" else None
    made = 0
    while True:
        with open(fifo_in, "rb") as answer_in:
            answer = answer_in.read()
        made += 1
        response = json.loads(answer) if answer else None
        if response and alg != "hello" and response.get("statusCode") != 200:
            raise SystemExit(f"paced_events: the function answered {answer[:300]!r}")
        if alg == "hello":
            form = None
        elif assertion:
            form = {"grant_type": "client_credentials",
                    "client_assertion_type":
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": assertion(f"bench-{made}")}
        elif not response:
            form = {"grant_type": "authorization_code", "client_id": client_id, "code": code,
                    "redirect_uri": redirect_uri, "code_verifier": verifier}
        else:
            token = json.loads(response["body"])["refresh_token"]
            form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token}
        if proof:
            event["headers"]["dpop"] = proof(f"bench-{made}")
        if alg != "hello":
            event["body"] = urllib.parse.urlencode(form)
        with open(fifo_out, "w") as event_out:
            event_out.write(json.dumps(event))


if __name__ == "__main__":
    if sys.argv[1] == "proof":
        print(prover(sys.argv[2], sys.argv[3])("bench"))
    else:
        chain(*sys.argv[2:])
