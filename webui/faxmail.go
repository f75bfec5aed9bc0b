package webui

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"

	"github.com/gin-gonic/gin"
)

// faxmail.go: the fax mail map's page, /fax/mail: which received fax is
// mailed to which address, by the number it was sent to (a fax DID), the
// trunk or line it came in on (a fax trunk), or "*" for every other. It
// reads and writes the fax settings (the same as GET/PUT
// /api/v1/fax/settings) and changes only their "mail" map; administrators
// (PermPBX, as the API's PUT) use it.

const faxMailPage = "/fax/mail"

// faxMailRoute is one line of the mail map's form.
type faxMailRoute struct {
	Key   string // the number, trunk or "*"
	Kind  string // "number", "trunk" or "other"
	Field string // the form field: "mail." + Key
	To    string
}

func (s *Server) faxMailRoutes(e *gin.Engine) {
	g := e.Group(faxMailPage, s.requireUser(false), s.need(PermPBX), s.needFax)
	g.GET("", s.pageFaxMail)
	g.POST("", s.postFaxMail)
}

// faxMailSettings reads the fax settings: all of them, raw (to write
// back what the page does not show), and the parts the page shows.
func (s *Server) faxMailSettings(c *gin.Context) (map[string]json.RawMessage, []faxMailRoute, *failure) {
	raw, err := s.cfg.Fax.FaxSettings(c.Request.Context())
	if err != nil {
		return nil, nil, faxFailure(err, "")
	}
	var all map[string]json.RawMessage
	var st struct {
		Numbers []string          `json:"numbers"`
		Trunks  []string          `json:"trunks"`
		Mail    map[string]string `json:"mail"`
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, nil, internal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, nil, internal(err)
	}
	var routes []faxMailRoute
	add := func(key, kind string) {
		for _, r := range routes {
			if r.Key == key {
				return
			}
		}
		routes = append(routes, faxMailRoute{Key: key, Kind: kind, Field: "mail." + key, To: st.Mail[key]})
	}
	for _, n := range st.Numbers {
		add(n, "number")
	}
	for _, t := range st.Trunks {
		add(t, "trunk")
	}
	add("*", "other")
	return all, routes, nil
}

func (s *Server) pageFaxMail(c *gin.Context) {
	_, routes, f := s.faxMailSettings(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	d := gin.H{"Routes": routes}
	if c.Query("msg") == "saved" {
		d["Notice"] = s.cat.T(langOf(c), "fax.mail.saved")
	}
	s.render(c, http.StatusOK, "fax_mail", d)
}

// postFaxMail saves the form's map: an empty address mails nothing.
func (s *Server) postFaxMail(c *gin.Context) {
	all, routes, f := s.faxMailSettings(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	m := map[string]string{}
	var bad *failure
	for i := range routes {
		r := &routes[i]
		r.To = strings.TrimSpace(c.PostForm(r.Field))
		if r.To == "" {
			continue
		}
		if a, err := mail.ParseAddress(r.To); (err != nil || a.Address != r.To || len(r.To) > 254) && bad == nil {
			bad = fail(http.StatusBadRequest, "err.fax.mail", r.Field, r.To)
		}
		m[r.Key] = r.To
	}
	if bad == nil {
		mj, _ := json.Marshal(m)
		all["mail"] = mj
		raw, _ := json.Marshal(all)
		if _, err := s.cfg.Fax.FaxSetSettings(c.Request.Context(), raw); err != nil {
			bad = faxFailure(err, "")
		}
	}
	if bad != nil {
		if bad.status >= 500 {
			s.failWith(c, bad)
			return
		}
		s.render(c, bad.status, "fax_mail", gin.H{"Routes": routes, "Error": s.failText(c, bad), "Field": bad.field})
		return
	}
	c.Redirect(http.StatusSeeOther, faxMailPage+"?msg=saved")
}
