package webui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"callbox/telephony/sip/secret"
	"callbox/webui/passwd"
)

// Limits on user fields. The shortest password is the strength rule's
// (passwordPolicy).
const (
	maxLoginLen       = 32
	maxDisplayNameLen = 64 // runes
	maxPasswordLen    = 128
)

// failure is an error meant for the client: an HTTP status, a catalogue key
// for the message and the field it concerns.
type failure struct {
	status int
	key    string
	field  string
	args   []any
	reason string // a reason code the API adds as "reason", if any
	err    error  // the cause, logged for 500s
}

func (f *failure) Error() string {
	if f.err != nil {
		return f.key + ": " + f.err.Error()
	}
	return f.key
}

func fail(status int, key, field string, args ...any) *failure {
	return &failure{status: status, key: key, field: field, args: args}
}

// msg is a catalogue message standing as an argument of another (a
// translated reason inside "Field %s was refused: %s"); it is translated
// when the outer message is.
type msg struct {
	key  string
	args []any
}

// tr translates key with args, translating the msg values among them.
func (s *Server) tr(lang, key string, args []any) string {
	if len(args) == 0 {
		return s.cat.T(lang, key)
	}
	out := make([]any, len(args))
	for i, a := range args {
		if m, ok := a.(msg); ok {
			a = s.tr(lang, m.key, m.args)
		}
		out[i] = a
	}
	return s.cat.T(lang, key, out...)
}

// failText is f's message in the request's language.
func (s *Server) failText(c *gin.Context, f *failure) string { return s.tr(langOf(c), f.key, f.args) }

func internal(err error) *failure {
	return &failure{status: http.StatusInternalServerError, key: "err.internal", err: err}
}

// userInput is what a client may send to create or change a user. Absent
// fields (nil) keep their value on update.
type userInput struct {
	Login       *string `json:"login"`
	DisplayName *string `json:"display_name"`
	Role        *string `json:"role"`
	Password    *string `json:"password"`
	Disabled    *bool   `json:"disabled"`
	Lang        *string `json:"lang"`
	Agent       *string `json:"agent"`
	// Permissions is the whole set the user should hold (see
	// Permission); absent keeps the user's, or the new role's defaults
	// when the role changes.
	Permissions *[]string `json:"permissions"`
}

// userView is a user as the API shows it: never the password hash.
type userView struct {
	Login       string       `json:"login"`
	DisplayName string       `json:"display_name"`
	Role        string       `json:"role"`
	Disabled    bool         `json:"disabled"`
	Lang        string       `json:"lang"`
	Agent       string       `json:"agent"`
	Permissions []Permission `json:"permissions"` // what the user holds
	Created     time.Time    `json:"created"`
	Updated     time.Time    `json:"updated"`
}

func viewOf(u User) userView {
	return userView{Login: u.Login, DisplayName: u.DisplayName, Role: u.Role, Disabled: u.Disabled,
		Lang: u.Lang, Agent: u.Agent, Permissions: u.Effective(), Created: u.Created, Updated: u.Updated}
}

// Can reports whether the viewer holds the permission named p.
func (v *userView) Can(p string) bool { return slices.Contains(v.Permissions, Permission(p)) }

// maxAgentLen is the longest work number (工号) of an agent.
const maxAgentLen = 8

// validAgent checks a work number: empty, or 1-8 digits.
func validAgent(s string) *failure {
	if len(s) > maxAgentLen {
		return fail(http.StatusBadRequest, "err.agent.format", "agent", maxAgentLen)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return fail(http.StatusBadRequest, "err.agent.format", "agent", maxAgentLen)
		}
	}
	return nil
}

// validLang checks a stored language choice: empty or a catalogue's tag,
// which it returns in the catalogue's spelling.
func (s *Server) validLang(v string) (string, *failure) {
	if v == "" {
		return "", nil
	}
	tag := s.cat.Supported(v)
	if tag == "" {
		return "", fail(http.StatusBadRequest, "err.lang.unsupported", "lang")
	}
	return tag, nil
}

