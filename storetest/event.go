package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/passkeyd/passkeyd"
)

func testEvent(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("Paging", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, _ := mustCreateUser(t, s, "alice@example.com")
		bob, _ := mustCreateUser(t, s, "bob@example.com")
		first, err := s.ListEvents(ctx, alice.ID, 0, 10)
		if err != nil || len(first) != 1 {
			t.Fatalf("ListEvents before recording = %d events, %v; want 1 (user_created)", len(first), err)
		}
		recorded := []*passkeyd.Event{first[0]}
		for i := range 24 {
			e := &passkeyd.Event{
				UserID:       alice.ID,
				Type:         passkeyd.EventLoginFailed,
				CredentialID: randomID("pk"),
				IP:           fmt.Sprintf("2001:db8::%d", i),
				UserAgent:    "storetest",
				Detail:       fmt.Sprintf("attempt %d", i),
				CreatedAt:    t0.Add(time.Duration(i) * time.Second),
			}
			if err := s.RecordEvent(ctx, e); err != nil {
				t.Fatalf("RecordEvent: %v", err)
			}
			recorded = append(recorded, e)
			// Bob's events interleave and never show in Alice's log.
			if err := s.RecordEvent(ctx, &passkeyd.Event{UserID: bob.ID, Type: passkeyd.EventLogout, CreatedAt: t0}); err != nil {
				t.Fatalf("RecordEvent: %v", err)
			}
		}

		var all []*passkeyd.Event
		var before int64
		for _, want := range []int{10, 10, 5, 0} {
			page, err := s.ListEvents(ctx, alice.ID, before, 10)
			if err != nil {
				t.Fatalf("ListEvents(before %d): %v", before, err)
			}
			if len(page) != want {
				t.Fatalf("ListEvents(before %d) = %d events, want %d", before, len(page), want)
			}
			for _, e := range page {
				if before != 0 && e.ID >= before {
					t.Fatalf("ListEvents(before %d) returned event %d", before, e.ID)
				}
				if len(all) > 0 && e.ID >= all[len(all)-1].ID {
					t.Fatalf("event %d after event %d: want newest (highest ID) first", e.ID, all[len(all)-1].ID)
				}
				all = append(all, e)
				before = e.ID
			}
		}
		var want []*passkeyd.Event
		for i := len(recorded) - 1; i >= 0; i-- {
			want = append(want, recorded[i])
		}
		if diff := cmp.Diff(want, all, cmpopts.IgnoreFields(passkeyd.Event{}, "ID")); diff != "" {
			t.Errorf("all pages, newest first (-want +got):\n%s", diff)
		}

		few, err := s.ListEvents(ctx, alice.ID, 0, 3)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		if diff := cmp.Diff(want[:3], few, cmpopts.IgnoreFields(passkeyd.Event{}, "ID")); diff != "" {
			t.Errorf("ListEvents limit 3 (-want +got):\n%s", diff)
		}
	})

	t.Run("UnknownUser", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, "alice@example.com")
		events, err := s.ListEvents(t.Context(), randomID("usr"), 0, 10)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		if len(events) != 0 {
			t.Errorf("ListEvents(unknown user) = %d events, want none", len(events))
		}
	})
}
