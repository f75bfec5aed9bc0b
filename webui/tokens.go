package webui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// API tokens let other systems (not people) call the REST API: an
// administrator creates one with scopes, sees it once, and can revoke it.
// A request carries it as "Authorization: Bearer cbx_<id>_<secret>"; the
// box keeps only the secret's SHA-256 (the secret is 256 random bits, so a
// slow hash adds nothing) and the time it was last used. A token request
// needs no session or CSRF token, and reaches only what its scopes name.

// APIToken is a stored token.
type APIToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	Hash      string    `json:"hash,omitempty"` // hex SHA-256 of the secret; never served
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	Revoked   time.Time `json:"revoked,omitzero"`
}

// APITokens stores the tokens, given as Config.Tokens.
type APITokens interface {
	Tokens(ctx context.Context) ([]APIToken, error)
	// Token returns one, or an error wrapping ErrNotFound.
	Token(ctx context.Context, id string) (APIToken, error)
	PutToken(ctx context.Context, t APIToken) error
	// TokenUsed records a use (the store may coarsen it to a minute).
	TokenUsed(ctx context.Context, id string, at time.Time) error
}

// scope is what a token scope lets through: methods on path prefixes.
type scope struct {
	name    string
	methods []string
	paths   []string
}

// scopes is the one table of token scopes.
var scopes = []scope{
	{"cdr:read", []string{"GET"}, []string{"/api/v1/cdr"}},
	{"config:read", []string{"GET"}, []string{"/api/v1/extensions", "/api/v1/trunks", "/api/v1/routes", "/api/v1/call-centre", "/api/v1/flows", "/api/v1/groups", "/api/v1/agents"}},
	{"customers:read", []string{"GET"}, []string{"/api/v1/customers", "/api/v1/kb", "/api/v1/work-orders"}},
	{"customers:write", []string{"POST", "PUT", "PATCH", "DELETE"}, []string{"/api/v1/customers", "/api/v1/work-orders"}},
	{"events:read", nil, nil}, // the TCP event stream
	{"sms:read", []string{"GET"}, []string{"/api/v1/sms/status", "/api/v1/sms/outbox", "/api/v1/sms/inbox", "/api/v1/sms/templates"}},
	{"sms:send", []string{"POST"}, []string{"/api/v1/sms/send"}},
	{"system:read", []string{"GET"}, []string{"/api/v1/system"}},
	// A wallboard's display token (display.go): its summary, and a
	// session for its page and event stream.
	{scopeWallboard, []string{"GET", "POST"}, []string{"/api/v1/wallboard"}},
}

// Scopes lists the scope names a token may have.
func Scopes() []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = s.name
	}
	return out
}

func scopeAllows(names []string, method, path string) bool {
	for _, s := range scopes {
		if !slices.Contains(names, s.name) || !slices.Contains(s.methods, method) {
			continue
		}
		for _, p := range s.paths {
			if path == p || strings.HasPrefix(path, p+"/") {
				return true
			}
		}
	}
	return false
}

// ErrTokenRefused is returned by VerifyToken for a missing, malformed,
// unknown, revoked or unscoped token.
var ErrTokenRefused = errors.New("webui: API token refused")

const tokenPrefix = "cbx_"

// NewToken makes a token: the text shown once, and the record to store.
func NewToken(name string, scopeNames []string, by string, now time.Time) (string, APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 {
		return "", APIToken{}, fmt.Errorf("%w: a token needs a name of 1-64 characters", ErrInvalid)
	}
	if len(scopeNames) == 0 {
		return "", APIToken{}, fmt.Errorf("%w: a token needs at least one scope", ErrInvalid)
	}
	known := Scopes()
	for _, s := range scopeNames {
		if !slices.Contains(known, s) {
			return "", APIToken{}, fmt.Errorf("%w: unknown scope %q (known: %s)", ErrInvalid, s, strings.Join(known, ", "))
		}
	}
	id := make([]byte, 8)
	secret := make([]byte, 32)
	_, _ = rand.Read(id)
	_, _ = rand.Read(secret)
	text := tokenPrefix + hex.EncodeToString(id) + "_" + base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256(secret)
	return text, APIToken{ID: hex.EncodeToString(id), Name: name, Scopes: slices.Clone(scopeNames),
		Hash: hex.EncodeToString(sum[:]), Created: now, CreatedBy: by}, nil
}

// VerifyToken checks a token's text and that it has scope (any scope when
// empty), and records its use.
func VerifyToken(ctx context.Context, store APITokens, text, scopeName string, now time.Time) (APIToken, error) {
	rest, ok := strings.CutPrefix(text, tokenPrefix)
	id, secretText, ok2 := strings.Cut(rest, "_")
	secret, err := base64.RawURLEncoding.Strict().DecodeString(secretText) // one spelling per token
	if !ok || !ok2 || len(id) != 16 || err != nil || len(secret) != 32 {
		return APIToken{}, ErrTokenRefused
	}
	t, err := store.Token(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return APIToken{}, ErrTokenRefused
	}
	if err != nil {
		return APIToken{}, err
	}
	sum := sha256.Sum256(secret)
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(t.Hash)) != 1 || !t.Revoked.IsZero() {
		return APIToken{}, ErrTokenRefused
	}
	if scopeName != "" && !slices.Contains(t.Scopes, scopeName) {
		return APIToken{}, fmt.Errorf("%w: no scope %s", ErrTokenRefused, scopeName)
	}
	_ = store.TokenUsed(ctx, t.ID, now)
	return t, nil
}

const keyToken = "callbox.token"

