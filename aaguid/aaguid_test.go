package aaguid

import (
	"testing"

	"github.com/google/uuid"
)

func TestName(t *testing.T) {
	for id, want := range map[string]string{
		"ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
		"08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
		"bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
		"00000000-0000-0000-0000-000000000000": "",
		"11111111-2222-3333-4444-555555555555": "",
	} {
		u := uuid.MustParse(id)
		if got := Name(u[:]); got != want {
			t.Errorf("Name(%s) = %q, want %q", id, got, want)
		}
	}
	if got := Name([]byte{1, 2}); got != "" {
		t.Errorf("short AAGUID named %q", got)
	}
	if n := len(table()); n < 200 {
		t.Errorf("table has %d entries; the generator's source has about 300", n)
	}
}

func TestGuess(t *testing.T) {
	zero := make([]byte, 16)
	safari := "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
	cases := []struct {
		name string
		h    Hint
		want string
	}{
		{"Apple", Hint{Transports: []string{"internal", "hybrid"}, Attachment: "platform", BackupEligible: true, UserAgent: safari}, "iCloud Keychain"},
		{"Key", Hint{Transports: []string{"usb", "nfc"}, Attachment: "cross-platform"}, "Security key"},
		{"Phone", Hint{Transports: []string{"hybrid"}, Attachment: "cross-platform"}, "Phone or tablet"},
		{"Unknown", Hint{Transports: []string{"internal"}, Attachment: "platform", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)"}, ""},
	}
	for _, c := range cases {
		if got := Guess(zero, c.h); got != c.want {
			t.Errorf("%s: Guess = %q, want %q", c.name, got, c.want)
		}
	}
	gpm := uuid.MustParse("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")
	if got := Guess(gpm[:], Hint{UserAgent: safari}); got != "Google Password Manager" {
		t.Errorf("a known AAGUID beats the hint: %q", got)
	}
}
