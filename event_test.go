package passkeyd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
)

// TestNewEvent: the one constructor of security-log entries keeps what it
// is given and bounds the client-chosen User-Agent.
func TestNewEvent(t *testing.T) {
	at := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	ev := passkeyd.NewEvent(at, passkeyd.Actor{IP: "203.0.113.7", UserAgent: strings.Repeat("x", 1000)},
		"u1", passkeyd.EventPasskeyRenamed, "c1", "renamed to Work")
	want := passkeyd.Event{UserID: "u1", Type: passkeyd.EventPasskeyRenamed, CredentialID: "c1", IP: "203.0.113.7",
		UserAgent: strings.Repeat("x", 256), Detail: "renamed to Work", CreatedAt: at}
	if *ev != want {
		t.Fatalf("NewEvent = %+v, want %+v", *ev, want)
	}
	if op := passkeyd.NewEvent(at, passkeyd.Actor{}, "u1", passkeyd.EventRecoveryLinkIssued, "", "by an operator"); op.IP != "" || op.UserAgent != "" {
		t.Fatalf("operator event has a client: %+v", op)
	}
}
