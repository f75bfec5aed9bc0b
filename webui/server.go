package webui

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
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
	"callbox/webui/tlscert"
)

//go:embed assets
var assets embed.FS

// Cookie names. Over HTTPS each carries the __Host- prefix, which browsers
// accept only with Secure, Path=/ and no Domain: a cookie set over plain
// HTTP (or by another host) can then never stand in for an HTTPS one.
const (
	sessionCookie = "callbox_session"
	langCookie    = "callbox_lang"
	csrfCookie    = "callbox_csrf"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"
)

// Request limits for visitors without a session, per source address (see
// rateLimiter): a page load is three requests, so the burst covers a
// person clicking around, while a script gets 429 answers that cost almost
// nothing.
const (
	anonRate    = 20  // requests per second
	anonBurst   = 100 // requests
	maxRateKeys = 4096
)

// Throttle settings: five free failures per address, then 1 s doubling up
// to 5 minutes. Each account also has its own budget across addresses
// (accountFree failures, then the same doubling delay), which addresses the
// account has logged in from before do not wait for.
const (
	loginFree     = 5
	accountFree   = 10
	throttleBase  = time.Second
	throttleLimit = 5 * time.Minute
	trustFor      = 30 * 24 * time.Hour
	maxBodyBytes  = 64 << 10
)

// Server is the web admin. Create it with New, serve it with Run or mount
// Handler in another server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	cat    i18n.Catalogs
	engine *gin.Engine
	pages  map[string]*pageTemplate
	static map[string]string // static file name to content hash
	// eventTypeKeys are the catalogue's "ev.*" keys, the labels of the
	// event types and states the live pages show.
	eventTypeKeys []string
	now           func() time.Time

	sess     *sessions
	csrf     *csrfSigner
	limit    *rateLimiter // requests without a session, per address
	loginThr *throttle    // per address
	acctThr  *throttle    // per existing account, across addresses
	ghostThr *throttle    // per unknown login name, so both kinds answer alike
	trusted  *trustedAddrs
	setupThr *throttle // per address
	code     setupCode
	setupMu  sync.Mutex
	usersMu  sync.Mutex // serialises user changes, for the last-admin rule
	imports  uploads    // customer files between the steps of an import
	hashSem  chan struct{}
	// writeTimeout bounds writing an answer (tests shorten it); requests
	// that hash a password get patientWrite's longer bound.
	writeTimeout time.Duration

	dummyOnce sync.Once
	dummy     string

	certs *tlscert.Store // nil without HTTPS

	streams     streamCount // open event streams
	streamsCtx  context.Context
	stopStreams context.CancelFunc // ends every event stream at shutdown

	addrMu    sync.Mutex
	addr      string
	tlsAddr   string
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

		writeTimeout: 60 * time.Second,
	}
	s.now = time.Now
	s.streamsCtx, s.stopStreams = context.WithCancel(context.Background())
	clock := func() time.Time { return s.now() }
	s.sess = newSessions(cfg.SessionIdle, cfg.SessionMax, clock)
	s.csrf = newCSRFSigner(clock)
	s.limit = newRateLimiter(anonRate, anonBurst, maxRateKeys, clock)
	s.loginThr = newThrottle(loginFree, throttleBase, throttleLimit, clock)
	s.acctThr = newThrottle(accountFree, throttleBase, throttleLimit, clock)
	s.ghostThr = newThrottle(accountFree, throttleBase, throttleLimit, clock)
	s.trusted = newTrustedAddrs(trustFor, clock)
	s.setupThr = newThrottle(loginFree, throttleBase, throttleLimit, clock)
	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	if s.static, err = hashStatic(); err != nil {
		return nil, fmt.Errorf("webui: static files: %w", err)
	}
	s.eventTypeKeys = eventTypeKeys(cat)
	if cfg.HTTPSAddr != "" {
		if cfg.TLSDir == "" {
			return nil, errors.New("webui: Config.TLSDir is empty")
		}
		if s.certs, err = tlscert.Open(cfg.TLSDir, cfg.TLSNames, nil); err != nil {
			return nil, fmt.Errorf("webui: %w", err)
		}
	}
	s.engine = s.routes()
	return s, nil
}

// Certificate describes the certificate HTTPS serves; false without HTTPS.
func (s *Server) Certificate() (tlscert.Info, bool) {
	if s.certs == nil {
		return tlscert.Info{}, false
	}
	return s.certs.Info(), true
}

