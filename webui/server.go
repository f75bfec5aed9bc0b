package webui

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/webui/i18n"
)

//go:embed assets
var assets embed.FS

// Cookie names.
const (
	sessionCookie = "callbox_session"
	langCookie    = "callbox_lang"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"
)

// Throttle settings: five free failures per address, then 1 s doubling up
// to 5 minutes. Setup codes also have a global budget across addresses.
const (
	loginFree       = 5
	throttleBase    = time.Second
	throttleLimit   = 5 * time.Minute
	setupGlobalFree = 20
	maxBodyBytes    = 64 << 10
)

// Server is the web admin. Create it with New, serve it with Run or mount
// Handler in another server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	cat    i18n.Catalogs
	engine *gin.Engine
	pages  map[string]*pageTemplate
	now    func() time.Time

	sess     *sessions
	loginThr *throttle
	setupThr *throttle // per address
	setupAll *throttle // all addresses together, key ""
	code     setupCode
	setupMu  sync.Mutex
	usersMu  sync.Mutex // serialises user changes, for the last-admin rule
	hashSem  chan struct{}

	dummyOnce sync.Once
	dummy     string

	addrMu    sync.Mutex
	addr      string
	ready     chan struct{}
	readyOnce sync.Once
}

// New checks cfg and builds the server. It does not listen; Run does.
func New(cfg Config) (*Server, error) {
	if cfg.Users == nil {
		return nil, errors.New("webui: Config.Users is nil")
	}
	if cfg.System == nil {
		return nil, errors.New("webui: Config.System is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	cat, err := i18n.Load()
	if err != nil {
		return nil, fmt.Errorf("webui: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		cat:     cat,
		hashSem: make(chan struct{}, 2),
		ready:   make(chan struct{}),
	}
	s.now = time.Now
	clock := func() time.Time { return s.now() }
	s.sess = newSessions(cfg.SessionIdle, cfg.SessionMax, clock)
	s.loginThr = newThrottle(loginFree, throttleBase, throttleLimit, clock)
	s.setupThr = newThrottle(loginFree, throttleBase, throttleLimit, clock)
	s.setupAll = newThrottle(setupGlobalFree, throttleBase, throttleLimit, clock)
	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	s.engine = s.routes()
	return s, nil
}

// NeedsSetup reports whether no user exists yet, so the caller should issue
// a setup code and show it (IssueSetupCode) for the first administrator.
func (s *Server) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.cfg.Users.Count(ctx)
	if err != nil {
		return false, fmt.Errorf("webui: %w", err)
	}
	return n == 0, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Addr returns the address Run listens on, with the real port when
// Config.Addr asked for port 0; "" before Run has started listening.
func (s *Server) Addr() string {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.addr
}

// Ready is closed once Run listens, after which Addr is set.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run listens on Config.Addr and serves until ctx is done, then shuts down,
// giving requests in flight up to one second. A listen error is returned at
// once; after a clean shutdown Run returns nil.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("webui: %w", err)
	}
	s.addrMu.Lock()
	s.addr = ln.Addr().String()
	s.addrMu.Unlock()
	s.readyOnce.Do(func() { close(s.ready) })
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("webui: listening", "addr", s.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("webui: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	s.log.Info("webui: stopped")
	return nil
}

// routes builds the gin engine.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// Use the socket's address for throttling: no proxy sits in front of
	// the appliance, and trusting X-Forwarded-For would let a client pick
	// its own throttle key.
	_ = e.SetTrustedProxies(nil)
	e.ForwardedByClientIP = false
	e.Use(s.logRequests, s.recover, s.secureHeaders, s.loadSession, s.checkCSRF)
	e.NoRoute(s.notFound)

	static, _ := fs.Sub(assets, "assets/static")
	files := http.StripPrefix("/static", http.FileServerFS(filesOnly{static}))
	e.GET("/static/*path", gin.WrapH(files))
	e.HEAD("/static/*path", gin.WrapH(files))

	api := e.Group("/api/v1")
	api.GET("/health", s.apiHealth)
	api.GET("/session", s.apiSession)
	api.POST("/login", s.apiLogin)
	api.POST("/logout", s.apiLogout)
	api.POST("/setup", s.apiSetup)
	authed := api.Group("", s.requireUser(true))
	authed.GET("/system", s.apiSystem)
	admin := authed.Group("/users", s.requireAdmin(true))
	admin.GET("", s.apiListUsers)
	admin.POST("", s.apiCreateUser)
	admin.GET("/:login", s.apiGetUser)
	admin.PUT("/:login", s.apiUpdateUser)
	admin.DELETE("/:login", s.apiDeleteUser)
	s.pbxRoutes(authed)
	s.cdrRoutes(authed)
	s.updateRoutes(e, authed)
	s.backupRoutes(authed)
	s.installerRoutes(authed)

	e.GET("/", s.requireUser(false), s.pageHome)
	e.GET("/setup", s.pageSetup)
	e.POST("/setup", s.postSetup)
	e.GET("/login", s.pageLogin)
	e.POST("/login", s.postLogin)
	e.POST("/logout", s.postLogout)
	e.GET("/lang/:lang", s.switchLang)
	pages := e.Group("/users", s.requireUser(false), s.requireAdmin(false))
	pages.GET("", s.pageUsers)
	pages.POST("", s.postCreateUser)
	pages.GET("/:login", s.pageEditUser)
	pages.POST("/:login", s.postEditUser)
	pages.POST("/:login/enable", s.postSetDisabled(false))
	pages.POST("/:login/disable", s.postSetDisabled(true))
	pages.POST("/:login/delete", s.postDeleteUser)
	return e
}

// filesOnly hides directories, so /static/ gives 404 instead of a listing.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// Context keys.
const (
	keySession = "callbox.session"
	keyUser    = "callbox.user"
	keyLang    = "callbox.lang"
)

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/api/") }

// logRequests logs each request once it is done.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	level := slog.LevelInfo
	if c.Request.URL.Path == "/api/v1/health" || strings.HasPrefix(c.Request.URL.Path, "/static/") {
		level = slog.LevelDebug
	}
	attrs := []any{"method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"bytes", c.Writer.Size(), "dur", time.Since(start), "addr", c.ClientIP()}
	if u, ok := c.Get(keyUser); ok {
		attrs = append(attrs, "user", u.(User).Login)
	}
	s.log.Log(c.Request.Context(), level, "webui: request", attrs...)
}

// recover turns a panic in a handler into a 500 and a logged error.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("webui: handler panic", "path", c.Request.URL.Path, "panic", r)
			s.failWith(c, internal(fmt.Errorf("panic: %v", r)))
		}
	}()
	c.Next()
}

