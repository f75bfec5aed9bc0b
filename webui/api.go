package webui

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// decodeJSON reads a JSON body into v, refusing unknown fields. Errors name
// the field where the decoder can tell which one it is.
func decodeJSON(c *gin.Context, v any) *failure {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.More() {
			return fail(http.StatusBadRequest, "err.body.invalid", "")
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &te):
		return fail(http.StatusBadRequest, "err.field.type", te.Field)
	case errors.As(err, &mbe):
		return fail(http.StatusRequestEntityTooLarge, "err.body.too_large", "")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fail(http.StatusBadRequest, "err.field.unknown", field)
	case errors.Is(err, io.EOF):
		return fail(http.StatusBadRequest, "err.body.invalid", "")
	}
	return fail(http.StatusBadRequest, "err.body.invalid", "")
}

// apiHealth answers GET /api/v1/health without authentication.
func (s *Server) apiHealth(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// sessionView is the answer of GET /api/v1/session and POST /api/v1/login.
type sessionView struct {
	Authenticated bool      `json:"authenticated"`
	User          *userView `json:"user"`
	CSRFToken     string    `json:"csrf_token"`
	Lang          string    `json:"lang"`
	SetupRequired bool      `json:"setup_required"`
}

func (s *Server) sessionView(c *gin.Context) (sessionView, *failure) {
	v := sessionView{CSRFToken: s.csrfToken(c), Lang: langOf(c)}
	if u, ok := userOf(c); ok {
		uv := viewOf(u)
		v.Authenticated, v.User = true, &uv
	}
	first, f := s.firstBoot(c.Request.Context())
	v.SetupRequired = first
	return v, f
}

// apiSession answers who the caller is and the CSRF token to send with
// state-changing requests: the session's, or for an anonymous caller a
// signed token that is also set in a cookie (no server state).
func (s *Server) apiSession(c *gin.Context) {
	v, f := s.sessionView(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusOK, v)
}

type loginInput struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

func (s *Server) apiLogin(c *gin.Context) {
	var in loginInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	u, f := s.login(c.Request.Context(), c.ClientIP(), in.Login, in.Password)
	if f != nil {
		s.failWith(c, f)
		return
	}
	s.startSession(c, u)
	s.deskLogin(c.Request.Context(), u, c.ClientIP())
	v, f := s.sessionView(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusOK, v)
}

func (s *Server) apiLogout(c *gin.Context) {
	if u, ok := userOf(c); ok {
		s.deskLogout(c.Request.Context(), u)
	}
	s.endSession(c)
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) apiSetup(c *gin.Context) {
	var in setupInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	if f := s.setup(c.Request.Context(), c.ClientIP(), in); f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// systemView is the JSON form of SystemInfo.
type systemView struct {
	Version       string      `json:"version"`
	Slot          string      `json:"slot,omitempty"`
	Build         string      `json:"build"`
	UptimeS       int64       `json:"uptime_s"`
	Board         boardView   `json:"board"`
	StoreBytes    int64       `json:"store_bytes"`
	DataFreeBytes uint64      `json:"data_free_bytes"`
	Alarms        []alarmView `json:"alarms"`
	TLS           *certView   `json:"tls,omitempty"`

	// MediaClockLost: frames the media clock skipped, overloaded.
	MediaClockLost uint64 `json:"media_clock_lost"`
}

// alarmView is a raised alarm with its message in the request's language.
type alarmView struct {
	Code    string    `json:"code"`
	Since   time.Time `json:"since"`
	Message string    `json:"message"`
}

type boardView struct {
	Name  string     `json:"name"`
	Ports []portView `json:"ports"`
}

type portView struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Chip  string `json:"chip"`
	State string `json:"state"`
}

// systemView returns the state of the box for the request's user and
// language.
func (s *Server) systemView(c *gin.Context) systemView {
	in := s.cfg.System.Info(c.Request.Context())
	v := systemView{Version: in.Version, Slot: in.Slot, Build: in.Build, UptimeS: int64(in.Uptime.Seconds()), StoreBytes: in.StoreBytes,
		DataFreeBytes: in.DataFreeBytes, MediaClockLost: in.MediaClockLost, Board: boardView{Name: in.Board.Name, Ports: []portView{}}, Alarms: []alarmView{}}
	for _, p := range in.Board.Ports {
		v.Board.Ports = append(v.Board.Ports, portView(p))
	}
	for _, a := range in.Alarms {
		v.Alarms = append(v.Alarms, alarmView{Code: a.Code, Since: a.Since,
			Message: s.cat.T(langOf(c), "alarm."+a.Code, a.Since.Local().Format("2006-01-02 15:04"))})
	}
	if info, ok := s.Certificate(); ok {
		cv := certViewOf(info)
		v.TLS = &cv
	}
	return v
}

func (s *Server) apiSystem(c *gin.Context) {
	c.JSON(http.StatusOK, s.systemView(c))
}

func (s *Server) apiListUsers(c *gin.Context) {
	us, err := s.cfg.Users.List(c.Request.Context())
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	out := make([]userView, 0, len(us))
	for _, u := range us {
		out = append(out, viewOf(u))
	}
	c.JSON(http.StatusOK, gin.H{"users": out})
}

func (s *Server) apiCreateUser(c *gin.Context) {
	var in userInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	u, f := s.createUser(c.Request.Context(), in)
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.Header("Location", "/api/v1/users/"+url.PathEscape(u.Login))
	c.JSON(http.StatusCreated, viewOf(u))
}

func (s *Server) apiGetUser(c *gin.Context) {
	u, err := s.cfg.Users.Get(c.Request.Context(), c.Param("login"))
	if err != nil {
		s.failWith(c, storeFailure(err))
		return
	}
	c.JSON(http.StatusOK, viewOf(u))
}

func (s *Server) apiUpdateUser(c *gin.Context) {
	var in userInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	ss, _ := sessionOf(c)
	u, f := s.updateUser(c.Request.Context(), c.Param("login"), in, ss.ID)
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusOK, viewOf(u))
}

// meInput is what users may change of their own account through PUT
// /api/v1/me: the language of their pages.
type meInput struct {
	Lang *string `json:"lang"`
}

func (s *Server) apiUpdateMe(c *gin.Context) {
	var in meInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	u, f := s.updateMe(c, in)
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusOK, viewOf(u))
}

// updateMe changes the requesting user's own settings; a new language
// applies to this request's answer and is also kept in the language
// cookie, for the login page after a logout.
func (s *Server) updateMe(c *gin.Context, in meInput) (User, *failure) {
	me, _ := userOf(c)
	ss, _ := sessionOf(c)
	u, f := s.updateUser(c.Request.Context(), me.Login, userInput{Lang: in.Lang}, ss.ID)
	if f != nil {
		return u, f
	}
	c.Set(keyUser, u)
	if u.Lang != "" {
		c.Set(keyLang, u.Lang)
		s.setLangCookie(c, u.Lang)
	}
	return u, nil
}

func (s *Server) apiDeleteUser(c *gin.Context) {
	if f := s.deleteUser(c.Request.Context(), c.Param("login")); f != nil {
		s.failWith(c, f)
		return
	}
	c.Status(http.StatusNoContent)
}