// TLSAddr returns the address HTTPS listens on, with the real port; ""
// without HTTPS or before Run has started listening.
func (s *Server) TLSAddr() string {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.tlsAddr
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

// renewEvery is how often Run checks whether the certificate is due.
const renewEvery = 12 * time.Hour

// Run listens on Config.Addr (and Config.HTTPSAddr) and serves until ctx is
// done, then shuts down, giving requests in flight up to one second. A
// listen error is returned at once; after a clean shutdown Run returns nil.
// With HTTPS it also renews the certificate when it falls due.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("webui: %w", err)
	}
	var tlsLn net.Listener
	if s.certs != nil {
		if tlsLn, err = lc.Listen(ctx, "tcp", s.cfg.HTTPSAddr); err != nil {
			ln.Close()
			return fmt.Errorf("webui: %w", err)
		}
	}
	s.addrMu.Lock()
	s.addr = ln.Addr().String()
	if tlsLn != nil {
		s.tlsAddr = tlsLn.Addr().String()
	}
	s.addrMu.Unlock()
	s.readyOnce.Do(func() { close(s.ready) })

	newServer := func(h http.Handler) *http.Server {
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      s.writeTimeout,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    32 << 10,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		// Event streams never finish on their own: Shutdown ends them
		// rather than waiting out its grace period.
		srv.RegisterOnShutdown(s.stopStreams)
		return srv
	}
	plain := newServer(s.engine)
	if tlsLn != nil && s.cfg.RedirectHTTP {
		plain.Handler = http.HandlerFunc(s.redirectToHTTPS)
	}
	servers := []*http.Server{plain}
	errc := make(chan error, 2)
	go func() { errc <- plain.Serve(ln) }()
	s.log.Info("webui: listening", "addr", s.Addr(), "redirect_to_https", tlsLn != nil && s.cfg.RedirectHTTP)
	renewDone := make(chan struct{})
	renewCtx, stopRenew := context.WithCancel(ctx)
	if tlsLn != nil {
		secure := newServer(s.engine)
		secure.TLSConfig = &tls.Config{GetCertificate: s.certs.GetCertificate, MinVersion: tls.VersionTLS12}
		servers = append(servers, secure)
		go func() { errc <- secure.ServeTLS(tlsLn, "", "") }()
		go func() { defer close(renewDone); s.renewCerts(renewCtx) }()
		s.log.Info("webui: listening for HTTPS", "addr", s.TLSAddr(), "sha256", s.certs.Info().Fingerprint)
	} else {
		close(renewDone)
	}
	var runErr error
	select {
	case err := <-errc:
		runErr = fmt.Errorf("webui: serve: %w", err)
	case <-ctx.Done():
	}
	stopRenew()
	<-renewDone
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	}
	for range len(servers) - 1 {
		<-errc
	}
	if runErr == nil {
		<-errc
	}
	s.log.Info("webui: stopped")
	return runErr
}

// renewCerts renews the certificate when it falls due, until ctx ends.
func (s *Server) renewCerts(ctx context.Context) {
	t := time.NewTicker(renewEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if renewed, err := s.certs.Renew(); err != nil {
			s.log.Error("webui: TLS certificate renewal failed", "err", err)
		} else if renewed {
			s.log.Warn("webui: TLS certificate renewed; check the new fingerprint", "sha256", s.certs.Info().Fingerprint)
		}
	}
}

// redirectToHTTPS sends a plain HTTP request to the same path over HTTPS:
// 301 for GET and HEAD, 308 (method kept) otherwise.
func (s *Server) redirectToHTTPS(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		http.Error(w, "use HTTPS", http.StatusBadRequest)
		return
	}
	_, port, _ := net.SplitHostPort(s.TLSAddr())
	target := host
	if port != "443" {
		target = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		target = "[" + host + "]"
	}
	code := http.StatusPermanentRedirect
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		code = http.StatusMovedPermanently
	}
	http.Redirect(w, r, "https://"+target+r.URL.RequestURI(), code)
}

// releaseMode puts gin in release mode once per process: gin keeps its
// mode in unguarded package variables, which servers built at the same
// time (tests, the in-process restart) must not write together.
var releaseMode sync.Once

