package webui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Installer is the installer's settings (LAN address, time zone, NTP
// servers; JSON as firmware/installer defines it, with the NTP sync state)
// and the factory reset, given as Config.Installer; without it the routes
// answer 503. Administrators only:
//
//	GET  /api/v1/installer                 the settings and the sync state
//	PUT  /api/v1/installer                 replace the settings (checked whole)
//	POST /api/v1/installer/factory-reset   body {"confirm":"ERASE"}: erase and restart
//	GET  /installer                        the page: the settings' form, the
//	                                       sync state, the factory reset
//	POST /installer, /installer/factory-reset   its forms
//
// PutInstaller errors wrap ErrInvalid and name the field through a
// JSONField() method, as the PBX's do, with a reason code where they have
// one (ReasonCode).
type Installer interface {
	GetInstaller(ctx context.Context) (json.RawMessage, error)
	PutInstaller(ctx context.Context, doc json.RawMessage) (json.RawMessage, error)
	FactoryReset(ctx context.Context) error
}

// factoryResetWord is what the administrator types to confirm a factory
// reset, in every language.
const factoryResetWord = "ERASE"

func (s *Server) installerRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	g := authed.Group("/installer", s.need(PermSystem), s.needInstaller)
	g.GET("", s.apiGetInstaller)
	g.PUT("", s.apiPutInstaller)
	g.POST("/factory-reset", s.apiFactoryReset)
	p := e.Group("/installer", s.requireUser(false), s.need(PermSystem), s.needInstaller)
	p.GET("", s.pageInstaller)
	p.POST("", s.postInstaller)
	p.POST("/factory-reset", s.postFactoryReset)
}

func (s *Server) needInstaller(c *gin.Context) {
	if s.cfg.Installer == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.installer.unavailable", ""))
		c.Abort()
	}
}

func (s *Server) apiGetInstaller(c *gin.Context) {
	doc, err := s.cfg.Installer.GetInstaller(c.Request.Context())
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
}

func (s *Server) apiPutInstaller(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.failWith(c, fail(http.StatusRequestEntityTooLarge, "err.body.too_large", ""))
		return
	}
	if err != nil || !json.Valid(body) {
		s.failWith(c, fail(http.StatusBadRequest, "err.body.invalid", ""))
		return
	}
	doc, err := s.cfg.Installer.PutInstaller(c.Request.Context(), body)
	if err != nil {
		s.failWith(c, s.settingFailure(err))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
}

func (s *Server) apiFactoryReset(c *gin.Context) {
	var in struct {
		Confirm string `json:"confirm"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	if in.Confirm != factoryResetWord {
		s.failWith(c, fail(http.StatusBadRequest, "err.installer.confirm", "confirm"))
		return
	}
	if err := s.factoryReset(c); err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"erasing": true, "restarting": true})
}

// factoryReset logs who asked and erases the box.
func (s *Server) factoryReset(c *gin.Context) error {
	u, _ := userOf(c)
	s.log.Warn("webui: factory reset", "user", u.Login, "addr", c.ClientIP())
	return s.cfg.Installer.FactoryReset(c.Request.Context())
}

// installerDoc is the settings document as the page reads and writes it
// (firmware/installer's JSON, with the NTP sync state).
type installerDoc struct {
	Network struct {
		Mode    string   `json:"mode"`
		Address string   `json:"address,omitempty"`
		Gateway string   `json:"gateway,omitempty"`
		DNS     []string `json:"dns,omitempty"`
	} `json:"network"`
	Time struct {
		Zone string   `json:"zone"`
		NTP  []string `json:"ntp"`
	} `json:"time"`
	Sync *struct {
		Server string        `json:"server"`
		At     time.Time     `json:"at"`
		Offset time.Duration `json:"offset"`
		Set    bool          `json:"set"`
		Err    string        `json:"error"`
	} `json:"sync,omitempty"`
}

// installerForm is the page's form: lists as the person typed them.
type installerForm struct {
	Mode, Address, Gateway, DNS, Zone, NTP string
}

func formOfDoc(d installerDoc) installerForm {
	return installerForm{Mode: d.Network.Mode, Address: d.Network.Address, Gateway: d.Network.Gateway,
		DNS: strings.Join(d.Network.DNS, " "), Zone: d.Time.Zone, NTP: strings.Join(d.Time.NTP, " ")}
}

// fields splits a list typed with spaces or commas.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// installerPage renders the page with d; the form shows the stored
// settings unless d has one.
func (s *Server) installerPage(c *gin.Context, status int, d gin.H) {
	raw, err := s.cfg.Installer.GetInstaller(c.Request.Context())
	var doc installerDoc
	if err == nil {
		err = json.Unmarshal(raw, &doc)
	}
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	if _, ok := d["Form"]; !ok {
		d["Form"] = formOfDoc(doc)
	}
	d["Sync"], d["Word"] = doc.Sync, factoryResetWord
	s.render(c, status, "installer", d)
}

func (s *Server) pageInstaller(c *gin.Context) {
	d := gin.H{}
	if c.Query("msg") == "saved" {
		d["Notice"] = s.cat.T(langOf(c), "installer.saved")
	}
	s.installerPage(c, http.StatusOK, d)
}

func (s *Server) postInstaller(c *gin.Context) {
	f := installerForm{Mode: c.PostForm("mode"), Address: strings.TrimSpace(c.PostForm("address")),
		Gateway: strings.TrimSpace(c.PostForm("gateway")), DNS: c.PostForm("dns"),
		Zone: strings.TrimSpace(c.PostForm("zone")), NTP: c.PostForm("ntp")}
	var doc installerDoc
	doc.Network.Mode = f.Mode
	if f.Mode == "static" {
		// DHCP takes none of these: what was typed for a static address
		// stays in the form only.
		doc.Network.Address, doc.Network.Gateway, doc.Network.DNS = f.Address, f.Gateway, fields(f.DNS)
	}
	doc.Time.Zone, doc.Time.NTP = f.Zone, fields(f.NTP)
	if doc.Time.NTP == nil {
		doc.Time.NTP = []string{}
	}
	raw, _ := json.Marshal(doc)
	_, err := s.cfg.Installer.PutInstaller(c.Request.Context(), raw)
	s.afterSave(c, err, "/installer?msg=saved", func(fl *failure) {
		s.installerPage(c, fl.status, gin.H{"Form": f, "Error": s.failText(c, fl), "Field": fl.field})
	})
}

func (s *Server) postFactoryReset(c *gin.Context) {
	if strings.TrimSpace(c.PostForm("confirm")) != factoryResetWord {
		s.installerPage(c, http.StatusBadRequest, gin.H{"ResetError": s.cat.T(langOf(c), "installer.reset_confirm_wrong", factoryResetWord)})
		return
	}
	if err := s.factoryReset(c); err != nil {
		s.failWith(c, internal(err))
		return
	}
	s.installerPage(c, http.StatusOK, gin.H{"Erasing": true})
}
