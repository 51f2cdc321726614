package emailtext

import (
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	texts, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	d := Data{Site: "Example", To: "new@example.com", OldAddress: "old@example.com", Link: "https://example.com/x?token=T",
		Valid: "15 minutes", Detail: "iCloud Keychain", Created: "30 Nov 2026", Dashboard: "https://example.com/dashboard", Recover: "https://example.com/recover"}
	tests := []struct {
		kind, subject string
		text          []string
	}{
		{VerifyEmail, "Confirm your email address for Example", []string{"Confirm that new@example.com is your address", "(valid for 15 minutes)", "\n\nhttps://example.com/x?token=T\n\n", "Confirm only if you created this account at Example yourself, on 30 Nov 2026.", "Lost your passkey?"}},
		{Recovery, "Get back into your Example account", []string{"the account of new@example.com.", "once, for 15 minutes", "https://example.com/x?token=T"}},
		{ChangeEmail, "Confirm your new email address for Example", []string{"The account of old@example.com at Example asked to use new@example.com", "https://example.com/x?token=T"}},
		{PasskeyAdded, "A passkey was added to your account (Example)", []string{`A new passkey ("iCloud Keychain") was added`}},
		{PasskeyDeleted, "A passkey was removed from your account (Example)", []string{`"iCloud Keychain" was removed`}},
		{RecoveryUsed, "Your account was recovered (Example)", []string{"with iCloud Keychain. Every other"}},
		{CloneWarning, "A possibly copied passkey was refused (Example)", []string{`passkey "iCloud Keychain" was refused`}},
		{EmailChangedNotice, "Your account's email address was changed (Example)", []string{"changed to iCloud Keychain."}},
		{SignUp, "Create your Example account", []string{"at Example with new@example.com.", "once, for 15 minutes", "\n\nhttps://example.com/x?token=T\n\n", "no account is made without the link"}},
		{SignUpExisting, "Someone tried to sign up at Example with your address", []string{"at Example with new@example.com.", "already has an account", "\n\nhttps://example.com/x?token=T\n\n", "\n\nhttps://example.com/recover\n\n"}},
		{Takeover, "Get back into your Example account", []string{"the account of new@example.com.", "created on 30 Nov 2026", "once, for 15 minutes", "\n\nhttps://example.com/x?token=T\n\n", "removes every passkey"}},
		{EmailChangeRequested, "Someone asked to change your account's email address (Example)", []string{"change its email address to iCloud Keychain.", "cancel the change now (this link works once, for 15 minutes)", "\n\nhttps://example.com/x?token=T\n"}},
		{RecoveryCodesGenerated, "New recovery codes were created for your account (Example)", []string{"The old codes no longer work."}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			subject, text, err := texts.Render(tt.kind, d)
			if err != nil {
				t.Fatal(err)
			}
			if subject != tt.subject {
				t.Errorf("subject %q, want %q", subject, tt.subject)
			}
			if !strings.HasPrefix(text, "Hello,\n\n") || !strings.HasSuffix(text, "\n") || strings.HasSuffix(text, "\n\n") {
				t.Errorf("text does not start with the greeting or end with one newline: %q", text)
			}
			for _, want := range tt.text {
				if !strings.Contains(text, want) {
					t.Errorf("text %q does not contain %q", text, want)
				}
			}
			if notice := tt.kind != VerifyEmail && tt.kind != Recovery && tt.kind != ChangeEmail && tt.kind != SignUp && tt.kind != SignUpExisting && tt.kind != Takeover; notice &&
				!strings.HasSuffix(text, ".\n\nIf this was not you, review your passkeys and sessions at once:\n\nhttps://example.com/dashboard\n") {
				t.Errorf("notice does not end with the footer: %q", text)
			}
		})
	}
	// With the OpenID Connect provider on, the recovery emails say that
	// apps are disconnected; without it they do not mention apps.
	for _, kind := range []string{Recovery, Takeover, RecoveryUsed} {
		for _, apps := range []bool{false, true} {
			withApps := d
			withApps.Apps = apps
			_, text, err := texts.Render(kind, withApps)
			if err != nil {
				t.Fatal(err)
			}
			const want = "every app that sign"
			if got := strings.Contains(strings.ToLower(text), want); got != apps {
				t.Errorf("%s with Apps %v: mentions disconnected apps %v:\n%s", kind, apps, got, text)
			}
			if strings.Contains(text, "\n\n\n") || strings.HasSuffix(text, "\n\n") {
				t.Errorf("%s with Apps %v: blank lines out of place:\n%q", kind, apps, text)
			}
		}
	}
	if _, _, err := texts.Render("nonsense", d); err == nil {
		t.Error("an unknown kind rendered")
	}
}

func TestDateAndDuration(t *testing.T) {
	if got, want := Date(time.Date(2026, 11, 30, 23, 0, 0, 0, time.FixedZone("", -3600))), "1 Dec 2026"; got != want {
		t.Errorf("Date = %q, want %q (UTC)", got, want)
	}
	for d, want := range map[time.Duration]string{15 * time.Minute: "15 minutes", time.Hour: "1 hour", 24 * time.Hour: "24 hours", 90 * time.Minute: "90 minutes"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}
