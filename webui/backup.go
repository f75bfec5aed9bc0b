package webui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Backups saves and restores the whole box (administrators only), given
// as Config.Backups; without it the routes answer 503:
//
//	GET    /api/v1/backup[?recordings=true]   the backup file (application/gzip)
//	POST   /api/v1/backup/restore[?restart=false]
//	                                 body: a backup (application/octet-stream),
//	                                 checked completely and staged; the box
//	                                 restarts into it, or with restart=false
//	                                 applies it at its next start
//	GET    /api/v1/backup/restore    {"pending": BackupInfo or null}
//	DELETE /api/v1/backup/restore    discard the staged restore
//	POST   /api/v1/backup/restore/apply   restart into the staged restore
//	GET    /backup                   the page: download, upload (what the file
//	                                 holds is shown), restart or discard
//	POST   /backup/apply, /backup/discard   its forms
//
// RestoreBackup errors wrap ErrInvalid when the file was refused (nothing
// changed).
type Backups interface {
	WriteBackup(ctx context.Context, w io.Writer, recordings bool) error
	// RestoreBackup checks and stages a backup; with restart the box
	// restarts into it shortly after returning.
	RestoreBackup(ctx context.Context, r io.Reader, restart bool) (BackupInfo, error)
	// PendingRestore describes the staged restore; nil when none waits.
	PendingRestore(ctx context.Context) (*BackupInfo, error)
	DiscardRestore(ctx context.Context) error
	// ApplyRestore restarts the box into the staged restore, shortly
	// after returning; it wraps ErrNotFound when none waits.
	ApplyRestore(ctx context.Context) error
}

// BackupInfo is what a backup holds.
type BackupInfo struct {
	Created time.Time `json:"created"`
	// Version is the firmware that wrote it.
	Version string `json:"version"`
	// Recordings: it holds the recordings, which replace the box's; without
	// them the box keeps its own.
	Recordings     bool  `json:"recordings"`
	Files          int   `json:"files"`
	Bytes          int64 `json:"bytes"`
	StoreBytes     int64 `json:"store_bytes"`
	Prompts        int   `json:"prompts"`
	RecordingFiles int   `json:"recording_files"`
}

const restorePath = "/api/v1/backup/restore"

func (s *Server) backupRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	g := authed.Group("/backup", s.need(PermSystem), s.needBackups)
	g.GET("", s.apiBackup)
	g.POST("/restore", s.apiRestore)
	g.GET("/restore", s.apiPendingRestore)
	g.DELETE("/restore", s.apiDiscardRestore)
	g.POST("/restore/apply", s.apiApplyRestore)
	p := e.Group("/backup", s.requireUser(false), s.need(PermSystem), s.needBackups)
	p.GET("", s.pageBackup)
	p.POST("/apply", s.postApplyRestore)
	p.POST("/discard", s.postDiscardRestore)
}

func (s *Server) needBackups(c *gin.Context) {
	if s.cfg.Backups == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.backup.unavailable", ""))
		c.Abort()
	}
}

func (s *Server) apiBackup(c *gin.Context) {
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(updateUploadTimeout))
	name := "callbox-backup-" + time.Now().UTC().Format("20060102-150405") + ".tar.gz"
	c.Header("Content-Type", "application/gzip")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Status(http.StatusOK)
	if err := s.cfg.Backups.WriteBackup(c.Request.Context(), c.Writer, c.Query("recordings") == "true"); err != nil {
		// The status line is gone; cutting the stream makes the download fail.
		s.log.Error("webui: backup failed", "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) apiRestore(c *gin.Context) {
	if c.ContentType() != "application/octet-stream" {
		s.failWith(c, fail(http.StatusUnsupportedMediaType, "err.update.content_type", ""))
		return
	}
	extendDeadlines(c)
	restart := c.Query("restart") != "false"
	u, _ := userOf(c)
	s.log.Warn("webui: restore upload", "user", u.Login, "addr", c.ClientIP(), "restart", restart)
	info, err := s.cfg.Backups.RestoreBackup(c.Request.Context(), c.Request.Body, restart)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		s.failWith(c, fail(http.StatusRequestEntityTooLarge, "err.body.too_large", ""))
	case errors.Is(err, ErrInvalid):
		s.failWith(c, fail(http.StatusBadRequest, "err.backup.refused", "", err.Error()))
	case err != nil:
		s.failWith(c, internal(err))
	default:
		c.JSON(http.StatusOK, gin.H{"restored": info, "restarting": restart})
	}
}

func (s *Server) apiPendingRestore(c *gin.Context) {
	p, err := s.cfg.Backups.PendingRestore(c.Request.Context())
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"pending": p})
}

func (s *Server) apiDiscardRestore(c *gin.Context) {
	if err := s.cfg.Backups.DiscardRestore(c.Request.Context()); err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.Status(http.StatusNoContent)
}

// applyRestoreFailure maps ApplyRestore's error onto the answer.
func applyRestoreFailure(err error) *failure {
	if errors.Is(err, ErrNotFound) {
		return fail(http.StatusConflict, "err.backup.none_pending", "")
	}
	return internal(err)
}

func (s *Server) apiApplyRestore(c *gin.Context) {
	if err := s.cfg.Backups.ApplyRestore(c.Request.Context()); err != nil {
		s.failWith(c, applyRestoreFailure(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"restarting": true})
}

// backupPage renders the backup page with d (the pending restore added).
func (s *Server) backupPage(c *gin.Context, status int, d gin.H) {
	p, err := s.cfg.Backups.PendingRestore(c.Request.Context())
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	d["Pending"], d["Max"] = p, int64(MaxUpdateBytes)
	s.render(c, status, "backup", d)
}

func (s *Server) pageBackup(c *gin.Context) {
	d := gin.H{}
	if c.Query("msg") == "discarded" {
		d["Notice"] = s.cat.T(langOf(c), "backup.discarded")
	}
	s.backupPage(c, http.StatusOK, d)
}

func (s *Server) postApplyRestore(c *gin.Context) {
	if err := s.cfg.Backups.ApplyRestore(c.Request.Context()); err != nil {
		f := applyRestoreFailure(err)
		if f.status >= 500 {
			s.failWith(c, f)
			return
		}
		s.backupPage(c, f.status, gin.H{"Error": s.failText(c, f)})
		return
	}
	s.backupPage(c, http.StatusOK, gin.H{"Restarting": true})
}

func (s *Server) postDiscardRestore(c *gin.Context) {
	if err := s.cfg.Backups.DiscardRestore(c.Request.Context()); err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.Redirect(http.StatusSeeOther, "/backup?msg=discarded")
}
