package webui

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/webui/internal/htmlpage"
)

// pageTemplate is one page parsed together with the shared layout.
type pageTemplate = htmlpage.Set

// pageFuncs are the functions the templates call, besides the builtins.
var pageFuncs = map[string]any{
	"bytes":     fmtBytes,
	"uptime":    fmtUptime,
	"datetime":  func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"unixms":    func(t time.Time) int64 { return t.UnixMilli() },
	"elapsed":   func(since, now time.Time) string { return fmtClock(now.Sub(since)) },
	"duration":  fmtClock,
	"hasPrefix": strings.HasPrefix,
	"seconds":   func(ms int64) float64 { return float64(ms) / 1000 },
	"dict":      dict,
	// when is datetime for an RFC 3339 string (an API answer's time).
	"when": func(v any) string {
		t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(v))
		if err != nil || t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04")
	},
}

// fmtClock shows a duration as the desks' clocks do: m:ss, or h:mm:ss
// from an hour (desk.js keeps them ticking the same way).
func fmtClock(d time.Duration) string {
	secs := max(int64(d/time.Second), 0)
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs%3600/60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// dict makes a map from key, value pairs, to hand several values to a
// shared template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: %d arguments, want pairs", len(kv))
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// loadPages parses every page under assets/templates with layout.html and
// the shared parts (files named part_*.html; embed skips names starting
// with "_").
func loadPages() (map[string]*pageTemplate, error) {
	names, err := fs.Glob(assets, "assets/templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("webui: templates: %w", err)
	}
	parts, err := fs.Glob(assets, "assets/templates/part_*.html")
	if err != nil {
		return nil, fmt.Errorf("webui: templates: %w", err)
	}
	pages := map[string]*pageTemplate{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || strings.HasPrefix(base, "part_") {
			continue
		}
		t := htmlpage.New(pageFuncs)
		for _, f := range append([]string{"assets/templates/layout.html", n}, parts...) {
			b, err := fs.ReadFile(assets, f)
			if err != nil {
				return nil, fmt.Errorf("webui: templates: %w", err)
			}
			if err := t.Parse(path.Base(f), string(b)); err != nil {
				return nil, fmt.Errorf("webui: templates: %s: %w", base, err)
			}
		}
		if err := t.Seal(); err != nil {
			return nil, fmt.Errorf("webui: templates: %s: %w", base, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// pageData is what every template sees: {{.T "key"}} translates, .D holds
// the page's own values.
type pageData struct {
	s     *Server
	Lang  string
	User  *userView
	CSRF  string
	Langs []langLink
	Path  string
	D     gin.H
}

// langLink is one entry of the language switch.
type langLink struct {
	Tag, Name, Href string
	Active          bool
}

// T translates key into the page's language.
func (p *pageData) T(key string, args ...any) string { return p.s.cat.T(p.Lang, key, args...) }

// IsAdmin reports whether the viewer is an administrator.
func (p *pageData) IsAdmin() bool { return p.User != nil && p.User.Role == RoleAdmin }

// render executes page name into a buffer first, so a template error gives
// a clean 500 rather than half a page.
func (s *Server) render(c *gin.Context, status int, name string, d gin.H) {
	s.renderPart(c, status, name, "layout.html", d)
}

// renderPart executes one template (part) of page name: the whole page is
// its "layout.html"; a page's live part is what a script swaps in.
func (s *Server) renderPart(c *gin.Context, status int, name, part string, d gin.H) {
	lang := langOf(c)
	p := &pageData{s: s, Lang: lang, Path: c.Request.URL.RequestURI(), D: d}
	if u, ok := userOf(c); ok {
		v := viewOf(u)
		p.User = &v
	}
	p.CSRF = s.csrfToken(c)
	next := c.Request.URL.RequestURI()
	if c.Request.Method != http.MethodGet {
		next = c.Request.URL.Path
	}
	for _, tag := range s.cat.Langs() {
		p.Langs = append(p.Langs, langLink{Tag: tag, Name: s.cat.T(tag, "lang.name"),
			Href: "/lang/" + tag + "?next=" + url.QueryEscape(next), Active: tag == lang})
	}
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("webui: no such page template", "name", name)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, part, p); err != nil {
		s.log.Error("webui: render", "page", name, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	if renderCheck != nil {
		renderCheck(name, part, p, buf.Bytes())
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// renderCheck, set by the tests, sees every page rendered (to render it
// again with html/template and compare).
var renderCheck func(name, part string, p *pageData, out []byte)

// safeNext keeps a post-login redirect on this site. It accepts only a
// local absolute path, judged as a browser will read it: the WHATWG URL
// parser drops tabs and newlines anywhere and leading or trailing spaces
// and controls, and reads a backslash as '/', so "/<TAB>/evil.example" and
// "/<backslash>evil" are "//evil..." to it, another host. Rather than mirror every rule, any
// control character, space or backslash refuses the value; what is left
// must parse as a path with no scheme or host and not start with "//".
// Anything else gives "/".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if b := next[i]; b <= ' ' || b == 0x7f || b == '\\' {
			return "/"
		}
	}
	if strings.HasPrefix(next, "//") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return next
}

func fmtBytes(n any) string {
	var v float64
	switch x := n.(type) {
	case int64:
		v = float64(x)
	case uint64:
		v = float64(x)
	case int:
		v = float64(x)
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

func fmtUptime(secs int64) string {
	d := secs / 86400
	h := secs % 86400 / 3600
	m := secs % 3600 / 60
	s := secs % 60
	if d > 0 {
		return fmt.Sprintf("%dd %02d:%02d:%02d", d, h, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// switchLang stores the chosen language in a cookie and goes back. It only
// sets a client-side preference, so it is a plain link (GET).
func (s *Server) switchLang(c *gin.Context) {
	tag := s.cat.Supported(c.Param("lang"))
	if tag == "" {
		s.notFound(c)
		return
	}
	s.setLangCookie(c, tag)
	c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
}

// postSwitchLang is the language switch of a logged-in user: a form
// (POST, with the CSRF token) because it changes the stored account.
func (s *Server) postSwitchLang(c *gin.Context) {
	tag := s.cat.Supported(c.Param("lang"))
	if tag == "" {
		s.notFound(c)
		return
	}
	if _, f := s.updateMe(c, meInput{Lang: &tag}); f != nil {
		s.failWith(c, f)
		return
	}
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
}

func (s *Server) setLangCookie(c *gin.Context, tag string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(c, langCookie), Value: tag, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: isTLS(c), SameSite: http.SameSiteLaxMode})
}

func (s *Server) pageHome(c *gin.Context) {
	d := gin.H{"Info": s.systemView(c)}
	// Administrators hear of an update the scheduled check found.
	if u, ok := userOf(c); ok && u.Role == RoleAdmin && s.cfg.Updates != nil {
		if st := s.cfg.Updates.UpdateStatus(c.Request.Context()); st.Check != nil && st.Check.Available {
			d["Update"] = st.Check
		}
	}
	s.render(c, http.StatusOK, "home", d)
}

func (s *Server) pageSetup(c *gin.Context) {
	s.renderSetup(c, http.StatusOK, setupInput{Login: "admin"}, nil)
}

func (s *Server) renderSetup(c *gin.Context, status int, in setupInput, f *failure) {
	first, ff := s.firstBoot(c.Request.Context())
	if ff != nil {
		s.failWith(c, ff)
		return
	}
	d := gin.H{"FirstBoot": first, "Login": in.Login, "DisplayName": in.DisplayName}
	if f != nil {
		d["Error"], d["Field"] = s.failText(c, f), f.field
	}
	s.render(c, status, "setup", d)
}

func (s *Server) postSetup(c *gin.Context) {
	in := setupInput{Code: c.PostForm("code"), Login: strings.TrimSpace(c.PostForm("login")),
		DisplayName: strings.TrimSpace(c.PostForm("display_name")), Password: c.PostForm("password")}
	if in.Password != c.PostForm("password2") {
		s.renderSetup(c, http.StatusBadRequest, in, fail(http.StatusBadRequest, "err.password.mismatch", "password2"))
		return
	}
	if f := s.setup(c.Request.Context(), c.ClientIP(), in); f != nil {
		if f.status >= 500 {
			s.failWith(c, f)
			return
		}
		s.renderSetup(c, f.status, in, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/login?done=setup")
}

func (s *Server) pageLogin(c *gin.Context) {
	if _, ok := userOf(c); ok {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	first, f := s.firstBoot(c.Request.Context())
	if f != nil {
		s.failWith(c, f)
		return
	}
	if first {
		c.Redirect(http.StatusSeeOther, "/setup")
		return
	}
	d := gin.H{"Next": safeNext(c.Query("next"))}
	if c.Query("done") == "setup" {
		d["Notice"] = s.cat.T(langOf(c), "login.setup_done")
	}
	s.render(c, http.StatusOK, "login", d)
}

func (s *Server) postLogin(c *gin.Context) {
	login := strings.TrimSpace(c.PostForm("login"))
	next := safeNext(c.PostForm("next"))
	u, f := s.login(c.Request.Context(), c.ClientIP(), login, c.PostForm("password"))
	if f != nil {
		if f.status >= 500 {
			s.failWith(c, f)
			return
		}
		s.render(c, f.status, "login", gin.H{"Next": next, "Login": login,
			"Error": s.failText(c, f)})
		return
	}
	s.startSession(c, u)
	s.log.Info("webui: login", "login", u.Login, "addr", c.ClientIP())
	s.deskLogin(c.Request.Context(), u, c.ClientIP())
	c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) postLogout(c *gin.Context) {
	if u, ok := userOf(c); ok {
		s.deskLogout(c.Request.Context(), u)
	}
	s.endSession(c)
	c.Redirect(http.StatusSeeOther, "/login")
}

// userForm is what the users pages echo back into their forms.
type userForm struct {
	Login, DisplayName, Role, Agent, Lang string
	Disabled                              bool
}

// permView is one permission on the user page.
type permView struct {
	Name, Label, Hint string
	Checked, Default  bool
	// Fixed: the role cannot hold it, or holds everything (admin).
	Fixed bool
	// ImpliedBy names the held permission that includes this one.
	ImpliedBy string
}

// permViews lists the permissions for a user of role holding held.
func (s *Server) permViews(lang, role string, held []Permission) []permView {
	out := make([]permView, 0, len(Permissions))
	for _, pi := range Permissions {
		name := string(pi.Name)
		v := permView{Name: name, Label: s.cat.T(lang, "perm."+name), Hint: s.cat.T(lang, "perm.hint."+name),
			Checked: role == RoleAdmin || slices.Contains(held, pi.Name),
			Default: role == RoleAdmin || slices.Contains(pi.Default, role),
			Fixed:   role == RoleAdmin || !slices.Contains(pi.Roles, role)}
		if role != RoleAdmin && pi.ImpliedBy != "" && slices.Contains(held, pi.ImpliedBy) {
			v.ImpliedBy, v.Fixed = s.cat.T(lang, "perm."+string(pi.ImpliedBy)), true
		}
		out = append(out, v)
	}
	return out
}

var userMessages = map[string]string{
	"created": "users.msg.created", "saved": "users.msg.saved", "deleted": "users.msg.deleted",
}

func (s *Server) pageUsers(c *gin.Context) {
	d := gin.H{"Form": userForm{Role: RoleAgent}}
	if k, ok := userMessages[c.Query("msg")]; ok {
		d["Notice"] = s.cat.T(langOf(c), k)
	}
	s.renderUsers(c, http.StatusOK, d)
}

func (s *Server) renderUsers(c *gin.Context, status int, d gin.H) {
	us, err := s.cfg.Users.List(c.Request.Context())
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	views := make([]userView, 0, len(us))
	for _, u := range us {
		views = append(views, viewOf(u))
	}
	d["Users"], d["Roles"], d["Langs"] = views, Roles, s.cat.Langs()
	s.render(c, status, "users", d)
}

// formInput reads the user form; empty password fields mean "unchanged".
func formInput(c *gin.Context, withLogin bool) (userInput, *failure) {
	var in userInput
	if withLogin {
		l := strings.TrimSpace(c.PostForm("login"))
		in.Login = &l
	}
	dn := strings.TrimSpace(c.PostForm("display_name"))
	role := c.PostForm("role")
	dis := c.PostForm("disabled") != ""
	agent := strings.TrimSpace(c.PostForm("agent"))
	lang := c.PostForm("lang")
	in.DisplayName, in.Role, in.Disabled, in.Agent, in.Lang = &dn, &role, &dis, &agent, &lang
	// The permission boxes are on the form when perms_shown is; they
	// belong to the role the form was drawn for, so a role changed in
	// the same post gives the new role's defaults instead.
	if c.PostForm("perms_shown") == role {
		perms := c.PostFormArray("perm")
		in.Permissions = &perms
	}
	if pw := c.PostForm("password"); pw != "" || withLogin {
		in.Password = &pw
		if pw != c.PostForm("password2") {
			return in, fail(http.StatusBadRequest, "err.password.mismatch", "password2")
		}
	}
	return in, nil
}

func formOf(in userInput) userForm {
	var f userForm
	if in.Login != nil {
		f.Login = *in.Login
	}
	if in.DisplayName != nil {
		f.DisplayName = *in.DisplayName
	}
	if in.Role != nil {
		f.Role = *in.Role
	}
	if in.Disabled != nil {
		f.Disabled = *in.Disabled
	}
	if in.Agent != nil {
		f.Agent = *in.Agent
	}
	if in.Lang != nil {
		f.Lang = *in.Lang
	}
	return f
}

func (s *Server) postCreateUser(c *gin.Context) {
	in, f := formInput(c, true)
	if f == nil {
		_, f = s.createUser(c.Request.Context(), in)
	}
	if f != nil {
		if f.status >= 500 {
			s.failWith(c, f)
			return
		}
		s.renderUsers(c, f.status, gin.H{"Form": formOf(in), "Error": s.failText(c, f), "Field": f.field})
		return
	}
	c.Redirect(http.StatusSeeOther, "/users?msg=created")
}

func (s *Server) pageEditUser(c *gin.Context) {
	u, err := s.cfg.Users.Get(c.Request.Context(), c.Param("login"))
	if err != nil {
		s.failWith(c, storeFailure(err))
		return
	}
	v := viewOf(u)
	s.render(c, http.StatusOK, "user", gin.H{"Form": userForm{Login: u.Login, DisplayName: u.DisplayName,
		Role: u.Role, Disabled: u.Disabled, Agent: u.Agent, Lang: u.Lang}, "U": v, "Roles": Roles, "Langs": s.cat.Langs(),
		"Perms": s.permViews(langOf(c), u.Role, v.Permissions)})
}

func (s *Server) postEditUser(c *gin.Context) {
	ss, _ := sessionOf(c)
	in, f := formInput(c, false)
	if f == nil {
		_, f = s.updateUser(c.Request.Context(), c.Param("login"), in, ss.ID)
	}
	s.afterChange(c, in, f, "saved")
}

// postSetDisabled enables or disables a user from the list.
func (s *Server) postSetDisabled(disabled bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		ss, _ := sessionOf(c)
		in := userInput{Disabled: &disabled}
		_, f := s.updateUser(c.Request.Context(), c.Param("login"), in, ss.ID)
		if f != nil {
			s.renderUsers(c, f.status, gin.H{"Form": userForm{Role: RoleAgent}, "Error": s.failText(c, f)})
			return
		}
		c.Redirect(http.StatusSeeOther, "/users?msg=saved")
	}
}

func (s *Server) postDeleteUser(c *gin.Context) {
	if f := s.deleteUser(c.Request.Context(), c.Param("login")); f != nil {
		if f.status >= 500 || f.status == http.StatusNotFound {
			s.failWith(c, f)
			return
		}
		s.renderUsers(c, f.status, gin.H{"Form": userForm{Role: RoleAgent}, "Error": s.failText(c, f)})
		return
	}
	c.Redirect(http.StatusSeeOther, "/users?msg=deleted")
}

// afterChange finishes an edit: back to the list, or the form again with
// the error next to its field.
func (s *Server) afterChange(c *gin.Context, in userInput, f *failure, msg string) {
	if f == nil {
		c.Redirect(http.StatusSeeOther, "/users?msg="+msg)
		return
	}
	if f.status >= 500 || f.status == http.StatusNotFound {
		s.failWith(c, f)
		return
	}
	u, err := s.cfg.Users.Get(c.Request.Context(), c.Param("login"))
	if err != nil {
		s.failWith(c, storeFailure(err))
		return
	}
	form := formOf(in)
	form.Login = u.Login
	held := viewOf(u).Permissions
	if in.Permissions != nil {
		held = nil
		for _, p := range *in.Permissions {
			held = append(held, Permission(p))
		}
	}
	s.render(c, f.status, "user", gin.H{"Form": form, "U": viewOf(u), "Roles": Roles, "Langs": s.cat.Langs(),
		"Perms": s.permViews(langOf(c), u.Role, held), "Error": s.failText(c, f), "Field": f.field})
}