// secureHeaders sets the headers every response carries.
func (s *Server) secureHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(c.Request.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, bodyLimit(c.Request))
	c.Next()
}

// loadSession finds the request's language, session and user. A session
// whose user was deleted or disabled is ended here, and role changes apply
// from the next request on.
func (s *Server) loadSession(c *gin.Context) {
	lang := ""
	if v, err := c.Cookie(langCookie); err == nil {
		lang = s.cat.Supported(v)
	}
	if lang == "" {
		lang = s.cat.Negotiate(c.GetHeader("Accept-Language"))
	}
	c.Set(keyLang, lang)
	id, err := c.Cookie(sessionCookie)
	if err != nil || id == "" {
		return
	}
	ss, ok := s.sess.get(id)
	if !ok {
		return
	}
	if ss.Login != "" {
		u, err := s.cfg.Users.Get(c.Request.Context(), ss.Login)
		if err != nil && !errors.Is(err, ErrNotFound) {
			s.failWith(c, internal(err))
			c.Abort()
			return
		}
		if err != nil || u.Disabled {
			// The request goes on as anonymous; pages that need a token
			// start a fresh anonymous session.
			s.sess.destroy(id)
			return
		}
		c.Set(keyUser, u)
	}
	c.Set(keySession, ss)
}

// checkCSRF refuses state-changing requests without the session's token,
// in the X-CSRF-Token header or the csrf_token form field.
func (s *Server) checkCSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return
	}
	ss, ok := sessionOf(c)
	tok := c.GetHeader(csrfHeader)
	if tok == "" && !strings.HasPrefix(c.ContentType(), "application/json") {
		tok = c.PostForm(csrfField)
	}
	if !ok || tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(ss.CSRF)) != 1 {
		s.log.Warn("webui: csrf token refused", "path", c.Request.URL.Path, "addr", c.ClientIP())
		s.failWith(c, fail(http.StatusForbidden, "err.csrf", ""))
		c.Abort()
	}
}

