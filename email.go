package passkeyd

// Email is one plain-text message to one user: an address to confirm, a
// recovery link, a security notice.
type Email struct {
	To      string // one address
	Subject string
	Text    string // body, plain text (UTF-8); links on their own lines
	Kind    string // for metrics and logs: "verify_email", "recovery", "change_email", "email_changed_notice", "passkey_added", "passkey_deleted", "recovery_used", "clone_warning"
}

// Mailer queues email (package mail's Queue is one). Enqueue must not
// block, so that a request takes the same time whether or not a message
// goes out; it reports whether the message was taken.
type Mailer interface {
	Enqueue(Email) bool
}
