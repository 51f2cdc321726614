package scaletest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/postgres"
)

// twoInstances starts instances A and B on one fresh schema, and returns
// them with a store on the same schema for looking at what they wrote.
func twoInstances(t *testing.T) (a, b *instance, store *postgres.Store) {
	t.Helper()
	dsn := testserver.PostgresDSN(t)
	// Launched together: both migrate the empty schema at once (the
	// advisory lock makes them take turns).
	a, b = launch(t, "A", dsn), launch(t, "B", dsn)
	waitHealthy(t, a)
	waitHealthy(t, b)
	return a, b, openStore(t, dsn)
}

func nowUTC() time.Time { return time.Now().UTC() }

// TestScaleOut: ceremonies split across two instances behind one origin.
func TestScaleOut(t *testing.T) {
	a, b, store := twoInstances(t)
	ctx := t.Context()

	key := softauthn.New("localhost", origin)
	alice := newBrowser()

	t.Run("RegisterOnAFinishOnB", func(t *testing.T) {
		want200(t, "registration options on A, verified on B", alice.register(t, a, b, key, "alice@example.com"))
		u, err := store.FindUserByEmail(ctx, "alice@example.com")
		if err != nil {
			t.Fatalf("the account is not stored: %v", err)
		}
		creds, err := store.ListCredentials(ctx, u.ID)
		if err != nil || len(creds) != 1 || !bytes.Equal(creds[0].CredentialID, key.Credentials()[0].ID) {
			t.Fatalf("stored passkeys %v, %v; want the one registered", creds, err)
		}
	})

	t.Run("OptionsOnBVerifyOnA", func(t *testing.T) {
		res := alice.signIn(t, b, a, key)
		want200(t, "authentication options on B, verified on A", res)
		if !strings.Contains(string(res.Body), "alice@example.com") {
			t.Errorf("sign-in answer %s does not name alice", res.Body)
		}
	})

	t.Run("SessionAcrossInstances", func(t *testing.T) {
		// The session made on A (above) is valid on B ...
		for _, in := range []*instance{a, b} {
			res := alice.get(t, in, "/api/auth/me")
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "alice@example.com") {
				t.Fatalf("GET /api/auth/me on %s: %d %s; want 200 and alice", in.Name, res.Status, res.Body)
			}
		}
		// ... and a logout on B ends it on A.
		if res := alice.post(t, b, "/api/auth/logout", nil); res.Status != http.StatusNoContent {
			t.Fatalf("logout on B: %d %s", res.Status, res.Body)
		}
		// A stolen copy of the cookie, replayed after the logout, is
		// refused too: the session is gone from the database, not only
		// from this browser.
		for _, in := range []*instance{a, b} {
			if res := alice.get(t, in, "/api/auth/me"); res.Status != http.StatusUnauthorized {
				t.Errorf("GET /api/auth/me on %s after logout on B: %d %s; want 401", in.Name, res.Status, res.Body)
			}
		}
		u, err := store.FindUserByEmail(ctx, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if sessions, err := store.ListSessions(ctx, u.ID, nowUTC()); err != nil || len(sessions) != 0 {
			t.Errorf("sessions after logout: %d, %v; want none", len(sessions), err)
		}
	})

	t.Run("ReplayAcrossInstances", func(t *testing.T) {
		for _, p := range [][2]*instance{{a, b}, {b, a}} {
			first, second := p[0], p[1]
			assertion := alice.assertion(t, first, key)
			want200(t, "sign-in on "+first.Name, alice.post(t, first, "/api/passkeys/verify-authentication", assertion))
			for _, in := range []*instance{second, first} {
				res := alice.post(t, in, "/api/passkeys/verify-authentication", assertion)
				if res.Status != http.StatusBadRequest || !strings.Contains(res.Error(), "expired or was already used") {
					t.Errorf("the same assertion replayed on %s after %s: %d %s; want 400", in.Name, first.Name, res.Status, res.Body)
				}
			}
		}
	})

	// The same assertion posted to A and B at once: both verify it, and the
	// used-challenge record that each writes in its sign-in transaction lets
	// exactly one commit; the other answers 400.
	t.Run("RaceForOneChallenge", func(t *testing.T) {
		for round := range 10 {
			optionsOn := []*instance{a, b}[round%2]
			assertion := alice.assertion(t, optionsOn, key)
			statuses := make([]int, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, in := range []*instance{a, b} {
				wg.Go(func() {
					<-start
					res, err := alice.at(in).Do(ctx, http.MethodPost, "/api/passkeys/verify-authentication", assertion)
					if err != nil {
						errs[i] = err
						return
					}
					statuses[i] = res.Status
				})
			}
			close(start)
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			ok, replay := 0, 0
			for _, st := range statuses {
				switch st {
				case http.StatusOK:
					ok++
				case http.StatusBadRequest:
					replay++
				}
			}
			if ok != 1 || replay != 1 {
				t.Fatalf("round %d: A answered %d, B answered %d; want one 200 and one 400", round, statuses[0], statuses[1])
			}
		}
		u, err := store.FindUserByEmail(ctx, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		// 1 + 2 + 10 sign-ins succeeded in all.
		events, err := store.ListEvents(ctx, u.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Type == passkeyd.EventLoginSucceeded {
				n++
			}
		}
		if n != 13 {
			t.Errorf("%d login_succeeded events, want 13", n)
		}
	})
}

// TestConcurrentSignIns: many sign-ins at once across both instances.
func TestConcurrentSignIns(t *testing.T) {
	a, b, store := twoInstances(t)
	ctx := t.Context()
	instances := []*instance{a, b}

	// A synced passkey (counter always 0) used from 40 browsers at once,
	// half starting on A and finishing on B, half the other way round.
	t.Run("OneCredential", func(t *testing.T) {
		key := softauthn.New("localhost", origin)
		want200(t, "register", newBrowser().register(t, a, b, key, "synced@example.com"))
		const n = 40
		statuses := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var res *softauthn.Response
				_, res, errs[i] = newBrowser().trySignIn(ctx, instances[i%2], instances[(i+1)%2], key)
				if res != nil {
					statuses[i] = res.Status
				}
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || statuses[i] != http.StatusOK {
				t.Errorf("sign-in %d: %d, %v; want 200", i, statuses[i], errs[i])
			}
		}
		cred, owner, err := store.FindCredential(ctx, key.Credentials()[0].ID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if cred.SignCount != 0 || cred.CloneWarning {
			t.Errorf("counter %d, clone warning %v; want 0, false", cred.SignCount, cred.CloneWarning)
		}
		if sessions, err := store.ListSessions(ctx, owner.ID, nowUTC()); err != nil || len(sessions) != n {
			t.Errorf("%d sessions, %v; want %d, one per sign-in", len(sessions), err, n)
		}
		if got := countEvents(t, store, owner.ID, passkeyd.EventLoginSucceeded); got != n {
			t.Errorf("%d login_succeeded events, want %d", got, n)
		}
	})

	// Twelve security keys whose counters count, each used six times in a
	// row, all twelve at once: every sign-in succeeds and every stored
	// counter is the last one its key sent. (One counting key used in
	// parallel is the next case: there, out-of-order arrivals are refused
	// as possible clones, by design.)
	t.Run("ManyCredentials", func(t *testing.T) {
		const users, rounds = 12, 6
		keys := make([]*softauthn.Authenticator, users)
		for i := range keys {
			keys[i] = softauthn.New("localhost", origin)
			keys[i].Counting, keys[i].BackupEligible, keys[i].BackupState = true, false, false
		}
		// Registered at once too.
		regErrs := make([]string, users)
		var wg sync.WaitGroup
		for i := range users {
			wg.Go(func() {
				br := newBrowser()
				opts, err := br.tryOptions(ctx, instances[i%2], "registration", fmt.Sprintf("key%d@example.com", i))
				if err != nil {
					regErrs[i] = err.Error()
					return
				}
				att, _, err := keys[i].Create(opts)
				if err != nil {
					regErrs[i] = err.Error()
					return
				}
				res, err := br.at(instances[(i+1)%2]).Do(ctx, http.MethodPost, "/api/passkeys/verify-registration", att)
				if err != nil || res.Status != http.StatusOK {
					regErrs[i] = fmt.Sprintf("verify: %v %v", err, res)
				}
			})
		}
		wg.Wait()
		for i, e := range regErrs {
			if e != "" {
				t.Fatalf("register key %d: %s", i, e)
			}
		}

		failures := make([][]string, users)
		sent := make([]uint32, users)
		for i := range users {
			wg.Go(func() {
				br := newBrowser()
				for r := range rounds {
					assertion, res, err := br.trySignIn(ctx, instances[(i+r)%2], instances[(i+r+1)%2], keys[i])
					if err != nil || res.Status != http.StatusOK {
						failures[i] = append(failures[i], fmt.Sprintf("round %d: %v %v", r, err, res))
						continue
					}
					sent[i] = max(sent[i], signCountOf(t, assertion))
				}
			})
		}
		wg.Wait()
		for i := range users {
			if len(failures[i]) > 0 {
				t.Errorf("key %d: %s", i, strings.Join(failures[i], "; "))
			}
			cred, _, err := store.FindCredential(ctx, keys[i].Credentials()[0].ID)
			if err != nil {
				t.Fatalf("FindCredential: %v", err)
			}
			if cred.SignCount != sent[i] || sent[i] != rounds || cred.CloneWarning {
				t.Errorf("key %d: stored counter %d (clone warning %v), highest sent %d; want both %d, no warning",
					i, cred.SignCount, cred.CloneWarning, sent[i], rounds)
			}
		}
	})

	// One counting key from 20 browsers at once: assertions are signed in
	// one order and arrive in another, so some are legitimately refused as
	// possible clones (403), or as having lost the race for the counter
	// they were checked against (401), never with a 5xx. Whatever
	// succeeded, the stored counter is the highest counter of a successful
	// sign-in: no lost update.
	t.Run("OneCountingCredential", func(t *testing.T) {
		key := softauthn.New("localhost", origin)
		key.Counting, key.BackupEligible, key.BackupState = true, false, false
		want200(t, "register", newBrowser().register(t, a, b, key, "counting@example.com"))
		const n = 20
		statuses := make([]int, n)
		counters := make([]uint32, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var assertion []byte
				var res *softauthn.Response
				assertion, res, errs[i] = newBrowser().trySignIn(ctx, instances[i%2], instances[(i+1)%2], key)
				if res != nil {
					statuses[i] = res.Status
				}
				if assertion != nil {
					counters[i] = signCountOf(t, assertion)
				}
			})
		}
		wg.Wait()
		var highest uint32
		ok, refused, raced := 0, 0, 0
		for i := range n {
			switch {
			case errs[i] != nil:
				t.Errorf("sign-in %d: %v", i, errs[i])
			case statuses[i] == http.StatusOK:
				ok++
				highest = max(highest, counters[i])
			case statuses[i] == http.StatusForbidden:
				refused++
			case statuses[i] == http.StatusUnauthorized:
				raced++
			default:
				t.Errorf("sign-in %d: status %d, want 200, 403 (possible clone) or 401 (counter race lost)", i, statuses[i])
			}
		}
		cred, _, err := store.FindCredential(ctx, key.Credentials()[0].ID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		t.Logf("%d sign-ins succeeded, %d refused as possible clones, %d lost the counter race; highest successful counter %d, stored %d",
			ok, refused, raced, highest, cred.SignCount)
		if ok == 0 {
			t.Fatal("no sign-in succeeded")
		}
		if cred.SignCount != highest {
			t.Errorf("stored counter %d, want %d: the highest of a successful sign-in", cred.SignCount, highest)
		}
		if got := refused > 0; cred.CloneWarning != got {
			t.Errorf("clone warning %v after %d refused sign-ins", cred.CloneWarning, refused)
		}
	})
}

// TestSameCredentialTwice: one passkey (same credential ID and key) in two
// sign-ups verified at once, one on each instance: exactly one account is
// made, the other sign-up gets 409, and there is one credential row.
func TestSameCredentialTwice(t *testing.T) {
	a, b, store := twoInstances(t)
	ctx := t.Context()
	for round := range 5 {
		vc := newEC2Credential()
		emails := []string{fmt.Sprintf("first%d@example.com", round), fmt.Sprintf("second%d@example.com", round)}
		browsers := []*browser{newBrowser(), newBrowser()}
		atts := make([][]byte, 2)
		for i, in := range []*instance{a, b} {
			atts[i] = attestation(t, browsers[i].options(t, in, "registration", emails[i]), vc)
		}
		statuses := make([]int, 2)
		bodies := make([]string, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, in := range []*instance{b, a} { // each verified on the other instance
			wg.Go(func() {
				<-start
				res, err := browsers[i].at(in).Do(ctx, http.MethodPost, "/api/passkeys/verify-registration", atts[i])
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				statuses[i], bodies[i] = res.Status, string(res.Body)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, st := range statuses {
			if st == http.StatusOK {
				winner = i
			}
		}
		if winner < 0 || statuses[1-winner] != http.StatusConflict {
			t.Fatalf("round %d: answers %d %s / %d %s; want one 200 and one 409", round, statuses[0], bodies[0], statuses[1], bodies[1])
		}
		if !strings.Contains(bodies[1-winner], "already registered") {
			t.Errorf("round %d: the 409 says %s; want it to say the passkey is registered already", round, bodies[1-winner])
		}
		_, owner, err := store.FindCredential(ctx, vc.ID)
		if err != nil {
			t.Fatalf("round %d: FindCredential: %v", round, err)
		}
		if owner.Email != emails[winner] {
			t.Errorf("round %d: the passkey belongs to %s, want %s", round, owner.Email, emails[winner])
		}
		_, err = store.FindUserByEmail(ctx, emails[1-winner])
		if passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			t.Errorf("round %d: the losing sign-up made an account (%v)", round, err)
		}
	}
	var n int
	if err := sqlstore.DB(store).QueryRowContext(ctx, `SELECT COUNT(*) FROM credentials`).Scan(&n); err != nil || n != 5 {
		t.Errorf("%d credential rows, %v; want 5, one per round", n, err)
	}
}

// attestation answers creation options with a RegistrationResponseJSON
// for the existing credential vc, as softauthn.Authenticator.Create does
// for a new one.
func attestation(t *testing.T, optionsJSON []byte, vc virtualwebauthn.Credential) []byte {
	t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(optionsJSON))
	if err != nil {
		t.Fatalf("parse creation options: %v", err)
	}
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{
		UserHandle: []byte(opts.UserID), BackupEligible: true, BackupState: true,
	})
	var m map[string]any
	if err := json.Unmarshal([]byte(virtualwebauthn.CreateAttestationResponse(virtualwebauthn.RelyingParty{ID: "localhost", Name: "localhost", Origin: origin}, auth, vc, *opts)), &m); err != nil {
		t.Fatal(err)
	}
	m["authenticatorAttachment"] = "platform"
	m["clientExtensionResults"] = map[string]any{}
	if r, ok := m["response"].(map[string]any); ok {
		r["transports"] = []string{"internal", "hybrid"}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newEC2Credential is softauthn's work-around for virtualwebauthn keys
// with short coordinates, which go-webauthn rejects.
func newEC2Credential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k := c.Key.AttestationData()
		if bytes.Contains(k, []byte{0x21, 0x58, 0x20}) && bytes.Contains(k, []byte{0x22, 0x58, 0x20}) {
			return c
		}
	}
}

func countEvents(t *testing.T, store passkeyd.Store, userID, typ string) int {
	t.Helper()
	events, err := store.ListEvents(t.Context(), userID, 0, 10000)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}