// agentTaken refuses a work number another user already has.
func (s *Server) agentTaken(ctx context.Context, login, agent string) *failure {
	if agent == "" {
		return nil
	}
	us, err := s.cfg.Users.List(ctx)
	if err != nil {
		return internal(err)
	}
	for _, o := range us {
		if o.Agent == agent && o.Login != login {
			return fail(http.StatusConflict, "err.agent.taken", "agent", o.Login)
		}
	}
	return nil
}

// applyProfile sets the language, work number and permissions of in on u
// (whose role is final), checking each. roleChanged resets the
// permissions to the new role's defaults unless in names them.
func (s *Server) applyProfile(ctx context.Context, u *User, in userInput, roleChanged bool) *failure {
	if in.Lang != nil {
		tag, f := s.validLang(*in.Lang)
		if f != nil {
			return f
		}
		u.Lang = tag
	}
	if in.Agent != nil {
		if f := validAgent(*in.Agent); f != nil {
			return f
		}
		if f := s.agentTaken(ctx, u.Login, *in.Agent); f != nil {
			return f
		}
		u.Agent = *in.Agent
	}
	switch {
	case in.Permissions != nil:
		o, f := overridesFor(u.Role, *in.Permissions)
		if f != nil {
			return f
		}
		u.Permissions = o
	case roleChanged:
		u.Permissions = nil
	}
	return nil
}

func validLogin(s string) *failure {
	if s == "" {
		return fail(http.StatusBadRequest, "err.login.required", "login")
	}
	if len(s) > maxLoginLen {
		return fail(http.StatusBadRequest, "err.login.format", "login", maxLoginLen)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '.' || r == '_' || r == '-')
		if !ok {
			return fail(http.StatusBadRequest, "err.login.format", "login", maxLoginLen)
		}
	}
	return nil
}

func validDisplayName(s string) *failure {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxDisplayNameLen {
		return fail(http.StatusBadRequest, "err.display_name.invalid", "display_name", maxDisplayNameLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fail(http.StatusBadRequest, "err.display_name.invalid", "display_name", maxDisplayNameLen)
		}
	}
	return nil
}

func validRole(s string) *failure {
	if !slices.Contains(Roles, s) {
		return fail(http.StatusBadRequest, "err.role.invalid", "role")
	}
	return nil
}

// passwordPolicy is the strength rule for a role's passwords: longer for
// administrators, who can change everything.
func passwordPolicy(role string) secret.Policy {
	if role == RoleAdmin {
		return secret.Admin
	}
	return secret.Staff
}

// validPassword checks a new password of login with role: its length and
// telephony/sip/secret's strength rule (not common, not the login, not a
// sequence), the same rule the SIP extension secrets follow.
func validPassword(pw, role, login string) *failure {
	if len(pw) > maxPasswordLen {
		return fail(http.StatusBadRequest, "err.password.too_long", "password", maxPasswordLen)
	}
	var w *secret.Weakness
	if !errors.As(secret.Check(pw, passwordPolicy(role), login), &w) {
		return nil
	}
	if w.Code == secret.TooShort {
		return fail(http.StatusBadRequest, "err.password.too_short", "password", w.Args...)
	}
	return fail(http.StatusBadRequest, "err.password.weak", "password", reasonMsg("secret."+w.Code, w.Args))
}

// reasonMsg is the translated reason with code, as an argument of a message.
func reasonMsg(code string, args []any) msg { return msg{key: "reason." + code, args: args} }

// storeFailure maps an error from Users onto a client failure.
func storeFailure(err error) *failure {
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err.user.not_found", "login")
	case errors.Is(err, ErrConflict):
		f := errField(err, ErrConflict)
		if f == "" {
			f = "login"
		}
		return fail(http.StatusConflict, "err.user.conflict", f)
	case errors.Is(err, ErrInvalid):
		return fail(http.StatusBadRequest, "err.invalid", errField(err, ErrInvalid))
	case errors.Is(err, ErrNoSpace):
		return noSpaceFailure(err)
	}
	return internal(err)
}

