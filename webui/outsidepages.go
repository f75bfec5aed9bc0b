package webui

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// The outside interfaces' page, /outside: the modem's state, sending SMS,
// the outbox and inbox (PermSMS), and for holders of PermSystem the settings of the modem, the SMTP server and the
// outside database, the email test button, the webhooks and the API tokens
// (a new token's text is shown on the page that answers its creation,
// once).

// asJSON turns an implementation's answer into maps and lists the
// template can walk (the answers are JSON objects by contract).
func asJSON(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

func (s *Server) outsidePageRoutes(e *gin.Engine) {
	g := e.Group("/outside", s.requireUser(false), s.need(PermSMS))
	g.GET("", func(c *gin.Context) { s.renderOutside(c, http.StatusOK, gin.H{}) })
	g.POST("/sms", s.postOutsideSMS)
	admin := g.Group("", s.need(PermSystem))
	admin.POST("/mail/test", s.postOutsideMailTest)
	admin.POST("/settings/:part", s.postOutsideSettings)
	admin.POST("/webhooks", s.postOutsideWebhook)
	admin.POST("/webhooks/:id/delete", s.postOutsideWebhookDelete)
	admin.POST("/tokens", s.postOutsideToken)
	admin.POST("/tokens/:id/revoke", s.postOutsideRevoke)
}

// outsideNotices are the messages a redirect back to the page names.
var outsideNotices = map[string]string{
	"queued":  "outside.sms.queued",
	"mailed":  "outside.mail.sent",
	"revoked": "outside.tokens.revoked",
	"saved":   "outside.settings.saved",
	"deleted": "outside.webhooks.deleted",
}

func (s *Server) renderOutside(c *gin.Context, status int, d gin.H) {
	if k, ok := outsideNotices[c.Query("msg")]; ok && d["Notice"] == nil {
		d["Notice"] = s.cat.T(langOf(c), k)
	}
	o := s.cfg.Outside
	if o == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return
	}
	ctx := c.Request.Context()
	var err error
	get := func(key string, f func() (any, error)) {
		if err != nil {
			return
		}
		var v any
		v, err = f()
		d[key] = asJSON(v)
	}
	get("SMS", func() (any, error) { return o.Status(ctx, "sms") })
	get("Outbox", func() (any, error) { return o.SMSMessages(ctx, "out", 20) })
	get("Inbox", func() (any, error) { return o.SMSMessages(ctx, "in", 20) })
	if u, _ := userOf(c); u.Can(PermSystem) {
		get("Webhooks", func() (any, error) { return o.Webhooks(ctx) })
		if s.cfg.Tokens != nil {
			get("Tokens", func() (any, error) {
				list, err := s.cfg.Tokens.Tokens(ctx)
				views := make([]tokenView, 0, len(list))
				for _, t := range list {
					views = append(views, viewToken(t))
				}
				return views, err
			})
			d["Scopes"] = Scopes()
		}
		if err == nil {
			d["Settings"], err = s.outsideSettings(c, o)
		}
	}
	if err != nil {
		s.failWith(c, outsideFailure(err))
		return
	}
	s.render(c, status, "outside", d)
}

// formFailure renders the page again with a refusal, or fails outright.
func (s *Server) formFailure(c *gin.Context, err error, d gin.H) {
	f := outsideFailure(err)
	if f.status >= 500 {
		s.failWith(c, f)
		return
	}
	d["Error"] = s.failText(c, f)
	s.renderOutside(c, f.status, d)
}

func (s *Server) postOutsideSMS(c *gin.Context) {
	o := s.cfg.Outside
	if o == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return
	}
	to := strings.FieldsFunc(c.PostForm("to"), func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' || r == ' ' })
	req := gin.H{"to": to, "text": c.PostForm("text")}
	if at := strings.TrimSpace(c.PostForm("at")); at != "" {
		req["at"] = at
	}
	body, _ := json.Marshal(req)
	u, _ := userOf(c)
	if _, err := o.SendSMS(c.Request.Context(), body, u.Login); err != nil {
		s.formFailure(c, err, gin.H{"Form": gin.H{"to": c.PostForm("to"), "text": c.PostForm("text"), "at": c.PostForm("at")}})
		return
	}
	c.Redirect(http.StatusSeeOther, "/outside?msg=queued")
}

func (s *Server) postOutsideMailTest(c *gin.Context) {
	o := s.cfg.Outside
	if o == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return
	}
	to := strings.TrimSpace(c.PostForm("to"))
	err := invalidf("give an address to send to")
	if to != "" {
		err = o.TestMail(c.Request.Context(), to)
	}
	if err != nil {
		s.formFailure(c, err, gin.H{"MailTo": to})
		return
	}
	c.Redirect(http.StatusSeeOther, "/outside?msg=mailed")
}

func (s *Server) postOutsideToken(c *gin.Context) {
	if s.cfg.Tokens == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return
	}
	u, _ := userOf(c)
	text, t, err := s.createToken(c.Request.Context(), c.PostForm("name"), c.PostFormArray("scopes"), u.Login)
	if err != nil {
		s.formFailure(c, err, gin.H{})
		return
	}
	// The text is shown on this answer only; a reload shows the list.
	c.Header("Cache-Control", "no-store")
	s.renderOutside(c, http.StatusCreated, gin.H{"NewToken": text, "NewTokenName": t.Name})
}

