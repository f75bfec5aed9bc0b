package webui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
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
//	GET  /api/v1/update/settings       UpdateSettings
//	PUT  /api/v1/update/settings       replace them (checked whole)
//	POST /api/v1/update/check          check the update URL now -> UpdateCheck
//	POST /api/v1/update/fetch          download and install what the check
//	                                   found -> {"manifest": ..., "status": ...}
//	GET  /update, POST /update/apply   the page (upload with a progress bar,
//	                           the manifest shown before it is applied;
//	                           POST /update/settings, /update/check and
//	                           /update/fetch are its forms)
//
// InstallUpdate and FetchUpdate errors wrap ErrInvalid when the bundle was
// refused before anything was written (signature, board, version, size),
// ErrConflict when another install runs; any other error means the bundle
// was found damaged while written (or its download failed) and the
// inactive slot is marked bad. The message says why. SetUpdateSettings
// errors wrap ErrInvalid and name the field (JSONField, "check.url",
// "check.interval_hours" or "floor"), with a reason code where they have
// one (ReasonCode).
type Updates interface {
	UpdateStatus(ctx context.Context) UpdateStatus
	InstallUpdate(ctx context.Context, r io.Reader, size int64) (UpdateManifest, error)
	// ApplyUpdate activates the installed slot and reboots shortly after
	// returning.
	ApplyUpdate(ctx context.Context) (UpdateManifest, error)
	UpdateSettings(ctx context.Context) (UpdateSettings, error)
	SetUpdateSettings(ctx context.Context, s UpdateSettings) error
	// CheckUpdate reads the signed header of the bundle at the
	// configured URL; a failed check is a result with Error set.
	CheckUpdate(ctx context.Context) UpdateCheck
	// FetchUpdate downloads and installs the bundle the last check found
	// available; it is applied as an upload is.
	FetchUpdate(ctx context.Context) (UpdateManifest, error)
}

// UpdateSettings are the administrator's update settings: the scheduled
// check of an update URL (nothing is installed without FetchUpdate) and
// the version floor (older bundles are refused).
type UpdateSettings struct {
	Check UpdateCheckSettings `json:"check"`
	// Floor is the stored floor ("" for none); the daemon's --ota-floor
	// still applies when it is higher (UpdateStatus.Floor).
	Floor string `json:"floor"`
}

// UpdateCheckSettings turn the check on or off.
type UpdateCheckSettings struct {
	Enabled       bool   `json:"enabled"`
	URL           string `json:"url"`
	IntervalHours int    `json:"interval_hours"`
}

// UpdateCheck is what the last check of the update URL found.
type UpdateCheck struct {
	URL string    `json:"url,omitempty"`
	At  time.Time `json:"at,omitzero"`
	// Available: a newer version this box may install.
	Available bool   `json:"available"`
	Version   string `json:"version,omitempty"` // the offered bundle's
	Notes     string `json:"notes,omitempty"`
	// Refused says why a newer bundle may not be installed here.
	Refused string `json:"refused,omitempty"`
	Error   string `json:"error,omitempty"`
}

// UpdateStatus is the slots and what an install is doing.
type UpdateStatus struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	Board     string `json:"board"`
	Simulated bool   `json:"simulated"`
	Booted    string `json:"booted"`
	Version   string `json:"version"` // of the booted slot
	// Build is the binary's own version: in simulation the slots carry
	// their bundles' versions while the binary stays the one built.
	Build string `json:"build"`
	// Floor is the oldest version the box installs.
	Floor string `json:"floor,omitempty"`
	// Check is the last check of the update URL; nil before the first.
	Check      *UpdateCheck    `json:"check,omitempty"`
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
	g.GET("/settings", s.apiUpdateSettings)
	g.PUT("/settings", s.apiPutUpdateSettings)
	g.POST("/check", s.apiUpdateCheck)
	g.POST("/fetch", s.apiUpdateFetch)
	p := e.Group("/update", s.requireUser(false), s.need(PermSystem), s.needUpdates)
	p.GET("", s.pageUpdate)
	p.POST("/apply", s.postUpdateApply)
	p.POST("/settings", s.postUpdateSettings)
	p.POST("/check", s.postUpdateCheck)
	p.POST("/fetch", s.postUpdateFetch)
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
	extendDeadlines(c)
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

func (s *Server) apiUpdateSettings(c *gin.Context) {
	us, err := s.cfg.Updates.UpdateSettings(c.Request.Context())
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(http.StatusOK, us)
}

func (s *Server) apiPutUpdateSettings(c *gin.Context) {
	var in UpdateSettings
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	if err := s.cfg.Updates.SetUpdateSettings(c.Request.Context(), in); err != nil {
		s.failWith(c, s.settingFailure(err))
		return
	}
	s.apiUpdateSettings(c)
}

func (s *Server) apiUpdateCheck(c *gin.Context) {
	c.JSON(http.StatusOK, s.cfg.Updates.CheckUpdate(c.Request.Context()))
}