// noSpaceFailure says the storage is full: 507, logged with its cause.
func noSpaceFailure(err error) *failure {
	return &failure{status: http.StatusInsufficientStorage, key: "err.storage_full", err: err}
}

// hashWriteTimeout bounds the answer of a request that hashes or checks a
// password. argon2id at the box's cost takes about a second on the board but
// can take over a minute in emulation on a busy host, past the server's
// WriteTimeout: the login was then done but its answer dropped, and the
// client's second try hashed again behind the first.
const hashWriteTimeout = 5 * time.Minute

// patientWrite gives the routes that hash a password hashWriteTimeout to
// answer, counted from the request's start.
func patientWrite(c *gin.Context) {
	// A writer without deadlines (a test's recorder) has none to move.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(hashWriteTimeout))
	c.Next()
}

// hashPassword makes new password hashes; tests swap in cheap parameters.
var hashPassword = passwd.Hash

// hash runs hashPassword under the hashing semaphore: argon2id takes 19 MiB
// per call, and a burst of logins must not exhaust the board's memory.
func (s *Server) hash(ctx context.Context, pw string) (string, *failure) {
	if err := s.acquire(ctx); err != nil {
		return "", internal(err)
	}
	defer s.release()
	h, err := hashPassword(pw)
	if err != nil {
		return "", internal(err)
	}
	return h, nil
}

// verify is passwd.Verify under the hashing semaphore.
func (s *Server) verify(ctx context.Context, hash, pw string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	return passwd.Verify(hash, pw)
}

func (s *Server) acquire(ctx context.Context) error {
	select {
	case s.hashSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) release() { <-s.hashSem }

// createUser validates in and stores a new user.
func (s *Server) createUser(ctx context.Context, in userInput) (User, *failure) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	var u User
	if in.Login == nil {
		return u, fail(http.StatusBadRequest, "err.login.required", "login")
	}
	if f := validLogin(*in.Login); f != nil {
		return u, f
	}
	u.Login = *in.Login
	if in.DisplayName != nil {
		if f := validDisplayName(*in.DisplayName); f != nil {
			return u, f
		}
		u.DisplayName = *in.DisplayName
	}
	if in.Role == nil {
		return u, fail(http.StatusBadRequest, "err.role.invalid", "role")
	}
	if f := validRole(*in.Role); f != nil {
		return u, f
	}
	u.Role = *in.Role
	if in.Password == nil {
		return u, fail(http.StatusBadRequest, "err.password.too_short", "password", passwordPolicy(u.Role).MinLen)
	}
	if f := validPassword(*in.Password, u.Role, u.Login); f != nil {
		return u, f
	}
	if in.Disabled != nil {
		u.Disabled = *in.Disabled
	}
	if f := s.applyProfile(ctx, &u, in, false); f != nil {
		return u, f
	}
	h, f := s.hash(ctx, *in.Password)
	if f != nil {
		return u, f
	}
	u.PasswordHash = h
	u.Created = s.now().UTC()
	u.Updated = u.Created
	if err := s.cfg.Users.Create(ctx, u); err != nil {
		return u, storeFailure(err)
	}
	return u, nil
}

// enabledAdmins counts the enabled administrators.
func (s *Server) enabledAdmins(ctx context.Context) (int, *failure) {
	us, err := s.cfg.Users.List(ctx)
	if err != nil {
		return 0, internal(err)
	}
	n := 0
	for _, u := range us {
		if u.Role == RoleAdmin && !u.Disabled {
			n++
		}
	}
	return n, nil
}

