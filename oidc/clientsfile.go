package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/passkeyd/passkeyd"
)

// ClientSpec is one client as an operator writes it in OIDC_CLIENTS_FILE
// (JSON):
//
//	{"clients": [{
//	  "id": "grafana", "name": "Grafana",
//	  "secret_file": "/run/secrets/grafana-oidc",
//	  "redirect_uris": ["https://grafana.example.com/login/generic_oauth"],
//	  "post_logout_redirect_uris": ["https://grafana.example.com/login"],
//	  "scopes": ["openid", "email", "profile", "offline_access"],
//	  "trusted": true, "allowed_users": ["@example.com"], "allowed_groups": ["ops"]
//	}]}
type ClientSpec struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name"`
	Public                 bool     `json:"public,omitempty"`
	Secret                 string   `json:"secret,omitempty"`      // at least MinSecretLength characters
	SecretFile             string   `json:"secret_file,omitempty"` // or read from this file
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Scopes                 []string `json:"scopes,omitempty"`
	IDTokenAlg             string   `json:"id_token_alg,omitempty"`
	AccessTokenTTL         string   `json:"access_token_ttl,omitempty"` // a Go duration: "10m"
	IDTokenTTL             string   `json:"id_token_ttl,omitempty"`
	RefreshTokenTTL        string   `json:"refresh_token_ttl,omitempty"`
	Trusted                bool     `json:"trusted,omitempty"`
	AllowedUsers           []string `json:"allowed_users,omitempty"`
	// AllowedGroups: members of these groups may sign in too (beside
	// AllowedUsers). The file declares them: a group it names that does
	// not exist is created, empty, at start (EnsureGroups).
	AllowedGroups []string `json:"allowed_groups,omitempty"`
	// AllowUnverifiedEmail lets accounts whose address is not confirmed
	// sign in (passkeyd.OIDCClient.AllowUnverifiedEmail).
	AllowUnverifiedEmail bool `json:"allow_unverified_email,omitempty"`
}

