package webui

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// Wallboard display tokens. A screen on the wall must survive the box's
// reboot and run for days without anyone typing a password, while web
// sessions live in memory only (a reboot ends them, which suits bearer
// secrets on an appliance). So the wallboard holds a long-lived display
// token instead: an API token with the scope "wallboard", made and
// revoked by an administrator like any other (its secret stored hashed,
// shown once, its use recorded). The screen opens
//
//	/wallboard/display#cbx_<id>_<secret>
//
// (the fragment never reaches the server or its logs); the page keeps the
// token in the browser's storage and exchanges it for a session:
//
//	POST /api/v1/wallboard/session   Authorization: Bearer <token> -> a session cookie
//
// That session acts as a user holding PermWallboard and nothing else
// (wallboardOnly: only idleness ends it). Each request checks the token
// again, so revoking it (or disabling its owner) ends the screen's session
// at once; after a reboot the wallboard's event stream finds no session
// and the page makes a new one from the stored token without reloading.
// At most displaySessionsMax sessions per token are kept.

// scopeWallboard is the display token's scope.
const scopeWallboard = "wallboard"

// displaySessionsMax bounds the sessions one display token holds (a screen
// reconnecting leaves its old session behind until it idles out).
const displaySessionsMax = 4

// displayRoutes registers the display page and the token exchange.
func (s *Server) displayRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	e.GET("/wallboard/display", s.pageDisplay)
	authed.POST("/wallboard/session", s.apiDisplaySession)
}

// pageDisplay is the screen's start: its script does the exchange and
// goes on to the wallboard.
func (s *Server) pageDisplay(c *gin.Context) {
	s.renderPart(c, http.StatusOK, "display", "display-page", gin.H{})
}

// apiDisplaySession exchanges a display token (a bearer request) for a
// wallboard session.
func (s *Server) apiDisplaySession(c *gin.Context) {
	v, ok := c.Get(keyToken)
	t, _ := v.(APIToken)
	if !ok || !slices.Contains(t.Scopes, scopeWallboard) {
		s.failWith(c, fail(http.StatusForbidden, "err.display.token", ""))
		return
	}
	ss := s.sess.createDisplay(t.ID)
	s.setSessionCookie(c, ss.ID, 0)
	c.JSON(http.StatusOK, gin.H{"wallboard": "/wallboard", "csrf_token": ss.CSRF})
}

// displayUser is who a display session acts as: the wallboard alone.
func displayUser(t APIToken) User {
	perms, _ := overridesFor(RoleAgent, []string{string(PermWallboard)})
	return User{Login: "display:" + t.ID, DisplayName: t.Name, Role: RoleAgent, Permissions: perms}
}

// displaySessionUser checks a display session's token as it is now: still
// there, not revoked, with its scope, its owner enabled. ok is false when
// the session must end.
func (s *Server) displaySessionUser(ctx context.Context, id string) (User, bool, error) {
	if s.cfg.Tokens == nil {
		return User{}, false, nil
	}
	t, err := s.cfg.Tokens.Token(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	if !t.Revoked.IsZero() || !slices.Contains(t.Scopes, scopeWallboard) {
		return User{}, false, nil
	}
	owner, err := s.cfg.Users.Get(ctx, t.CreatedBy)
	if errors.Is(err, ErrNotFound) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	if owner.Disabled {
		return User{}, false, nil
	}
	return displayUser(t), true, nil
}