// loadToken authenticates a request that carries a bearer token: it runs
// as a system user whose reach is the token's scopes, without session or
// CSRF token (a cross-site page cannot set the header). A wrong token is
// refused outright rather than treated as anonymous.
func (s *Server) loadToken(c *gin.Context) {
	h := c.GetHeader("Authorization")
	text, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return
	}
	if s.cfg.Tokens == nil || !isAPI(c) {
		s.failWith(c, fail(http.StatusUnauthorized, "err.token.invalid", ""))
		c.Abort()
		return
	}
	t, err := VerifyToken(c.Request.Context(), s.cfg.Tokens, strings.TrimSpace(text), "", time.Now())
	if errors.Is(err, ErrTokenRefused) {
		s.log.Warn("webui: API token refused", "addr", c.ClientIP(), "path", c.Request.URL.Path)
		s.failWith(c, fail(http.StatusUnauthorized, "err.token.invalid", ""))
		c.Abort()
		return
	}
	if err != nil {
		s.failWith(c, internal(err))
		c.Abort()
		return
	}
	if !scopeAllows(t.Scopes, c.Request.Method, c.Request.URL.Path) {
		s.failWith(c, fail(http.StatusForbidden, "err.token.scope", "", c.Request.Method+" "+c.Request.URL.Path))
		c.Abort()
		return
	}
	// A token acts with its owner's role and permissions as they are now
	// (never more: an owner demoted, disabled or deleted takes the token
	// down too), within its scopes; under its own name, so it owns none of
	// the owner's private records.
	owner, err := s.cfg.Users.Get(c.Request.Context(), t.CreatedBy)
	if err != nil || owner.Disabled {
		s.log.Warn("webui: API token refused: its owner is gone or disabled", "token", t.ID, "owner", t.CreatedBy)
		s.failWith(c, fail(http.StatusUnauthorized, "err.token.invalid", ""))
		c.Abort()
		return
	}
	c.Set(keyUser, User{Login: "token:" + t.Name, Role: owner.Role, Permissions: owner.Permissions})
	c.Set(keyToken, t)
}

func tokenOf(c *gin.Context) bool {
	_, ok := c.Get(keyToken)
	return ok
}

// tokenView is a token as the API lists it: never its hash.
type tokenView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	Revoked   time.Time `json:"revoked,omitzero"`
	// Token is the text, in the creation's answer only.
	Token string `json:"token,omitempty"`
}

func viewToken(t APIToken) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Created: t.Created, CreatedBy: t.CreatedBy, LastUsed: t.LastUsed, Revoked: t.Revoked}
}

// tokenRoutes: holders of PermSystem manage tokens (a token cannot).
//
//	GET    /api/v1/tokens               -> {"tokens": [...], "scopes": [...]}
//	POST   /api/v1/tokens {"name", "scopes"} -> the token with its text, shown once
//	DELETE /api/v1/tokens/:id           -> revoked (kept, listed as revoked)
func (s *Server) tokenRoutes(authed *gin.RouterGroup) {
	g := authed.Group("/tokens", s.need(PermSystem), s.refuseToken)
	g.GET("", func(c *gin.Context) {
		if !s.haveTokens(c) {
			return
		}
		list, err := s.cfg.Tokens.Tokens(c.Request.Context())
		if err != nil {
			s.failWith(c, internal(err))
			return
		}
		views := make([]tokenView, 0, len(list))
		for _, t := range list {
			views = append(views, viewToken(t))
		}
		c.JSON(http.StatusOK, gin.H{"tokens": views, "scopes": Scopes()})
	})
	g.POST("", func(c *gin.Context) {
		if !s.haveTokens(c) {
			return
		}
		var req struct {
			Name   string   `json:"name"`
			Scopes []string `json:"scopes"`
		}
		if f := decodeJSON(c, &req); f != nil {
			s.failWith(c, f)
			return
		}
		u, _ := userOf(c)
		text, t, err := s.createToken(c.Request.Context(), req.Name, req.Scopes, u.Login)
		if err != nil {
			s.failWith(c, outsideFailure(err))
			return
		}
		v := viewToken(t)
		v.Token = text
		c.JSON(http.StatusCreated, v)
	})
	g.DELETE("/:id", func(c *gin.Context) {
		if !s.haveTokens(c) {
			return
		}
		t, err := s.revokeToken(c.Request.Context(), c.Param("id"))
		if err != nil {
			s.failWith(c, outsideFailure(err))
			return
		}
		c.JSON(http.StatusOK, viewToken(t))
	})
}

// createToken makes and stores a token; the text is for the answer only.
func (s *Server) createToken(ctx context.Context, name string, scopeNames []string, by string) (string, APIToken, error) {
	text, t, err := NewToken(name, scopeNames, by, time.Now())
	if err != nil {
		return "", t, err
	}
	return text, t, s.cfg.Tokens.PutToken(ctx, t)
}

// revokeToken revokes a token (kept, listed as revoked); revoking it again
// changes nothing.
func (s *Server) revokeToken(ctx context.Context, id string) (APIToken, error) {
	t, err := s.cfg.Tokens.Token(ctx, id)
	if err != nil || !t.Revoked.IsZero() {
		return t, err
	}
	t.Revoked = time.Now()
	if err := s.cfg.Tokens.PutToken(ctx, t); err != nil {
		return t, err
	}
	s.sess.destroyDisplay(t.ID) // a wallboard on it goes dark at once
	return t, nil
}

func (s *Server) haveTokens(c *gin.Context) bool {
	if s.cfg.Tokens == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return false
	}
	return true
}

// refuseToken keeps token requests out of what only people may do.
func (s *Server) refuseToken(c *gin.Context) {
	if tokenOf(c) {
		s.failWith(c, fail(http.StatusForbidden, "err.forbidden", ""))
		c.Abort()
	}
}