// routes builds the gin engine.
func (s *Server) routes() *gin.Engine {
	releaseMode.Do(func() { gin.SetMode(gin.ReleaseMode) })
	e := gin.New()
	// Use the socket's address for throttling: no proxy sits in front of
	// the appliance, and trusting X-Forwarded-For would let a client pick
	// its own throttle key.
	_ = e.SetTrustedProxies(nil)
	e.ForwardedByClientIP = false
	e.Use(s.logRequests, s.recover, s.secureHeaders, s.loadSession, s.loadToken, s.limitAnonymous, s.checkCSRF)
	e.NoRoute(s.notFound)

	static, _ := fs.Sub(assets, "assets/static")
	files := http.StripPrefix("/static", http.FileServerFS(filesOnly{static}))
	e.GET("/static/*path", s.serveStatic(files))
	e.HEAD("/static/*path", s.serveStatic(files))

	api := e.Group("/api/v1")
	api.GET("/health", s.apiHealth)
	api.GET("/session", s.apiSession)
	api.POST("/login", patientWrite, s.apiLogin)
	api.POST("/logout", s.apiLogout)
	api.POST("/setup", patientWrite, s.apiSetup)
	authed := api.Group("", s.requireUser(true))
	authed.GET("/system", s.apiSystem)
	authed.GET("/permissions", s.apiPermissions)
	authed.PUT("/me", s.apiUpdateMe)
	admin := authed.Group("/users", s.need(PermUsers))
	admin.GET("", s.apiListUsers)
	admin.POST("", patientWrite, s.apiCreateUser)
	admin.GET("/:login", s.apiGetUser)
	admin.PUT("/:login", patientWrite, s.apiUpdateUser)
	admin.DELETE("/:login", s.apiDeleteUser)
	s.pbxRoutes(authed)
	s.ccRoutes(authed)
	s.ccLiveRoutes(authed)
	s.cdrRoutes(authed)
	s.logsRoutes(e, authed)
	s.flowPages(e)
	s.eventsRoutes(authed)
	s.recordingRoutes(authed)
	s.voicemailRoutes(authed)
	s.conferenceRoutes(authed)
	s.promptRoutes(authed)
	s.recordsRoutes(authed)
	s.faxRoutes(e, authed)
	s.faxMailRoutes(e)
	s.tlsRoutes(authed)
	s.simRoutes(e)
	s.updateRoutes(e, authed)
	s.backupRoutes(e, authed)
	s.installerRoutes(e, authed)
	s.recordsPages(e)
	s.outsideRoutes(authed)
	s.customerSMSRoutes(e, authed)
	s.orderDialRoutes(authed, e)
	s.tokenRoutes(authed)
	s.outsidePageRoutes(e)

	e.GET("/", s.requireUser(false), s.pageHome)
	e.GET("/setup", s.pageSetup)
	e.POST("/setup", patientWrite, s.postSetup)
	e.GET("/login", s.pageLogin)
	e.POST("/login", patientWrite, s.postLogin)
	e.POST("/logout", s.postLogout)
	s.formRoutes(e, pbxForms)
	s.formRoutes(e, ccForms)
	s.mediaPages(e)
	s.deskRoutes(e)
	s.myRoutes(e)
	s.boardRoutes(e, authed)
	s.displayRoutes(e, authed)
	e.GET("/lang/:lang", s.switchLang)
	e.POST("/lang/:lang", s.requireUser(false), s.postSwitchLang)
	pages := e.Group("/users", s.requireUser(false), s.need(PermUsers))
	pages.GET("", s.pageUsers)
	pages.POST("", patientWrite, s.postCreateUser)
	pages.GET("/:login", s.pageEditUser)
	pages.POST("/:login", patientWrite, s.postEditUser)
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
	keySession  = "callbox.session"
	keyUser     = "callbox.user"
	keyLang     = "callbox.lang"
	keyAnonCSRF = "callbox.anon_csrf"
)

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/api/") }

// isTLS reports whether the request came over HTTPS.
func isTLS(c *gin.Context) bool { return c.Request.TLS != nil }

// cookieName is base, or __Host-base over HTTPS.
func (s *Server) cookieName(c *gin.Context, base string) string {
	if isTLS(c) {
		return "__Host-" + base
	}
	return base
}

// logRequests logs each request once it is done.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	level := slog.LevelInfo
	if c.Request.URL.Path == "/api/v1/health" || strings.HasPrefix(c.Request.URL.Path, "/static/") ||
		c.Writer.Status() == http.StatusTooManyRequests && c.GetBool(keyRateLimited) {
		level = slog.LevelDebug // limitAnonymous logs a flood once a minute
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
	if s.cfg.HSTS && isTLS(c) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max(bodyLimit(c.Request), promptBodyLimit(c.Request), recordsBodyLimit(c.Request), faxBodyLimit(c.Request)))
	c.Next()
}

