package webui

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestRequestLog checks that requests are logged with their outcome and
// user, and that secrets (passwords, setup codes, session ids, CSRF tokens)
// never reach the log.
func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	e := newEnv(t, Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	code, _ := e.s.IssueSetupCode(context.Background())
	c := e.client(t)
	c.session()
	st, m := c.api(http.MethodPost, "/api/v1/setup", map[string]string{"code": code, "login": "root", "password": "Secret-Passw0rd"})
	wantStatus(t, "setup", st, http.StatusOK, m)
	c.login("root", "Secret-Passw0rd")
	c.api(http.MethodPost, "/api/v1/login", map[string]string{"login": "root", "password": "Wrong-Passw0rd"})
	c.api(http.MethodGet, "/api/v1/system", nil)
	log := buf.String()
	for _, want := range []string{
		`msg="webui: request" method=POST path=/api/v1/setup status=200`,
		`path=/api/v1/system status=200`,
		`user=root`,
		`msg="webui: login failed" login=root`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	secrets := []string{"Secret-Passw0rd", "Wrong-Passw0rd", code, normalizeCode(code), c.csrf, c.cookie(sessionCookie).Value}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("log contains the secret %q:\n%s", s, log)
		}
	}
}
