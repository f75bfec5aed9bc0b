package webui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Updates is the firmware update the web admin drives, given as
// Config.Updates; without it the update routes answer 503. Administrators
// only:
//
//	GET  /api/v1/update        -> UpdateStatus
//	POST /api/v1/update        body: the bundle (Content-Type
//	                           application/octet-stream), streamed into the
//	                           inactive slot -> {"manifest": ..., "status": ...}
//	POST /api/v1/update/apply  activate the installed slot and reboot
//	GET  /update, POST /update/apply   the page (upload with a progress bar,
//	                           the manifest shown before it is applied)
//
// InstallUpdate errors wrap ErrInvalid when the bundle was refused before
// anything was written (signature, board, version, size), ErrConflict when
// another install runs; any other error means the bundle was found damaged
// while written and the inactive slot is marked bad. The message says why.
type Updates interface {
	UpdateStatus(ctx context.Context) UpdateStatus
	InstallUpdate(ctx context.Context, r io.Reader, size int64) (UpdateManifest, error)
	// ApplyUpdate activates the installed slot and reboots shortly after
	// returning.
	ApplyUpdate(ctx context.Context) (UpdateManifest, error)
}

// UpdateStatus is the slots and what an install is doing.
type UpdateStatus struct {
	Available  bool            `json:"available"`
	Reason     string          `json:"reason,omitempty"`
	Board      string          `json:"board"`
	Simulated  bool            `json:"simulated"`
	Booted     string          `json:"booted"`
	Version    string          `json:"version"`
	BootOrder  []string        `json:"boot_order"`
	Slots      []UpdateSlot    `json:"slots"`
	Pending    *UpdateManifest `json:"pending,omitempty"`
	Installing bool            `json:"installing"`
	Done       int64           `json:"done"`
	Total      int64           `json:"total"`
	LastError  string          `json:"last_error,omitempty"`
	MarkedGood bool            `json:"marked_good"`
}

// UpdateSlot is one A/B slot.
type UpdateSlot struct {
	Name         string `json:"name"`
	Booted       bool   `json:"booted"`
	Version      string `json:"version"`
	State        string `json:"state"` // good, trying, installed, bad, empty
	AttemptsLeft int    `json:"attempts_left"`
}

// UpdateManifest is a bundle's signed manifest.
type UpdateManifest struct {
	Version    string        `json:"version"`
	MinVersion string        `json:"min_version,omitempty"`
	Compatible []string      `json:"compatible"`
	Created    time.Time     `json:"created"`
	Notes      string        `json:"notes,omitempty"`
	Images     []UpdateImage `json:"images"`
}

// UpdateImage is one image of a bundle.
type UpdateImage struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Upload limits: a bundle is two slots' worth at most, and a slow link
// gets half an hour for it.
const (
	updatePath          = "/api/v1/update"
	MaxUpdateBytes      = 1 << 30
	updateUploadTimeout = 30 * time.Minute
)

// bodyLimit is the request body limit: the small default, except for a
// bundle upload to the update API and a backup to restore, which are
// streamed. Only an
// application/octet-stream body is let through: the CSRF check never parses
// one as a form.
func bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && (r.URL.Path == updatePath || r.URL.Path == restorePath) && r.Header.Get("Content-Type") == "application/octet-stream" {
		return MaxUpdateBytes
	}
	return documentLimit(r.URL.Path)
}

func (s *Server) updateRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	g := authed.Group("/update", s.need(PermSystem), s.needUpdates)
	g.GET("", s.apiUpdateStatus)
	g.POST("", s.apiUpdateUpload)
	g.POST("/apply", s.apiUpdateApply)
	p := e.Group("/update", s.requireUser(false), s.need(PermSystem), s.needUpdates)
	p.GET("", s.pageUpdate)
	p.POST("/apply", s.postUpdateApply)
}

func (s *Server) needUpdates(c *gin.Context) {
	if s.cfg.Updates == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.update.unavailable", ""))
		c.Abort()
	}
}

func (s *Server) apiUpdateStatus(c *gin.Context) {
	c.JSON(http.StatusOK, s.cfg.Updates.UpdateStatus(c.Request.Context()))
}

// updateFailure maps an install or apply error onto the answer.
func updateFailure(err error) *failure {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fail(http.StatusRequestEntityTooLarge, "err.body.too_large", "")
	case errors.Is(err, ErrInvalid):
		return fail(http.StatusBadRequest, "err.update.refused", "", err.Error())
	case errors.Is(err, ErrConflict):
		return fail(http.StatusConflict, "err.update.busy", "", err.Error())
	}
	return fail(http.StatusUnprocessableEntity, "err.update.failed", "", err.Error())
}

func (s *Server) apiUpdateUpload(c *gin.Context) {
	if c.ContentType() != "application/octet-stream" {
		s.failWith(c, fail(http.StatusUnsupportedMediaType, "err.update.content_type", ""))
		return
	}
	// The server's timeouts are for forms; a bundle over a slow link takes
	// longer to arrive and to be written.
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(updateUploadTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(updateUploadTimeout))
	size := c.Request.ContentLength
	if size > MaxUpdateBytes {
		s.failWith(c, fail(http.StatusRequestEntityTooLarge, "err.body.too_large", ""))
		return
	}
	u, _ := userOf(c)
	s.log.Warn("webui: firmware upload", "user", u.Login, "bytes", size, "addr", c.ClientIP())
	m, err := s.cfg.Updates.InstallUpdate(c.Request.Context(), c.Request.Body, size)
	if err != nil {
		s.failWith(c, updateFailure(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"manifest": m, "status": s.cfg.Updates.UpdateStatus(c.Request.Context())})
}

func (s *Server) apiUpdateApply(c *gin.Context) {
	m, err := s.cfg.Updates.ApplyUpdate(c.Request.Context())
	if err != nil {
		s.failWith(c, fail(http.StatusConflict, "err.update.apply", "", err.Error()))
		return
	}
	c.JSON(http.StatusOK, gin.H{"applied": m, "rebooting": true})
}

func (s *Server) pageUpdate(c *gin.Context) {
	s.render(c, http.StatusOK, "update", gin.H{"Status": s.cfg.Updates.UpdateStatus(c.Request.Context()),
		"Max": int64(MaxUpdateBytes)})
}

func (s *Server) postUpdateApply(c *gin.Context) {
	m, err := s.cfg.Updates.ApplyUpdate(c.Request.Context())
	if err != nil {
		s.render(c, http.StatusConflict, "update", gin.H{"Status": s.cfg.Updates.UpdateStatus(c.Request.Context()),
			"Error": s.cat.T(langOf(c), "err.update.apply", err.Error())})
		return
	}
	s.render(c, http.StatusOK, "update", gin.H{"Status": s.cfg.Updates.UpdateStatus(c.Request.Context()), "Applied": m})
}
