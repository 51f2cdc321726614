// Package passkeyd holds the vocabulary of passkeyd, a passkey (WebAuthn)
// sign-in system: users, their passkeys (credentials), ceremonies in
// progress (challenges), login sessions and the security log, and the Store
// interface that keeps them.
//
// # The two ceremonies
//
// Registration: the browser asks for creation options; the server answers
// with a fresh challenge, kept server-side and bound to that browser by a
// cookie; the authenticator makes a key pair and the browser posts the new
// public key back; the server takes (reads and deletes) the challenge,
// verifies the response with go-webauthn, and only then writes the user and
// the passkey, in one transaction.
//
// Sign-in: the browser asks for request options; the server answers with a
// challenge and no credential IDs (a discoverable ceremony, so nobody learns
// which passkeys an email has); the authenticator signs the challenge with a
// passkey of the user's choice; the server takes the challenge, finds the
// passkey by its ID and its owner by the user handle, verifies the signature,
// the origin, the counter and the flags, and then, in one transaction,
// writes the new counter only if it is still the one it checked against
// (so of parallel sign-ins with one counter value exactly one passes) and
// opens a new login session.
//
// The packages: web serves the pages and the JSON API as an http.Handler;
// sqlite and postgres implement Store; cmd/passkeyd wires them into a server.
package passkeyd
