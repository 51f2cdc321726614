// Package passkeyd holds the vocabulary of passkeyd, a passkey (WebAuthn)
// sign-in system: users, their passkeys (credentials), the records that
// make each ceremony single-use (used challenges), login sessions and the
// security log, and the Store interface that keeps them.
//
// # The two ceremonies
//
// Registration: the browser asks for creation options; the server answers
// with a fresh challenge, and seals the ceremony's state (go-webauthn's
// session data, the account, its expiry) into the browser's ceremony
// cookie, writing nothing; the authenticator makes a key pair and the
// browser posts the new public key back; the server opens the sealed state,
// verifies the response with go-webauthn, and only then writes, in one
// transaction, the record that the challenge is used (so it completes
// once, on any instance), the user and the passkey.
//
// Sign-in: the browser asks for request options; the server answers with a
// challenge and no credential IDs (a discoverable ceremony, so nobody learns
// which passkeys an email has), sealed into the cookie as above; the
// authenticator signs the challenge with a passkey of the user's choice;
// the server opens the sealed state, finds the passkey by its ID and its
// owner by the user handle, verifies the signature, the origin, the counter
// and the flags, and then, in one transaction, records the challenge as
// used, writes the new counter only if it is still the one it checked
// against (so of parallel sign-ins with one counter value exactly one
// passes) and opens a new login session.
//
// The packages: web serves the pages and the JSON API as an http.Handler;
// sqlite and postgres implement Store; cmd/passkeyd wires them into a server.
package passkeyd
