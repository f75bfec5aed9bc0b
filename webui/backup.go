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
//	GET  /api/v1/backup[?recordings=true]   the backup file (application/gzip)
//	POST /api/v1/backup/restore             body: a backup (application/octet-stream);
//	                                        checked completely, then the box restarts into it
//
// RestoreBackup errors wrap ErrInvalid when the file was refused (nothing
// changed); on success it returns a line for the person and restarts the
// box shortly after.
type Backups interface {
	WriteBackup(ctx context.Context, w io.Writer, recordings bool) error
	RestoreBackup(ctx context.Context, r io.Reader) (string, error)
}

const restorePath = "/api/v1/backup/restore"

func (s *Server) backupRoutes(authed *gin.RouterGroup) {
	g := authed.Group("/backup", s.need(PermSystem), s.needBackups)
	g.GET("", s.apiBackup)
	g.POST("/restore", s.apiRestore)
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
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(updateUploadTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(updateUploadTimeout))
	msg, err := s.cfg.Backups.RestoreBackup(c.Request.Context(), c.Request.Body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		s.failWith(c, fail(http.StatusRequestEntityTooLarge, "err.body.too_large", ""))
	case errors.Is(err, ErrInvalid):
		s.failWith(c, fail(http.StatusBadRequest, "err.backup.refused", "", err.Error()))
	case err != nil:
		s.failWith(c, internal(err))
	default:
		c.JSON(http.StatusOK, gin.H{"restored": msg, "restarting": true})
	}
}