func (s *Server) postOutsideRevoke(c *gin.Context) {
	if s.cfg.Tokens == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return
	}
	if _, err := s.revokeToken(c.Request.Context(), c.Param("id")); err != nil {
		s.formFailure(c, err, gin.H{})
		return
	}
	c.Redirect(http.StatusSeeOther, "/outside?msg=revoked")
}

// settingsField is one field of a settings form: its JSON name, its kind
// (text, int, bool, secret or choice) and a choice's values. A secret left
// empty keeps the stored one.
type settingsField struct {
	Name, Kind string
	Choices    []string
}

// settingsForms are the settings forms of the page, by part.
var settingsForms = []struct {
	Part   string
	Fields []settingsField
}{
	{"sms", []settingsField{{"port", "text", nil}, {"baud", "int", nil}, {"pin", "secret", nil}}},
	{"mail", []settingsField{{"host", "text", nil}, {"port", "int", nil}, {"security", "choice", []string{"starttls", "tls", "none"}},
		{"user", "text", nil}, {"password", "secret", nil}, {"from", "text", nil}}},
	{"export", []settingsField{{"enabled", "bool", nil}, {"driver", "choice", []string{"postgres", "mysql"}}, {"host", "text", nil},
		{"port", "int", nil}, {"database", "text", nil}, {"user", "text", nil}, {"password", "secret", nil},
		{"tls", "choice", []string{"disable", "require", "verify"}}, {"prefix", "text", nil}}},
}

// settingsView is a settings form as the template shows it.
type settingsView struct {
	Part   string
	Fields []settingsFieldView
}

type settingsFieldView struct {
	settingsField
	Value any
	Set   bool // a secret is stored
}

// outsideSettings reads every part's settings for the forms.
func (s *Server) outsideSettings(c *gin.Context, o Outside) ([]settingsView, error) {
	var out []settingsView
	for _, f := range settingsForms {
		v, err := o.Settings(c.Request.Context(), f.Part)
		if err != nil {
			return nil, err
		}
		m, _ := asJSON(v).(map[string]any)
		sv := settingsView{Part: f.Part}
		for _, fld := range f.Fields {
			fv := settingsFieldView{settingsField: fld, Value: m[fld.Name]}
			if fld.Kind == "secret" {
				fv.Value, fv.Set = nil, m[fld.Name+"_set"] == true
			}
			sv.Fields = append(sv.Fields, fv)
		}
		out = append(out, sv)
	}
	return out, nil
}

func (s *Server) postOutsideSettings(c *gin.Context) {
	o := s.cfg.Outside
	if o == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return
	}
	part := c.Param("part")
	req := map[string]any{}
	found := false
	for _, f := range settingsForms {
		if f.Part != part {
			continue
		}
		found = true
		for _, fld := range f.Fields {
			v := strings.TrimSpace(c.PostForm(fld.Name))
			switch fld.Kind {
			case "bool":
				req[fld.Name] = v != ""
			case "int":
				if v == "" {
					continue
				}
				n, err := strconv.Atoi(v)
				if err != nil {
					s.formFailure(c, invalidf(fld.Name+" is a whole number"), gin.H{})
					return
				}
				req[fld.Name] = n
			case "secret":
				if v != "" {
					req[fld.Name] = v
				}
			default:
				req[fld.Name] = v
			}
		}
	}
	if !found {
		s.notFound(c)
		return
	}
	body, _ := json.Marshal(req)
	if _, err := o.SetSettings(c.Request.Context(), part, body); err != nil {
		s.formFailure(c, err, gin.H{})
		return
	}
	c.Redirect(http.StatusSeeOther, "/outside?msg=saved")
}

func (s *Server) postOutsideWebhook(c *gin.Context) {
	o := s.cfg.Outside
	if o == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return
	}
	types := strings.FieldsFunc(c.PostForm("types"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' })
	body, _ := json.Marshal(gin.H{"url": strings.TrimSpace(c.PostForm("url")), "types": types})
	v, err := o.PutWebhook(c.Request.Context(), "", body)
	if err != nil {
		s.formFailure(c, err, gin.H{"HookForm": gin.H{"url": c.PostForm("url"), "types": c.PostForm("types")}})
		return
	}
	// The secret is shown on this answer only.
	m, _ := asJSON(v).(map[string]any)
	c.Header("Cache-Control", "no-store")
	s.renderOutside(c, http.StatusCreated, gin.H{"NewSecret": m["secret"], "NewSecretURL": m["url"]})
}

func (s *Server) postOutsideWebhookDelete(c *gin.Context) {
	o := s.cfg.Outside
	if o == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
		return
	}
	if err := o.DeleteWebhook(c.Request.Context(), c.Param("id")); err != nil {
		s.formFailure(c, err, gin.H{})
		return
	}
	c.Redirect(http.StatusSeeOther, "/outside?msg=deleted")
}