func (s *Server) apiUpdateFetch(c *gin.Context) {
	extendDeadlines(c)
	u, _ := userOf(c)
	s.log.Warn("webui: firmware download from the update URL", "user", u.Login, "addr", c.ClientIP())
	m, err := s.cfg.Updates.FetchUpdate(c.Request.Context())
	if err != nil {
		s.failWith(c, updateFailure(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"manifest": m, "status": s.cfg.Updates.UpdateStatus(c.Request.Context())})
}

// extendDeadlines gives a request that moves a bundle or a backup the
// time a slow link needs: the server's timeouts are for forms.
func extendDeadlines(c *gin.Context) {
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(updateUploadTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(updateUploadTimeout))
}

// updatePage renders the Firmware page with d (the status and the
// settings' form are added).
func (s *Server) updatePage(c *gin.Context, status int, d gin.H) {
	ctx := c.Request.Context()
	d["Status"], d["Max"] = s.cfg.Updates.UpdateStatus(ctx), int64(MaxUpdateBytes)
	if _, ok := d["Settings"]; !ok {
		us, err := s.cfg.Updates.UpdateSettings(ctx)
		if err != nil {
			s.failWith(c, internal(err))
			return
		}
		d["Settings"] = us
	}
	s.render(c, status, "update", d)
}

func (s *Server) pageUpdate(c *gin.Context) {
	d := gin.H{}
	switch c.Query("msg") {
	case "saved":
		d["Notice"] = s.cat.T(langOf(c), "update.settings_saved")
	case "uploaded":
		d["Notice"] = s.cat.T(langOf(c), "update.uploaded")
	}
	s.updatePage(c, http.StatusOK, d)
}

func (s *Server) postUpdateApply(c *gin.Context) {
	m, err := s.cfg.Updates.ApplyUpdate(c.Request.Context())
	if err != nil {
		s.updatePage(c, http.StatusConflict, gin.H{"Error": s.cat.T(langOf(c), "err.update.apply", err.Error())})
		return
	}
	s.updatePage(c, http.StatusOK, gin.H{"Applied": m})
}

func (s *Server) postUpdateSettings(c *gin.Context) {
	hours, err := strconv.Atoi(strings.TrimSpace(c.PostForm("interval_hours")))
	if err != nil {
		hours = 0 // refused below, beside the field
	}
	in := UpdateSettings{Floor: strings.TrimSpace(c.PostForm("floor")), Check: UpdateCheckSettings{
		Enabled: c.PostForm("enabled") != "", URL: strings.TrimSpace(c.PostForm("url")), IntervalHours: hours}}
	err = s.cfg.Updates.SetUpdateSettings(c.Request.Context(), in)
	s.afterSave(c, err, "/update?msg=saved", func(f *failure) {
		s.updatePage(c, f.status, gin.H{"Settings": in, "SettingsError": s.failText(c, f), "Field": f.field})
	})
}

// afterSave ends a settings form: on to next when err is nil, else the
// form again (again) with the refusal beside its field, or the error page
// for a failure that is not the input's.
func (s *Server) afterSave(c *gin.Context, err error, next string, again func(*failure)) {
	if err == nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	f := s.settingFailure(err)
	if f.status >= 500 {
		s.failWith(c, f)
		return
	}
	again(f)
}

func (s *Server) postUpdateCheck(c *gin.Context) {
	r := s.cfg.Updates.CheckUpdate(c.Request.Context())
	s.updatePage(c, http.StatusOK, gin.H{"Checked": r})
}

func (s *Server) postUpdateFetch(c *gin.Context) {
	extendDeadlines(c)
	u, _ := userOf(c)
	s.log.Warn("webui: firmware download from the update URL", "user", u.Login, "addr", c.ClientIP())
	if _, err := s.cfg.Updates.FetchUpdate(c.Request.Context()); err != nil {
		f := updateFailure(err)
		s.updatePage(c, f.status, gin.H{"Error": s.failText(c, f)})
		return
	}
	s.updatePage(c, http.StatusOK, gin.H{"Notice": s.cat.T(langOf(c), "update.uploaded")})
}

// settingFailure maps a refused setting onto the answer: the field, and
// the reason in the user's language ("reason.CODE") when the error gives
// a code the catalogues know, the implementation's words otherwise.
func (s *Server) settingFailure(err error) *failure {
	if !errors.Is(err, ErrInvalid) {
		return internal(err)
	}
	field, reason := "", any(err.Error())
	var fe interface{ JSONField() string }
	if errors.As(err, &fe) {
		field = fe.JSONField()
		if e, ok := fe.(error); ok {
			reason = e.Error()
		}
		if rc, ok := fe.(reasonCoded); ok {
			if code, args := rc.ReasonCode(); s.cat.Has("reason." + code) {
				reason = reasonMsg(code, args)
			}
		}
	}
	return fail(http.StatusBadRequest, "err.setting.invalid", field, reason)
}
