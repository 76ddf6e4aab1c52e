// oauth4webapi (unmodified), a client library that speaks DPoP (RFC 9449), as a native app
// against the running function (cargo lambda watch): the demo native app's code redeemed with
// PKCE and a DPoP proof, then refreshed with a new proof of the same key; both answers are
// DPoP-bound tokens whose cnf.jkt is the key's thumbprint. A refresh with another key is
// refused. Exits non-zero on the first surprise. ALG is the app's key: ES256 (the default),
// Ed25519 or RS256 (the proof the service checks fastest; README "DPoP cost").
//
// Usage: node dpop_client.mjs ISSUER DEMO_PUBLIC_CODE REDIRECT_URI [ALG]

import * as oauth from 'oauth4webapi'

const [issuer, code, redirectUri, alg = 'ES256'] = process.argv.slice(2)
// The service's metadata (the issuer has a path, so RFC 8414's well-known URL would be another):
// read as the platform documents it, then handed to the library as its AuthorizationServer.
const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()
if (!metadata.dpop_signing_alg_values_supported?.includes(alg)) {
  throw new Error(`the metadata does not list ${alg} for DPoP: ${JSON.stringify(metadata)}`)
}
const as = metadata
const client = { client_id: 'native-app' }
const auth = oauth.None()
const insecure = { [oauth.allowInsecureRequests]: true } // the local function URL is http
const keys = await oauth.generateKeyPair(alg)
const DPoP = oauth.DPoP(client, keys)

function claims (token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
}

// RFC 7638 (RFC 8037 §2 for Ed25519): the required members in lexicographic order.
async function thumbprint (publicKey) {
  const jwk = await crypto.subtle.exportKey('jwk', publicKey)
  const required = {
    EC: { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y },
    OKP: { crv: jwk.crv, kty: jwk.kty, x: jwk.x },
    RSA: { e: jwk.e, kty: jwk.kty, n: jwk.n }
  }
  const members = JSON.stringify(required[jwk.kty])
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(members))
  return Buffer.from(digest).toString('base64url')
}

const jkt = await thumbprint(keys.publicKey)
const callback = oauth.validateAuthResponse(as, client, new URL(`${redirectUri}?code=${code}`), oauth.expectNoState)
const redeemed = await oauth.processAuthorizationCodeResponse(
  as,
  client,
  await oauth.authorizationCodeGrantRequest(
    as, client, auth, callback, redirectUri, 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', { DPoP, ...insecure }
  )
)
if (redeemed.token_type !== 'dpop' || claims(redeemed.access_token).cnf?.jkt !== jkt) {
  throw new Error(`the code's tokens are not bound to the key: ${JSON.stringify(redeemed)}`)
}
console.log(`oauth4webapi: code redeemed with PKCE and a DPoP proof (${alg}): token_type DPoP, cnf.jkt is the key`)

const refreshed = await oauth.processRefreshTokenResponse(
  as,
  client,
  await oauth.refreshTokenGrantRequest(as, client, auth, redeemed.refresh_token, { DPoP, ...insecure })
)
if (refreshed.token_type !== 'dpop' || claims(refreshed.access_token).cnf?.jkt !== jkt) {
  throw new Error(`the refreshed tokens are not bound to the key: ${JSON.stringify(refreshed)}`)
}
console.log('oauth4webapi: refreshed with a new proof of the same key')

const otherDPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
try {
  await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token, { DPoP: otherDPoP, ...insecure })
  )
  throw new Error('a refresh with another key worked')
} catch (error) {
  if (!(error instanceof oauth.ResponseBodyError) || error.error !== 'invalid_grant') throw error
}
console.log('oauth4webapi: a refresh with another key is invalid_grant')
console.log(`dpop interop (${alg}): ok`)
