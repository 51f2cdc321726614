package web

import (
	"errors"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/passkeyd/passkeyd"
)

// protocolDetail returns go-webauthn's reason for a failure, for the logs.
func protocolDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			return pe.Type + ": " + pe.Details + ": " + pe.DevInfo
		}
		return pe.Type + ": " + pe.Details
	}
	return err.Error()
}

// parseError explains a response that could not even be parsed.
func parseError(err error) error {
	return passkeyd.WrapError(passkeyd.EINVALID,
		"The passkey response is malformed: "+publicDetail(err), err)
}

// publicDetail is the part of a parse error that is safe and useful to show:
// the library's short description, never its internal information.
func publicDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details + "."
	}
	return "it could not be read."
}
