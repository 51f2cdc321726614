package softauthn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
)

// Client is a scripted browser: a cookie jar, the page's origin, and the
// JSON API calls the page makes.
type Client struct {
	Base   string // server URL, e.g. http://127.0.0.1:8080
	Origin string // sent as Origin, as a browser would
	HTTP   *http.Client
}

// NewClient returns a client with its own cookie jar. transport may be nil.
func NewClient(base, origin string, transport http.RoundTripper) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{Base: strings.TrimSuffix(base, "/"), Origin: origin,
		HTTP: &http.Client{Jar: jar, Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is a finished API call.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error is the "error" member of an error answer, or "".
func (r *Response) Error() string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error
}

// Do sends a request with a JSON body (nil for none) and reads the answer.
func (c *Client) Do(ctx context.Context, method, path string, body []byte) (*Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Origin != "" && method != http.MethodGet {
		req.Header.Set("Origin", c.Origin)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// PostJSON posts v encoded as JSON.
func (c *Client) PostJSON(ctx context.Context, path string, v any) (*Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, http.MethodPost, path, b)
}

// StatusError is a ceremony step answered with something other than 200.
type StatusError struct {
	Step string
	Res  *Response
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.Step, e.Res.Status, e.Res.Body)
}

func expect200(step string, res *Response, err error) (*Response, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	if res.Status != http.StatusOK {
		return res, &StatusError{Step: step, Res: res}
	}
	return res, nil
}

// Register runs a registration ceremony: options for email ("" when signed
// in and adding a passkey), a new passkey from a, verification.
func (c *Client) Register(ctx context.Context, a *Authenticator, email string) (*Credential, error) {
	body := map[string]string{}
	if email != "" {
		body["email"] = email
	}
	res, err := c.PostJSON(ctx, "/api/passkeys/generate-registration-options", body)
	if res, err = expect200("registration options", res, err); err != nil {
		return nil, err
	}
	att, cred, err := a.Create(res.Body)
	if err != nil {
		return nil, err
	}
	res, err = c.Do(ctx, http.MethodPost, "/api/passkeys/verify-registration", att)
	if _, err := expect200("verify registration", res, err); err != nil {
		a.Forget(cred)
		return nil, err
	}
	return cred, nil
}

// SignInResult is the body of a successful verify-authentication.
type SignInResult struct {
	Verified bool `json:"verified"`
	User     struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
}

// SignIn runs a sign-in ceremony with email ("" for username-less) and the
// passkey pick (nil: the authenticator's first).
func (c *Client) SignIn(ctx context.Context, a *Authenticator, email string, pick *Credential) (*SignInResult, error) {
	body := map[string]string{}
	if email != "" {
		body["email"] = email
	}
	res, err := c.PostJSON(ctx, "/api/passkeys/generate-authentication-options", body)
	if res, err = expect200("authentication options", res, err); err != nil {
		return nil, err
	}
	assertion, err := a.Get(res.Body, pick)
	if err != nil {
		return nil, err
	}
	res, err = c.Do(ctx, http.MethodPost, "/api/passkeys/verify-authentication", assertion)
	if res, err = expect200("verify authentication", res, err); err != nil {
		return nil, err
	}
	var out SignInResult
	if err := json.Unmarshal(res.Body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