// loadSession finds the request's language, session and user. A session
// whose user was deleted or disabled is ended here, and role changes apply
// from the next request on.
func (s *Server) loadSession(c *gin.Context) {
	lang := ""
	if v, err := c.Cookie(s.cookieName(c, langCookie)); err == nil {
		lang = s.cat.Supported(v)
	}
	if lang == "" {
		lang = s.cat.Negotiate(c.GetHeader("Accept-Language"))
	}
	c.Set(keyLang, lang)
	id, err := c.Cookie(s.cookieName(c, sessionCookie))
	if err != nil || id == "" {
		return
	}
	ss, ok := s.sess.get(id)
	if !ok {
		return
	}
	if ss.Display != "" {
		// A wallboard's: its display token decides, now.
		u, live, err := s.displaySessionUser(c.Request.Context(), ss.Display)
		if err != nil {
			s.failWith(c, internal(err))
			c.Abort()
			return
		}
		if !live {
			s.sess.destroy(id)
			return
		}
		c.Set(keyUser, u)
		c.Set(keySession, ss)
		return
	}
	u, err := s.cfg.Users.Get(c.Request.Context(), ss.Login)
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.failWith(c, internal(err))
		c.Abort()
		return
	}
	if err != nil || u.Disabled {
		// The request goes on as anonymous.
		s.sess.destroy(id)
		return
	}
	c.Set(keyUser, u)
	c.Set(keySession, ss)
	if tag := s.cat.Supported(u.Lang); tag != "" {
		c.Set(keyLang, tag) // the user's choice, on every device
	}
}

// keyRateLimited marks a request limitAnonymous refused.
const keyRateLimited = "callbox.rate_limited"

// limitAnonymous limits requests without a session per source address.
// Logged-in users are not limited here: they are few, known, and may sit
// behind one NAT address.
func (s *Server) limitAnonymous(c *gin.Context) {
	if _, ok := userOf(c); ok {
		return
	}
	addr := addrKey(c.ClientIP())
	ok, retry, warn := s.limit.allow(addr)
	if ok {
		return
	}
	if warn {
		s.log.Warn("webui: too many requests without a session; refusing for a while (logged once a minute)", "addr", addr)
	}
	c.Set(keyRateLimited, true)
	s.failWith(c, retryFailure(retry))
	c.Abort()
}

// checkCSRF refuses state-changing requests without the right token in the
// X-CSRF-Token header or the csrf_token form field: the session's for a
// logged-in user, otherwise the anonymous double-submit token (csrf.go).
func (s *Server) checkCSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return
	}
	if tokenOf(c) {
		return // a bearer token, which no cross-site page can send
	}
	tok := c.GetHeader(csrfHeader)
	if tok == "" && !strings.HasPrefix(c.ContentType(), "application/json") {
		tok = c.PostForm(csrfField)
	}
	var ok bool
	if ss, has := sessionOf(c); has {
		ok = tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(ss.CSRF)) == 1
	} else {
		ok = s.anonTokenOK(c, tok)
	}
	if !ok {
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

// csrfToken is the token the request's forms and API calls must send: the
// session's for a logged-in user, otherwise the anonymous one.
func (s *Server) csrfToken(c *gin.Context) string {
	if ss, ok := sessionOf(c); ok {
		return ss.CSRF
	}
	return s.anonToken(c)
}

// startSession starts a session for a user who has just logged in, ending
// the request's previous one: sessions exist only from a successful login.
func (s *Server) startSession(c *gin.Context, u User) session {
	if old, ok := sessionOf(c); ok {
		s.sess.destroy(old.ID)
	}
	ss := s.sess.create(u.Login)
	if wallboardOnly(u) {
		s.sess.wall(ss.ID)
		ss.Wall = true
	}
	s.setSessionCookie(c, ss.ID, 0)
	c.Set(keySession, ss)
	c.Set(keyUser, u)
	return ss
}

// endSession destroys the request's session and clears its cookie.
func (s *Server) endSession(c *gin.Context) {
	if ss, ok := sessionOf(c); ok {
		s.sess.destroy(ss.ID)
	}
	s.setSessionCookie(c, "", -1)
}

func (s *Server) setSessionCookie(c *gin.Context, id string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(c, sessionCookie), Value: id, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: isTLS(c), SameSite: http.SameSiteStrictMode})
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
	msg := s.failText(c, f)
	if isAPI(c) {
		body := gin.H{"error": msg, "code": f.key}
		if f.field != "" {
			body["field"] = f.field
		}
		if f.reason != "" {
			body["reason"] = f.reason
		}
		c.JSON(f.status, body)
		return
	}
	s.render(c, f.status, "error", gin.H{"Message": msg})
}
