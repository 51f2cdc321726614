package oidc_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// jwks fetches the key set and returns its key IDs and Cache-Control.
func (s *inProcess) jwks(t *testing.T) ([]string, string) {
	t.Helper()
	res, err := s.http.Get(s.issuer + "/oidc/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /oidc/keys: %d, %v", res.StatusCode, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids, res.Header.Get("Cache-Control")
}

func kidOf(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	var h struct {
		Kid string `json:"kid"`
	}
	headerOf(t, tok.Extra("id_token").(string), &h)
	return h.Kid
}

// TestKeyRotation: a rotated key is published at once and signs only after
// the publication delay; the old key signs until then and stays published
// until the ID tokens it signed have expired. RotateKeysNow, for a leaked
// key, switches at once and withdraws the old keys.
func TestKeyRotation(t *testing.T) {
	s := startInProcess(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	before, _ := s.signIn(t, p, app)
	oldKid := kidOf(t, before)

	kids, cacheControl := s.jwks(t)
	if cacheControl != "public, max-age=300" {
		t.Errorf("JWKS Cache-Control %q, want public, max-age=300", cacheControl)
	}
	if err := s.oidc.RotateKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	rotated, _ := s.jwks(t)
	if len(rotated) != 2*len(kids) || !slices.Contains(rotated, oldKid) {
		t.Fatalf("JWKS after rotation: %v; want the %d keys %v and one new key per algorithm", rotated, len(kids), kids)
	}
	var newKids []string
	for _, k := range rotated {
		if !slices.Contains(kids, k) {
			newKids = append(newKids, k)
		}
	}

	// Within the delay, the old key still signs.
	s.clock.Advance(s.oidc.KeyPublishDelay() - time.Minute)
	tok, _ := s.signIn(t, p, app)
	if got := kidOf(t, tok); got != oldKid {
		t.Errorf("an ID token signed before the publication delay passed has kid %q, want the old %q", got, oldKid)
	}

	// Then the new one signs, and the old key's tokens still verify.
	s.clock.Advance(time.Minute)
	tok, _ = s.signIn(t, p, app)
	if got := kidOf(t, tok); !slices.Contains(newKids, got) {
		t.Errorf("after the publication delay the ID token has kid %q, want a new key of %v", got, newKids)
	}
	fresh := s.provider(t) // fetches JWKS anew
	if _, err := fresh.Verifier(&gooidc.Config{ClientID: "app"}).Verify(s.rpContext(t), before.Extra("id_token").(string)); err != nil {
		t.Errorf("an ID token signed by the old key no longer verifies: %v", err)
	}
	// The old key leaves once the last token it signed (an hour, the
	// default ID token lifetime) has expired.
	s.clock.Advance(time.Hour)
	if kids, _ := s.jwks(t); !slices.Contains(kids, oldKid) {
		t.Errorf("the old key left JWKS while ID tokens it signed are valid: %v", kids)
	}
	s.clock.Advance(2 * time.Minute)
	if kids, _ := s.jwks(t); slices.Contains(kids, oldKid) || len(kids) != len(newKids) {
		t.Errorf("JWKS %v after the old key's tokens expired; want only %v", kids, newKids)
	}

	// A leaked key: the new keys sign at once, the old ones leave at once.
	current := kidOf(t, tok)
	if err := s.oidc.RotateKeysNow(t.Context()); err != nil {
		t.Fatal(err)
	}
	kids, _ = s.jwks(t)
	if len(kids) != len(newKids) || slices.Contains(kids, current) {
		t.Errorf("JWKS after an immediate rotation: %v; want only new keys, without %q", kids, current)
	}
	tok, _ = s.signIn(t, p, app)
	if got := kidOf(t, tok); !slices.Contains(kids, got) {
		t.Errorf("after an immediate rotation the ID token has kid %q, want one of %v", got, kids)
	}
}