// updateUser applies in to the user login. keep is the acting session,
// which survives a password change of its own user.
func (s *Server) updateUser(ctx context.Context, login string, in userInput, keep string) (User, *failure) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	u, err := s.cfg.Users.Get(ctx, login)
	if err != nil {
		return u, storeFailure(err)
	}
	if in.Login != nil && *in.Login != login {
		return u, fail(http.StatusBadRequest, "err.login.immutable", "login")
	}
	if in.DisplayName != nil {
		if f := validDisplayName(*in.DisplayName); f != nil {
			return u, f
		}
		u.DisplayName = *in.DisplayName
	}
	wasAdmin := u.Role == RoleAdmin && !u.Disabled
	oldRole := u.Role
	if in.Role != nil {
		if f := validRole(*in.Role); f != nil {
			return u, f
		}
		u.Role = *in.Role
	}
	if in.Disabled != nil {
		u.Disabled = *in.Disabled
	}
	if wasAdmin && (u.Role != RoleAdmin || u.Disabled) {
		n, f := s.enabledAdmins(ctx)
		if f != nil {
			return u, f
		}
		if n <= 1 {
			field := "role"
			if u.Disabled {
				field = "disabled"
			}
			return u, fail(http.StatusConflict, "err.user.last_admin", field)
		}
	}
	if f := s.applyProfile(ctx, &u, in, u.Role != oldRole); f != nil {
		return u, f
	}
	newPassword := in.Password != nil && *in.Password != ""
	if newPassword {
		if f := validPassword(*in.Password, u.Role, u.Login); f != nil {
			return u, f
		}
		h, f := s.hash(ctx, *in.Password)
		if f != nil {
			return u, f
		}
		u.PasswordHash = h
	}
	u.Updated = s.now().UTC()
	if err := s.cfg.Users.Update(ctx, u); err != nil {
		return u, storeFailure(err)
	}
	if u.Disabled {
		s.sess.destroyUser(u.Login, "")
	} else if newPassword {
		s.sess.destroyUser(u.Login, keep)
	}
	if newPassword {
		s.trusted.forget(u.Login)
	}
	return u, nil
}

// deleteUser removes login unless it is the last enabled administrator.
func (s *Server) deleteUser(ctx context.Context, login string) *failure {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	u, err := s.cfg.Users.Get(ctx, login)
	if err != nil {
		return storeFailure(err)
	}
	if u.Role == RoleAdmin && !u.Disabled {
		n, f := s.enabledAdmins(ctx)
		if f != nil {
			return f
		}
		if n <= 1 {
			return fail(http.StatusConflict, "err.user.last_admin", "login")
		}
	}
	if err := s.cfg.Users.Delete(ctx, login); err != nil {
		return storeFailure(err)
	}
	s.sess.destroyUser(login, "")
	return nil
}

