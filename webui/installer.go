package webui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

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
//
// PutInstaller errors wrap ErrInvalid and name the field through a
// JSONField() method, as the PBX's do.
type Installer interface {
	GetInstaller(ctx context.Context) (json.RawMessage, error)
	PutInstaller(ctx context.Context, doc json.RawMessage) (json.RawMessage, error)
	FactoryReset(ctx context.Context) error
}

func (s *Server) installerRoutes(authed *gin.RouterGroup) {
	g := authed.Group("/installer", s.need(PermSystem), s.needInstaller)
	g.GET("", s.apiGetInstaller)
	g.PUT("", s.apiPutInstaller)
	g.POST("/factory-reset", s.apiFactoryReset)
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
		if errors.Is(err, ErrInvalid) {
			field := ""
			var fe interface{ JSONField() string }
			if errors.As(err, &fe) {
				field = fe.JSONField()
			}
			s.failWith(c, fail(http.StatusBadRequest, "err.pbx.invalid", field, field, err.Error()))
			return
		}
		s.failWith(c, internal(err))
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
	if in.Confirm != "ERASE" {
		s.failWith(c, fail(http.StatusBadRequest, "err.installer.confirm", "confirm"))
		return
	}
	u, _ := userOf(c)
	s.log.Warn("webui: factory reset", "user", u.Login, "addr", c.ClientIP())
	if err := s.cfg.Installer.FactoryReset(c.Request.Context()); err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"erasing": true, "restarting": true})
}
