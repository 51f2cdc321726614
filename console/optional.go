package console

import "time"

// optionalTime is a time for JSON: absent (omitempty with a pointer) when
// zero, as "lastUsedAt" and "lastSignInAt" are.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