// setupInput is the setup form: the code from the console and the
// administrator's login and new password.
type setupInput struct {
	Code        string `json:"code"`
	Login       string `json:"login"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
}

// firstBoot reports whether no user exists yet.
func (s *Server) firstBoot(ctx context.Context) (bool, *failure) {
	n, err := s.cfg.Users.Count(ctx)
	if err != nil {
		return false, internal(err)
	}
	return n == 0, nil
}

// setup checks the setup code and then either creates the first
// administrator or sets a new password for an existing one (enabling it).
// A login that does not exist yet becomes a new administrator.
func (s *Server) setup(ctx context.Context, addr string, in setupInput) *failure {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	// Only per address: a budget shared by all addresses let a guesser
	// hold the installer out. The code's own guess budget (setupCode)
	// bounds what many addresses together can try.
	addr = addrKey(addr)
	if d := s.setupThr.wait(addr); d > 0 {
		return retryFailure(d)
	}
	switch s.code.check(in.Code) {
	case codeWrong:
		s.setupThr.fail(addr)
		return fail(http.StatusForbidden, "err.setup.code", "code")
	case codeWithdrawn:
		s.log.Warn("webui: setup code withdrawn after too many wrong guesses; issue a new one with passwd-reset on the console",
			"guesses", maxCodeGuesses)
		s.setupThr.fail(addr)
		return fail(http.StatusForbidden, "err.setup.code", "code")
	}
	if f := validLogin(in.Login); f != nil {
		return f
	}
	if f := validDisplayName(in.DisplayName); f != nil {
		return f
	}
	if f := validPassword(in.Password, RoleAdmin, in.Login); f != nil {
		return f
	}
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	u, err := s.cfg.Users.Get(ctx, in.Login)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return internal(err)
	}
	if exists && u.Role != RoleAdmin {
		return fail(http.StatusBadRequest, "err.setup.not_admin", "login")
	}
	h, f := s.hash(ctx, in.Password)
	if f != nil {
		return f
	}
	if !s.code.consume(in.Code) {
		return fail(http.StatusForbidden, "err.setup.code", "code")
	}
	now := s.now().UTC()
	if exists {
		u.PasswordHash, u.Disabled, u.Updated = h, false, now
		if in.DisplayName != "" {
			u.DisplayName = in.DisplayName
		}
		err = s.cfg.Users.Update(ctx, u)
		s.sess.destroyUser(u.Login, "")
		s.trusted.forget(u.Login)
		s.acctThr.succeed(u.Login)
	} else {
		u = User{Login: in.Login, DisplayName: in.DisplayName, Role: RoleAdmin, PasswordHash: h, Created: now, Updated: now}
		err = s.cfg.Users.Create(ctx, u)
	}
	if err != nil {
		return storeFailure(err)
	}
	s.setupThr.succeed(addr)
	s.log.Info("webui: setup completed", "login", u.Login, "created", !exists)
	return nil
}

func retryFailure(d time.Duration) *failure {
	secs := int((d + time.Second - 1) / time.Second)
	return fail(http.StatusTooManyRequests, "err.retry_after", "", secs)
}

// login checks credentials from addr under two throttles: one per address,
// and one per account across addresses (so many addresses together cannot
// guess freely). The account's is a delay, not a lockout: its owner gets
// in once it has passed, at once from an address it logged in from before,
// and a success clears it.
func (s *Server) login(ctx context.Context, addr, login, pw string) (User, *failure) {
	addr = addrKey(addr)
	if d := s.loginThr.wait(addr); d > 0 {
		return User{}, retryFailure(d)
	}
	u, err := s.cfg.Users.Get(ctx, login)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return u, internal(err)
	}
	// Unknown names have a table of their own, so spraying made-up names
	// cannot push a real account's count out, yet they answer alike.
	acct := s.ghostThr
	if found {
		acct = s.acctThr
	}
	if !s.trusted.has(login, addr) {
		if d := acct.wait(login); d > 0 {
			s.log.Info("webui: login delayed: too many failures for this account", "login", login, "addr", addr)
			return User{}, fail(http.StatusTooManyRequests, "err.login.account_wait", "", int((d+time.Second-1)/time.Second))
		}
	}
	hash := u.PasswordHash
	if !found {
		// Spend the same time as for a real user, so timing does not tell
		// which logins exist.
		hash = s.dummyHash()
	}
	ok, err := s.verify(ctx, hash, pw)
	if err != nil && found {
		s.log.Warn("webui: stored password hash unusable", "login", login, "err", err)
	}
	if !found || !ok || u.Disabled {
		s.loginThr.fail(addr)
		acct.fail(login)
		s.log.Info("webui: login failed", "login", login, "addr", addr)
		return u, fail(http.StatusUnauthorized, "err.login.failed", "")
	}
	s.loginThr.succeed(addr)
	s.acctThr.succeed(login)
	s.trusted.add(login, addr)
	return u, nil
}

func (s *Server) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := hashPassword(randToken())
		if err != nil {
			h = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E"
		}
		s.dummy = h
	})
	return s.dummy
}
