package console

import (
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/apikey"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

type apiKeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedBy  string     `json:"createdBy"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

func toAPIKey(k *passkeyd.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, LastUsedAt: optionalTime(k.LastUsedAt)}
}

func (c *Console) handleAPIKeys(w http.ResponseWriter, r *http.Request, _ *caller) error {
	keys, err := c.store.ListAPIKeys(r.Context())
	if err != nil {
		return err
	}
	res := struct {
		Keys []apiKeyJSON `json:"keys"`
	}{Keys: []apiKeyJSON{}}
	for _, k := range keys {
		res.Keys = append(res.Keys, toAPIKey(k))
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

// maxKeyName bounds an API key's name: it says what uses the key.
const maxKeyName = 64

// validateKeyName checks an API key's name and returns it trimmed: 1 to
// 64 printable characters (it appears in logs and events).
func validateKeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxKeyName || strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return "", passkeyd.Errorf(passkeyd.EINVALID, "Name the key for what uses it: 1 to %d printable characters.", maxKeyName)
	}
	return name, nil
}

// handleCreateAPIKey makes a key and shows it once: only its hash is kept.
func (c *Console) handleCreateAPIKey(w http.ResponseWriter, r *http.Request, who *caller) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := httpjson.DecodeStrict(w, r, &req); err != nil {
		return err
	}
	name, err := validateKeyName(req.Name)
	if err != nil {
		return err
	}
	secret, hash := apikey.New()
	k := &passkeyd.APIKey{ID: uuid.NewString(), Name: name, Hash: hash, CreatedBy: who.adminName(), CreatedByID: who.keyOwner(), CreatedAt: c.now()}
	if err := c.store.CreateAPIKey(r.Context(), k, c.event(r, who, "", passkeyd.EventAPIKeyCreated, "API key "+name+" created")); err != nil {
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			return passkeyd.Errorf(passkeyd.ECONFLICT, "An API key named %s exists already.", name)
		}
		return err
	}
	httpjson.Write(w, http.StatusCreated, struct {
		Key    apiKeyJSON `json:"key"`
		Secret string     `json:"secret"`
	}{toAPIKey(k), secret})
	return nil
}

func (c *Console) handleRevokeAPIKey(w http.ResponseWriter, r *http.Request, who *caller) error {
	id := r.PathValue("id")
	keys, err := c.store.ListAPIKeys(r.Context())
	if err != nil {
		return err
	}
	name := id
	for _, k := range keys {
		if k.ID == id {
			name = k.Name
		}
	}
	if err := c.store.RevokeAPIKey(r.Context(), id, c.event(r, who, "", passkeyd.EventAPIKeyRevoked, "API key "+name+" revoked")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