func sessionOf(c *gin.Context) (session, bool) {
	v, ok := c.Get(keySession)
	if !ok {
		return session{}, false
	}
	return v.(session), true
}

func userOf(c *gin.Context) (User, bool) {
	v, ok := c.Get(keyUser)
	if !ok {
		return User{}, false
	}
	return v.(User), true
}

func langOf(c *gin.Context) string { return c.GetString(keyLang) }

// anonymous returns the request's session, starting an anonymous one (and
// setting its cookie) when there is none, so forms have a CSRF token.
func (s *Server) anonymous(c *gin.Context) session {
	if ss, ok := sessionOf(c); ok {
		return ss
	}
	ss := s.sess.create("")
	s.setSessionCookie(c, ss.ID)
	c.Set(keySession, ss)
	return ss
}

// startSession replaces the request's session with a new one for login,
// so an identifier planted before login is worthless afterwards.
func (s *Server) startSession(c *gin.Context, u User) session {
	if old, ok := sessionOf(c); ok {
		s.sess.destroy(old.ID)
	}
	ss := s.sess.create(u.Login)
	s.setSessionCookie(c, ss.ID)
	c.Set(keySession, ss)
	c.Set(keyUser, u)
	return ss
}

// endSession destroys the request's session and clears its cookie.
func (s *Server) endSession(c *gin.Context) {
	if ss, ok := sessionOf(c); ok {
		s.sess.destroy(ss.ID)
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookie, SameSite: http.SameSiteStrictMode})
}

func (s *Server) setSessionCookie(c *gin.Context, id string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: id, Path: "/",
		HttpOnly: true, Secure: s.cfg.SecureCookie, SameSite: http.SameSiteStrictMode})
}

// requireUser lets only logged-in users through: the API answers 401,
// pages redirect to the login page.
func (s *Server) requireUser(api bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := userOf(c); ok {
			return
		}
		if api {
			s.failWith(c, fail(http.StatusUnauthorized, "err.unauthenticated", ""))
		} else {
			c.Redirect(http.StatusSeeOther, "/login?next="+urlQueryEscape(c.Request.URL.RequestURI()))
		}
		c.Abort()
	}
}

// requireAdmin refuses non-administrators with 403.
func (s *Server) requireAdmin(api bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if u, ok := userOf(c); ok && u.Role == RoleAdmin {
			return
		}
		s.failWith(c, fail(http.StatusForbidden, "err.forbidden", ""))
		c.Abort()
	}
}

func (s *Server) notFound(c *gin.Context) {
	s.failWith(c, fail(http.StatusNotFound, "err.not_found", ""))
}

// failWith answers with f: JSON for the API, an error page otherwise.
func (s *Server) failWith(c *gin.Context, f *failure) {
	if f.status >= 500 {
		s.log.Error("webui: request failed", "path", c.Request.URL.Path, "err", f)
	}
	if f.status == http.StatusTooManyRequests && len(f.args) > 0 {
		c.Header("Retry-After", fmt.Sprint(f.args[0]))
	}
	msg := s.cat.T(langOf(c), f.key, f.args...)
	if isAPI(c) {
		body := gin.H{"error": msg, "code": f.key}
		if f.field != "" {
			body["field"] = f.field
		}
		c.JSON(f.status, body)
		return
	}
	s.render(c, f.status, "error", gin.H{"Message": msg})
}
