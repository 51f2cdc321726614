package passkeyd

import (
	"fmt"
	"strings"
)

// ConfigError is a problem a library's Config check found (web.Config,
// oidc.Config). Its message names Config fields; a program with its own
// names for them (cmd/passkeyd's environment variables) writes it with
// Format.
type ConfigError struct {
	// Fields are the fields the message names, the one at fault first.
	Fields []string
	// text is the message, each field written as {Field}.
	text string
}

// NewConfigError makes a ConfigError whose message (format, args) writes
// each of fields as {Field}.
func NewConfigError(fields []string, format string, args ...any) *ConfigError {
	return &ConfigError{Fields: fields, text: fmt.Sprintf(format, args...)}
}

// Error names the fields as Config spells them.
func (e *ConfigError) Error() string { return e.Format(func(f string) string { return f }) }

// Format writes the message with each field called name(field).
func (e *ConfigError) Format(name func(field string) string) string {
	s := e.text
	for _, f := range e.Fields {
		s = strings.ReplaceAll(s, "{"+f+"}", name(f))
	}
	return s
}
