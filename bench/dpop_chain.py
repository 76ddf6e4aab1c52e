"""DPoP proofs and a DPoP-bound refresh chain for bench/lambda.sh.

    python bench/dpop_chain.py proof ALG TARGET
prints one proof (a fresh key of ALG, `jti` "bench", `iat` now) for TARGET, the token URL.

    python bench/dpop_chain.py chain IN_FIFO OUT_FIFO ALG BASE_EVENT ISSUER CLIENT_ID CODE REDIRECT_URI VERIFIER
makes the events of a chain, as the harness asks for them: the native app of the local demo
data redeems its code (PKCE and a DPoP proof), then refreshes again and again, each time with
the refresh token the previous answer carried and a fresh proof (new `jti`, current `iat`) of
the same key: what every bound app sends, every two hours. ALG `none` makes the same chain
without proofs, and `hello` repeats BASE_EVENT as it is (the comparisons, paced alike).

The harness starts a command per event (`coldstart warm --gen-cmd`) and hands it the previous
answer; starting Python and its cryptography for each would make a run of thousands take many
minutes. So this process runs once, beside the harness, and the per-event command only passes
the answer in through one FIFO and the next event out through another. Exits (non-zero) on the
first answer that is not a 200.

ALG is ES256, Ed25519 or RS256.
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
    raise SystemExit(f"dpop_chain: no key for {alg}")


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


def chain(fifo_in, fifo_out, alg, base_event, issuer, client_id, code, redirect_uri, verifier):
    event = json.load(open(base_event))
    proof = None if alg in ("none", "hello") else prover(alg, issuer + "/chatroom/api/token")
    made = 0
    while True:
        with open(fifo_in, "rb") as answer_in:
            answer = answer_in.read()
        if alg == "hello":
            form = None
        elif not answer:
            form = {"grant_type": "authorization_code", "client_id": client_id, "code": code,
                    "redirect_uri": redirect_uri, "code_verifier": verifier}
        else:
            response = json.loads(answer)
            if response.get("statusCode") != 200:
                raise SystemExit(f"dpop_chain: the function answered {answer[:300]!r}")
            token = json.loads(response["body"])["refresh_token"]
            form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token}
        made += 1
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
