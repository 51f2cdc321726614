package web

import (
	"errors"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/ceremony"
)

// failureReason is the metrics label for a refused ceremony.
func failureReason(err error) string {
	var re *reasonError
	switch {
	case errors.As(err, &re):
		return re.reason
	case errors.Is(err, errNoCeremony):
		return "challenge"
	case errors.Is(err, errLoginFailed):
		return "verification"
	case errors.Is(err, ceremony.ErrCloned):
		return "clone_warning"
	case errors.Is(err, errEmailTaken):
		return "email_taken"
	}
	return passkeyd.ErrorCode(err)
}
