package webui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Fax is the fax inbox and outbox served under /api/v1/fax, given as
// Config.Fax (without it the routes answer 503). Administrators and
// supervisors read the faxes and send documents; administrators change
// the settings:
//
//	GET  /api/v1/fax?direction=in|out&limit=N -> {"faxes": [record]} newest first
//	GET  /api/v1/fax/ID                       -> record
//	GET  /api/v1/fax/ID/tiff                  -> image/tiff (the pages, TIFF Class F)
//	GET  /api/v1/fax/ID/pages/N.png           -> image/png (page N from 1, a preview)
//	POST /api/v1/fax/outbox?to=NUMBER         body: the document (image/tiff, image/png
//	                                          or image/jpeg, CSRF token in the header)
//	                                          -> 202 record (the fax goes on; poll it)
//	GET  /api/v1/fax/settings                 -> settings
//	PUT  /api/v1/fax/settings                 settings -> settings
//
// A record is a JSON object as the firmware keeps it ("id", "direction",
// "number", "ident", "status", "pages", ...). Implementations wrap
// ErrNotFound (no such fax or page), ErrInvalid (a refused document,
// number or setting, worded after the sentinel), ErrConflict (too many
// faxes under way) or ErrNoSpace.
type Fax interface {
	FaxList(ctx context.Context, direction string, limit int) ([]json.RawMessage, error)
	FaxGet(ctx context.Context, id string) (json.RawMessage, error)
	FaxTIFF(ctx context.Context, id string) ([]byte, error)
	FaxPagePNG(ctx context.Context, id string, page int) ([]byte, error)
	FaxSend(ctx context.Context, number string, doc []byte, by string) (json.RawMessage, error)
	FaxSettings(ctx context.Context) (json.RawMessage, error)
	FaxSetSettings(ctx context.Context, settings json.RawMessage) (json.RawMessage, error)
}

// Fax API bounds.
const (
	// FaxUploadMax bounds a document to send.
	FaxUploadMax = 10 << 20
	// FaxPageMax bounds a list of faxes.
	FaxPageMax = 500
	faxOutbox  = "/api/v1/fax/outbox"
)

// faxBodyLimit lets a document to send through (FaxUploadMax), posted as
// the raw body with the CSRF token in the header (never parsed as a form);
// 0 for any other request.
func faxBodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && r.URL.Path == faxOutbox && r.Header.Get(csrfHeader) != "" {
		return FaxUploadMax + 1
	}
	return 0
}

func (s *Server) faxRoutes(authed *gin.RouterGroup) {
	g := authed.Group("/fax", s.needFax, s.requireSupervisor)
	g.GET("", s.apiFaxList)
	g.GET("/settings", s.apiFaxSettings)
	g.PUT("/settings", s.requireAdmin(true), s.apiFaxSetSettings)
	g.POST("/outbox", s.apiFaxSend)
	g.GET("/:id", s.apiFaxGet)
	g.GET("/:id/tiff", s.apiFaxTIFF)
	g.GET("/:id/pages/:png", s.apiFaxPage)
}

func (s *Server) needFax(c *gin.Context) {
	if s.cfg.Fax == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.fax.unavailable", ""))
		c.Abort()
	}
}

// faxFailure maps an implementation's error onto the API's answer.
func faxFailure(err error, field string) *failure {
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err.fax.not_found", "")
	case errors.Is(err, ErrConflict):
		return fail(http.StatusConflict, "err.fax.busy", "")
	case errors.Is(err, ErrNoSpace):
		return noSpaceFailure(err)
	case errors.Is(err, ErrInvalid):
		detail := strings.TrimPrefix(strings.TrimPrefix(err.Error(), ErrInvalid.Error()), ": ")
		return fail(http.StatusBadRequest, "err.fax.invalid", field, detail)
	}
	return internal(err)
}

func (s *Server) apiFaxList(c *gin.Context) {
	dir := c.Query("direction")
	if dir != "" && dir != "in" && dir != "out" {
		s.failWith(c, fail(http.StatusBadRequest, "err.invalid", "direction"))
		return
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > FaxPageMax {
			s.failWith(c, fail(http.StatusBadRequest, "err.invalid", "limit"))
			return
		}
		limit = n
	}
	list, err := s.cfg.Fax.FaxList(c.Request.Context(), dir, limit)
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	if list == nil {
		list = []json.RawMessage{}
	}
	c.JSON(http.StatusOK, gin.H{"faxes": list})
}

func (s *Server) apiFaxGet(c *gin.Context) {
	r, err := s.cfg.Fax.FaxGet(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", r)
}

func (s *Server) apiFaxTIFF(c *gin.Context) {
	id := c.Param("id")
	b, err := s.cfg.Fax.FaxTIFF(c.Request.Context(), id)
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "fax-" + id + ".tif"}))
	c.Data(http.StatusOK, "image/tiff", b)
}

func (s *Server) apiFaxPage(c *gin.Context) {
	n, err := strconv.Atoi(strings.TrimSuffix(c.Param("png"), ".png"))
	if err != nil || n < 1 || !strings.HasSuffix(c.Param("png"), ".png") {
		s.failWith(c, fail(http.StatusNotFound, "err.fax.not_found", ""))
		return
	}
	b, err := s.cfg.Fax.FaxPagePNG(c.Request.Context(), c.Param("id"), n)
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	c.Header("Cache-Control", "private, max-age=3600")
	c.Data(http.StatusOK, "image/png", b)
}

func (s *Server) apiFaxSend(c *gin.Context) {
	mt, _, _ := mime.ParseMediaType(c.ContentType())
	switch mt {
	case "image/tiff", "image/png", "image/jpeg", "application/octet-stream":
	default:
		s.failWith(c, fail(http.StatusUnsupportedMediaType, "err.fax.invalid", "file", mt))
		return
	}
	doc, err := io.ReadAll(io.LimitReader(c.Request.Body, FaxUploadMax+1))
	var mbe *http.MaxBytesError
	switch {
	case len(doc) > FaxUploadMax || errors.As(err, &mbe):
		s.failWith(c, fail(http.StatusRequestEntityTooLarge, "err.fax.too_large", "file", FaxUploadMax>>20))
		return
	case err != nil:
		s.failWith(c, fail(http.StatusBadRequest, "err.invalid", "file"))
		return
	}
	u, _ := userOf(c)
	r, err := s.cfg.Fax.FaxSend(c.Request.Context(), c.Query("to"), doc, u.Login)
	if err != nil {
		s.failWith(c, faxFailure(err, "file"))
		return
	}
	c.Data(http.StatusAccepted, "application/json; charset=utf-8", r)
}

func (s *Server) apiFaxSettings(c *gin.Context) {
	r, err := s.cfg.Fax.FaxSettings(c.Request.Context())
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", r)
}

func (s *Server) apiFaxSetSettings(c *gin.Context) {
	var raw json.RawMessage
	if f := decodeJSON(c, &raw); f != nil {
		s.failWith(c, f)
		return
	}
	r, err := s.cfg.Fax.FaxSetSettings(c.Request.Context(), raw)
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", r)
}