// LoadClientsFile reads and checks OIDC_CLIENTS_FILE. Unknown fields are
// refused, so a misspelt setting is not silently ignored. A file that
// holds a client secret, inline or as a secret_file, is refused when
// others than its owner may read it (see secretFileMode).
func LoadClientsFile(path string) ([]*passkeyd.OIDCClient, error) {
	b, mode, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("OIDC_CLIENTS_FILE: %w", err)
	}
	var file struct {
		Clients []ClientSpec `json:"clients"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("OIDC_CLIENTS_FILE %s: %w", path, err)
	}
	for _, spec := range file.Clients {
		if spec.Secret != "" {
			if err := secretFileMode(mode); err != nil {
				return nil, fmt.Errorf("OIDC_CLIENTS_FILE %s holds the secret of client %s, but %w", path, spec.ID, err)
			}
		}
	}
	seen := map[string]bool{}
	var clients []*passkeyd.OIDCClient
	for i, spec := range file.Clients {
		c, err := spec.client()
		if err != nil {
			return nil, fmt.Errorf("OIDC_CLIENTS_FILE %s: client %d: %s", path, i+1, passkeyd.ErrorMessage(err))
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("OIDC_CLIENTS_FILE %s: client ID %q appears twice", path, c.ID)
		}
		seen[c.ID] = true
		clients = append(clients, c)
	}
	return clients, nil
}

func (spec ClientSpec) client() (*passkeyd.OIDCClient, error) {
	c := &passkeyd.OIDCClient{
		ID: spec.ID, Name: spec.Name, Public: spec.Public, RedirectURIs: spec.RedirectURIs,
		PostLogoutRedirectURIs: spec.PostLogoutRedirectURIs, Scopes: spec.Scopes, IDTokenAlg: spec.IDTokenAlg,
		Trusted: spec.Trusted, AllowedUsers: spec.AllowedUsers, AllowedGroups: spec.AllowedGroups, AllowUnverifiedEmail: spec.AllowUnverifiedEmail,
	}
	secret := spec.Secret
	if spec.SecretFile != "" {
		b, mode, err := readFile(spec.SecretFile)
		if err != nil {
			return nil, passkeyd.WrapError(passkeyd.EINVALID, fmt.Sprintf("Client %s: cannot read secret_file.", spec.ID), err)
		}
		if err := secretFileMode(mode); err != nil {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "Client %s: secret_file %s: %s", spec.ID, spec.SecretFile, err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret != "" {
		if len(secret) < MinSecretLength {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "Client %s: the secret must be at least %d characters.", spec.ID, MinSecretLength)
		}
		c.SecretHash = HashSecret(secret)
	}
	for _, d := range []struct {
		in  string
		out *time.Duration
	}{{spec.AccessTokenTTL, &c.AccessTokenTTL}, {spec.IDTokenTTL, &c.IDTokenTTL}, {spec.RefreshTokenTTL, &c.RefreshTokenTTL}} {
		if d.in == "" {
			continue
		}
		v, err := time.ParseDuration(d.in)
		if err != nil {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "Client %s: %q is not a duration like 10m or 720h.", spec.ID, d.in)
		}
		*d.out = v
	}
	return c, ValidateClient(c)
}

// readFile returns a file's content and its permissions, of the file it
// read (not of a name that may have been replaced meanwhile).
func readFile(path string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	b, err := io.ReadAll(f)
	return b, info.Mode().Perm(), err
}

// secretFileMode refuses a file holding a client secret that its group or
// other users may read, as ssh refuses such a private key: whoever reads
// the secret can act as the app, and a start that only warned would go on
// unnoticed in a log. Windows has no such mode bits (Go reports 0666 for
// every file), so the check is for Unix only.
func secretFileMode(mode fs.FileMode) error {
	if runtime.GOOS == "windows" || mode&0o044 == 0 {
		return nil
	}
	return fmt.Errorf("it is readable by other users than its owner (mode %#o): make it readable by passkeyd's user only (chmod 600)", mode)
}

// GroupMaker is what EnsureGroups needs of the store
// (passkeyd.ConsoleStore has it).
type GroupMaker interface {
	FindGroup(ctx context.Context, idOrName string) (*passkeyd.Group, error)
	CreateGroup(ctx context.Context, g *passkeyd.Group, ev *passkeyd.Event) error
}

// EnsureGroups creates each group the clients admit (AllowedGroups) that
// does not exist yet, empty, and returns the names it created. The clients
// file is declarative, like the clients it declares: a start that refused
// until someone ran passkeyd groups add would only add a step, and an
// empty group admits nobody, so a misspelt name locks the app, never opens
// it. Run it before ApplyClients, which refuses unknown groups.
func EnsureGroups(ctx context.Context, store GroupMaker, clients []*passkeyd.OIDCClient, now time.Time) ([]string, error) {
	var created []string
	for _, c := range clients {
		for _, name := range c.AllowedGroups {
			_, err := store.FindGroup(ctx, name)
			if err == nil {
				continue
			}
			if passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
				return created, fmt.Errorf("find group %s: %w", name, err)
			}
			g := &passkeyd.Group{ID: uuid.NewString(), Name: name, CreatedAt: now, UpdatedAt: now}
			ev := passkeyd.NewEvent(now, passkeyd.Actor{}, "", passkeyd.EventGroupCreated, "", "group "+name+" created for client "+c.ID+" (OIDC_CLIENTS_FILE)")
			ev.ClientID = c.ID
			if err := store.CreateGroup(ctx, g, ev); err != nil {
				return created, fmt.Errorf("create group %s of client %s: %w", name, c.ID, err)
			}
			created = append(created, name)
		}
	}
	return created, nil
}

// ApplyClients creates or updates each client, marked Declared, so
// applying one file twice changes nothing. Clients missing from the file are left alone (delete
// them with passkeyd clients delete). A client it creates or changes gets
// its event (app_created, app_updated, app_secret_rotated) in the audit
// log, written with the change; one already stored as the file declares
// it gets none, so that a start that changes nothing logs nothing.
func ApplyClients(ctx context.Context, store passkeyd.OIDCStore, clients []*passkeyd.OIDCClient, now time.Time) error {
	for _, c := range clients {
		c.CreatedAt, c.UpdatedAt = now, now
		c.Declared = true // the console shows it read-only: the file would undo a change at the next start
		ev, err := declaredClientEvent(ctx, store, c, now)
		if err != nil {
			return fmt.Errorf("find client %s: %w", c.ID, err)
		}
		if err := store.SaveOIDCClient(ctx, c, ev); err != nil {
			return fmt.Errorf("save client %s: %w", c.ID, err)
		}
	}
	return nil
}

// declaredClientEvent is the event of applying the file's client c: nil
// when the stored client has c's settings already.
func declaredClientEvent(ctx context.Context, store passkeyd.OIDCStore, c *passkeyd.OIDCClient, now time.Time) (*passkeyd.Event, error) {
	typ, detail := passkeyd.EventAppCreated, "app "+c.Name+" created"
	stored, err := store.FindOIDCClient(ctx, c.ID)
	switch {
	case passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND:
	case err != nil:
		return nil, err
	default:
		newSecret := stored.SecretHash != c.SecretHash
		switch sameSettings := reflect.DeepEqual(clientSettings(stored), clientSettings(c)); {
		case sameSettings && !newSecret:
			return nil, nil
		case sameSettings:
			typ, detail = passkeyd.EventAppSecretRotated, "secret of "+c.Name+" rotated"
		case newSecret:
			typ, detail = passkeyd.EventAppUpdated, "app "+c.Name+" updated, with a new secret"
		default:
			typ, detail = passkeyd.EventAppUpdated, "app "+c.Name+" updated"
		}
	}
	ev := passkeyd.NewEvent(now, passkeyd.Actor{}, "", typ, "", detail+" (OIDC_CLIENTS_FILE)")
	ev.ClientID = c.ID
	return ev, nil
}

// clientSettings is a copy of c with its settings only, for comparing: no
// times, no secret (compared on its own), empty lists as nil, and the
// allowed groups as the store resolves them (without regard to case, each
// once, in order). Every other field is kept, so a setting added to
// OIDCClient is compared too.
func clientSettings(c *passkeyd.OIDCClient) passkeyd.OIDCClient {
	s := *c
	s.CreatedAt, s.UpdatedAt, s.LastUsedAt = time.Time{}, time.Time{}, time.Time{}
	s.SecretHash = ""
	for _, list := range []*[]string{&s.RedirectURIs, &s.PostLogoutRedirectURIs, &s.Scopes, &s.AllowedUsers, &s.AllowedGroups} {
		if len(*list) == 0 {
			*list = nil
		}
	}
	if s.AllowedGroups != nil {
		groups := make([]string, len(s.AllowedGroups))
		for i, g := range s.AllowedGroups {
			groups[i] = strings.ToLower(g)
		}
		slices.Sort(groups)
		s.AllowedGroups = slices.Compact(groups)
	}
	return s
}
