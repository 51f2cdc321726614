// Package emailtext holds the wording of every email passkeyd sends, as
// text/template files (templates/*.txt), one per kind of message. Each file
// defines its "subject" and, as its own body, the text; security notices
// end with the shared "footer" (notice_footer.txt).
package emailtext

import (
	"embed"
	"fmt"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.txt
var files embed.FS

// The kinds of email, also used as metric and log labels.
const (
	VerifyEmail        = "verify_email"         // confirm the address given at sign-up
	Recovery           = "recovery"             // a link to get back into the account
	ChangeEmail        = "change_email"         // to the new address: confirm it
	PasskeyAdded       = "passkey_added"        // notice
	PasskeyDeleted     = "passkey_deleted"      // notice
	RecoveryUsed       = "recovery_used"        // notice
	CloneWarning       = "clone_warning"        // notice
	EmailChangedNotice = "email_changed_notice" // notice, to the old address
	SignUp             = "sign_up"              // a link to create an account (email-first sign-up)
	SignUpExisting     = "sign_up_existing"     // someone tried to sign up with an address that has an account
	// Takeover: the recovery link of an account whose address was never
	// confirmed; using it makes the account the address owner's.
	Takeover = "takeover"
	// EmailChangeRequested: notice to the current address, with the link
	// that cancels the change.
	EmailChangeRequested   = "email_change_requested"
	RecoveryCodesGenerated = "recovery_codes_generated" // notice
)

var kinds = []string{VerifyEmail, Recovery, ChangeEmail, PasskeyAdded, PasskeyDeleted, RecoveryUsed, CloneWarning, EmailChangedNotice,
	SignUp, SignUpExisting, Takeover, EmailChangeRequested, RecoveryCodesGenerated}

// Data fills the templates. Each kind uses the fields its file names.
type Data struct {
	Site       string // the relying party's name
	To         string // the address the message goes to
	OldAddress string // change_email: the address in use until confirmed
	Link       string // the link with its token
	Valid      string // how long the link works, for people ("15 minutes")
	Detail     string // notices: the passkey name, how the account was recovered, the new address
	Created    string // verify_email, takeover: when the account was created, for people
	Dashboard  string // notices: where to review passkeys and sessions
	Recover    string // sign_up_existing: where to get back in without a passkey
	Apps       bool   // recovery, takeover, recovery_used: apps sign in with the account (OpenID Connect is on)
}

// Texts are the parsed templates.
type Texts struct {
	byKind map[string]*template.Template
}

// Load parses every template, so that a broken one fails at start.
func Load() (*Texts, error) {
	t := &Texts{byKind: map[string]*template.Template{}}
	for _, kind := range kinds {
		tmpl, err := template.New(kind+".txt").Option("missingkey=error").
			ParseFS(files, "templates/"+kind+".txt", "templates/notice_footer.txt")
		if err != nil {
			return nil, fmt.Errorf("email template %s: %w", kind, err)
		}
		if tmpl.Lookup("subject") == nil {
			return nil, fmt.Errorf("email template %s: no subject", kind)
		}
		t.byKind[kind] = tmpl
	}
	return t, nil
}

// Render returns the subject and text of one kind of email.
func (t *Texts) Render(kind string, d Data) (subject, text string, err error) {
	tmpl, ok := t.byKind[kind]
	if !ok {
		return "", "", fmt.Errorf("no email template %q", kind)
	}
	var s, b strings.Builder
	if err := tmpl.ExecuteTemplate(&s, "subject", d); err != nil {
		return "", "", err
	}
	if err := tmpl.Execute(&b, d); err != nil {
		return "", "", err
	}
	return s.String(), b.String(), nil
}

// Date writes a day for people, as the messages show it: "30 Nov 2026" (UTC).
func Date(t time.Time) string {
	return t.UTC().Format("2 Jan 2006")
}

// Duration writes a link's lifetime for people: "15 minutes", "24 hours".
func Duration(d time.Duration) string {
	switch m := int(d.Minutes()); {
	case m == 60:
		return "1 hour"
	case m > 60 && m%60 == 0:
		return fmt.Sprintf("%d hours", m/60)
	default:
		return fmt.Sprintf("%d minutes", m)
	}
}
