package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
)

// benchUsers is how many accounts the look-ups search among.
const benchUsers = 2_000

// RunBenchmarks times the store operations of a ceremony alone, on a
// store holding benchUsers accounts. The sqlite and postgres packages'
// BenchmarkStore run it on their databases.
func RunBenchmarks(b *testing.B, s passkeyd.Store) {
	ctx := b.Context()
	now := time.Now()
	users := make([]*passkeyd.User, benchUsers)
	creds := make([]*passkeyd.Credential, benchUsers)
	for i := range users {
		users[i], creds[i] = benchAccount(fmt.Sprintf("user%d@example.com", i), now)
		if err := s.CreateUser(ctx, users[i], creds[i], nil); err != nil {
			b.Fatalf("CreateUser: %v", err)
		}
	}
	// Every user has a session, as after a sign-in.
	sessions := make([]string, benchUsers)
	for i, u := range users {
		sessions[i] = "sess_" + rand.Text()
		if err := s.CompleteSignIn(ctx, benchSignIn(u, creds[i], sessions[i], "", now)); err != nil {
			b.Fatalf("CompleteSignIn: %v", err)
		}
	}

	b.Run("CreateUser", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			u, c := benchAccount(fmt.Sprintf("new%d-%s@example.com", i, rand.Text()), now)
			ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventPasskeyAdded, CredentialID: c.ID, IP: "127.0.0.1", UserAgent: "bench", CreatedAt: now}
			if err := s.CreateUser(ctx, u, c, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindUserByEmail", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := s.FindUserByEmail(ctx, users[i%len(users)].Email); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FindCredential", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, _, err := s.FindCredential(ctx, creds[i%len(creds)].CredentialID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CompleteSignIn", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := i % len(users)
			i++
			id := "sess_" + rand.Text()
			if err := s.CompleteSignIn(ctx, benchSignIn(users[k], creds[k], id, sessions[k], now)); err != nil {
				b.Fatal(err)
			}
			sessions[k] = id
		}
	})
	b.Run("FindSession", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, _, err := s.FindSession(ctx, sessions[i%len(sessions)], now); err != nil {
				b.Fatal(err)
			}
		}
	})
	// SignIn is every store call of one sign-in ceremony, in the order the
	// handlers make them: the options request makes none (the ceremony is
	// sealed into a cookie), the verify request reads the passkey and
	// writes the sign-in, its used challenge included, in one transaction.
	b.Run("SignIn", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := i % len(users)
			i++
			if _, _, err := s.FindCredential(ctx, creds[k].CredentialID); err != nil {
				b.Fatal(err)
			}
			id := "sess_" + rand.Text()
			if err := s.CompleteSignIn(ctx, benchSignIn(users[k], creds[k], id, sessions[k], now)); err != nil {
				b.Fatal(err)
			}
			sessions[k] = id
		}
	})
	// The same, from 16 goroutines per GOMAXPROCS (-cpu; 32 on 2 cores, as
	// the load tool's concurrency 32), each with its own users: how the
	// store holds up under concurrent ceremonies.
	b.Run("SignInParallel", func(b *testing.B) {
		b.ReportAllocs()
		var next chanCounter = make(chan int, 1)
		next <- 0
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := next.take() % len(users)
				u, c := users[k], creds[k]
				if _, _, err := s.FindCredential(ctx, c.CredentialID); err != nil {
					b.Error(err)
					return
				}
				if err := s.CompleteSignIn(ctx, benchSignIn(u, c, "sess_"+rand.Text(), "", now)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	if _, err := s.DeleteExpired(context.Background(), now.Add(365*24*time.Hour)); err != nil {
		b.Fatal(err)
	}
}

// chanCounter hands out increasing numbers to parallel benchmark loops.
type chanCounter chan int

func (c chanCounter) take() int {
	n := <-c
	c <- n + 1
	return n
}

// benchAccount returns a user and a passkey of realistic sizes: a 32-byte
// handle, a 16-byte credential ID and a 77-byte COSE P-256 key.
func benchAccount(email string, now time.Time) (*passkeyd.User, *passkeyd.Credential) {
	u := &passkeyd.User{ID: "usr_" + rand.Text(), Email: email, DisplayName: email, Handle: []byte(rand.Text()[:26] + "handle"),
		CreatedAt: now, UpdatedAt: now}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	c := &passkeyd.Credential{ID: "pk_" + rand.Text(), UserID: u.ID, CredentialID: id, PublicKey: bytes.Repeat([]byte{0xa5}, 77),
		Transports: []string{"internal", "hybrid"}, AAGUID: make([]byte, 16), AttestationFormat: "none", AttestationType: "none",
		BackupEligible: true, BackupState: true, UserVerified: true, Attachment: "platform", Name: "Passkey", CreatedAt: now, UpdatedAt: now}
	return u, c
}

func benchSignIn(u *passkeyd.User, c *passkeyd.Credential, session, replaces string, now time.Time) *passkeyd.SignIn {
	return &passkeyd.SignIn{
		Challenge: passkeyd.UsedChallenge{ID: rand.Text() + rand.Text(), ExpiresAt: now.Add(15 * time.Minute)},
		Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, BackupEligible: true, BackupState: true, UserVerified: true, UsedAt: now},
		Session: &passkeyd.Session{ID: session, UserID: u.ID, Scope: passkeyd.ScopeFull, CredentialID: c.ID, UserAgent: "Mozilla/5.0 (benchmark)",
			IP: "127.0.0.1", CreatedAt: now, LastSeenAt: now, AuthenticatedAt: now,
			IdleExpiresAt: now.Add(7 * 24 * time.Hour), ExpiresAt: now.Add(30 * 24 * time.Hour)},
		ReplacesSession: replaces,
		Events: []*passkeyd.Event{{UserID: u.ID, Type: passkeyd.EventLoginSucceeded, CredentialID: c.ID, IP: "127.0.0.1",
			UserAgent: "Mozilla/5.0 (benchmark)", CreatedAt: now}},
	}
}
