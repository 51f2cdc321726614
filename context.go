package passkeyd

import "context"

type contextKey int

const (
	userContextKey contextKey = iota
	sessionContextKey
)

// NewContextWithUser returns a copy of ctx that carries the signed-in user
// and their session.
func NewContextWithUser(ctx context.Context, u *User, s *Session) context.Context {
	ctx = context.WithValue(ctx, userContextKey, u)
	return context.WithValue(ctx, sessionContextKey, s)
}

// UserFromContext returns the signed-in user, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userContextKey).(*User)
	return u
}

// SessionFromContext returns the signed-in user's session, or nil.
func SessionFromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionContextKey).(*Session)
	return s
}
