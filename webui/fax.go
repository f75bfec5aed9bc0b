package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Fax is the fax inbox and outbox served under /api/v1/fax, given as
// Config.Fax (without it the routes answer 503). Administrators and
// supervisors read the faxes and send documents; administrators change
// the settings:
//
//	GET  /api/v1/fax?direction=in|out&limit=N -> {"faxes": [record]} newest first
//	GET  /api/v1/fax?call=ID                  -> the faxes of a call (the call centre's
//	                                          call id, as the service record has it)
//	GET  /api/v1/fax/ID                       -> record
//	GET  /api/v1/fax/ID/tiff                  -> image/tiff (the pages, TIFF Class F)
//	GET  /api/v1/fax/ID/pages/N.png           -> image/png (page N from 1, a preview)
//	POST /api/v1/fax/outbox?to=NUMBER         body: the document (image/tiff, image/png
//	                                          or image/jpeg, CSRF token in the header)
//	                                          -> 202 record (the fax goes on; poll it)
//	GET  /api/v1/fax/jobs                     -> {"jobs": [job]} (scheduled faxes, a result per number)
//	POST /api/v1/fax/jobs?numbers=N1,N2&at=RFC3339&retries=N&backoff=DURATION
//	                                          body: the document, as for the outbox -> 201 job
//	GET  /api/v1/fax/settings                 -> settings
//	PUT  /api/v1/fax/settings                 settings -> settings
//	GET  /api/v1/fax/documents                -> {"documents": [name]} (fax on demand:
//	                                          what IVR fax nodes and agents' fax-send name)
//	PUT  /api/v1/fax/documents/NAME           body: the document, as for the outbox -> 204
//	DELETE /api/v1/fax/documents/NAME         -> 204, or 409 while an IVR flow
//	                                          sends it (the answer names the flow)
//
// A record is a JSON object as the firmware keeps it ("id", "direction",
// "number", "ident", "status", "pages", ...). Implementations wrap
// ErrNotFound (no such fax or page), ErrInvalid (a refused document,
// number or setting, worded after the sentinel), ErrConflict (too many
// faxes under way), *FaxDocumentInUse or ErrNoSpace.
type Fax interface {
	// FaxList lists the faxes newest first: of a direction and of a call
	// (its "call_id") when they are not "".
	FaxList(ctx context.Context, direction, call string, limit int) ([]json.RawMessage, error)
	FaxGet(ctx context.Context, id string) (json.RawMessage, error)
	FaxTIFF(ctx context.Context, id string) ([]byte, error)
	FaxPagePNG(ctx context.Context, id string, page int) ([]byte, error)
	FaxSend(ctx context.Context, number string, doc []byte, by string) (json.RawMessage, error)
	FaxJobs(ctx context.Context) ([]json.RawMessage, error)
	FaxAddJob(ctx context.Context, j FaxJob, doc []byte, by string) (json.RawMessage, error)
	FaxSettings(ctx context.Context) (json.RawMessage, error)
	FaxSetSettings(ctx context.Context, settings json.RawMessage) (json.RawMessage, error)
	// FaxDocuments lists the fax documents by name; FaxPutDocument keeps
	// doc (TIFF, PNG or JPEG, made fax pages) as name, replacing one;
	// FaxDeleteDocument removes one.
	FaxDocuments(ctx context.Context) ([]string, error)
	FaxPutDocument(ctx context.Context, name string, doc []byte, by string) error
	FaxDeleteDocument(ctx context.Context, name, by string) error
}

// FaxDocumentInUse refuses deleting a fax document that the latest
// version of an IVR flow sends (a fax node's "send"): the flow would fail
// at that node on every call.
type FaxDocumentInUse struct {
	Document, Flow, Node string
}

func (e *FaxDocumentInUse) Error() string {
	return fmt.Sprintf("webui: fax document %q is sent by IVR flow %q (node %q)", e.Document, e.Flow, e.Node)
}

// FaxJob is a scheduled fax as the API asks for one: the numbers, the
// time to start (zero: now), the retries per number and the back-off
// before the first retry (doubling; zero: the firmware's default).
type FaxJob struct {
	Numbers []string
	At      time.Time
	Retries int
	Backoff time.Duration
}

// Fax API bounds.
const (
	// FaxUploadMax bounds a document to send.
	FaxUploadMax = 10 << 20
	// FaxPageMax bounds a list of faxes.
	FaxPageMax = 500
	faxOutbox  = "/api/v1/fax/outbox"
	faxJobs    = "/api/v1/fax/jobs"
	faxDocs    = "/api/v1/fax/documents/"
	faxPage    = "/fax"
)

// faxBodyLimit lets a document to send through (FaxUploadMax), posted as
// the raw body with the CSRF token in the header (never parsed as a form);
// 0 for any other request.
func faxBodyLimit(r *http.Request) int64 {
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, faxDocs) && r.Header.Get(csrfHeader) != "":
		return FaxUploadMax + 1
	case r.Method != http.MethodPost:
		return 0
	case (r.URL.Path == faxOutbox || r.URL.Path == faxJobs) && r.Header.Get(csrfHeader) != "":
		return FaxUploadMax + 1
	case r.URL.Path == faxPage || r.URL.Path == faxPage+"/jobs":
		return FaxUploadMax + 1<<20 // the page's form: the file and its framing
	}
	return 0
}

func (s *Server) faxRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	// The permission before the 503: who may not use fax is told so
	// whether or not the box has it.
	p := e.Group(faxPage, s.requireUser(false), s.need(PermFax), s.needFax)
	p.GET("", s.pageFax)
	p.POST("", s.postFax)
	p.POST("/jobs", s.postFaxJob)
	authed.PUT("/fax/settings", s.need(PermPBX), s.needFax, s.apiFaxSetSettings)
	g := authed.Group("/fax", s.need(PermFax), s.needFax)
	g.GET("", s.apiFaxList)
	g.GET("/settings", s.apiFaxSettings)
	g.POST("/outbox", s.apiFaxSend)
	g.GET("/jobs", s.apiFaxJobs)
	g.POST("/jobs", s.apiFaxAddJob)
	g.GET("/documents", s.apiFaxDocuments)
	g.PUT("/documents/:name", s.apiFaxPutDocument)
	g.DELETE("/documents/:name", s.apiFaxDeleteDocument)
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
	var inUse *FaxDocumentInUse
	switch {
	case errors.As(err, &inUse):
		return fail(http.StatusConflict, "err.fax.document_in_use", "", inUse.Document, inUse.Flow, inUse.Node)
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
	call := c.Query("call")
	if len(call) > 128 {
		s.failWith(c, fail(http.StatusBadRequest, "err.invalid", "call"))
		return
	}
	list, err := s.cfg.Fax.FaxList(c.Request.Context(), dir, call, limit)
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

// faxDocument reads a document posted as the raw body; nil after
// answering a failure.
func (s *Server) faxDocument(c *gin.Context) []byte {
	mt, _, _ := mime.ParseMediaType(c.ContentType())
	switch mt {
	case "image/tiff", "image/png", "image/jpeg", "application/octet-stream":
	default:
		s.failWith(c, fail(http.StatusUnsupportedMediaType, "err.fax.invalid", "file", mt))
		return nil
	}
	doc, err := io.ReadAll(io.LimitReader(c.Request.Body, FaxUploadMax+1))
	var mbe *http.MaxBytesError
	switch {
	case len(doc) > FaxUploadMax || errors.As(err, &mbe):
		s.failWith(c, fail(http.StatusRequestEntityTooLarge, "err.fax.too_large", "file", FaxUploadMax>>20))
		return nil
	case err != nil:
		s.failWith(c, fail(http.StatusBadRequest, "err.invalid", "file"))
		return nil
	}
	return doc
}

func (s *Server) apiFaxJobs(c *gin.Context) {
	list, err := s.cfg.Fax.FaxJobs(c.Request.Context())
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	if list == nil {
		list = []json.RawMessage{}
	}
	c.JSON(http.StatusOK, gin.H{"jobs": list})
}

func (s *Server) apiFaxAddJob(c *gin.Context) {
	var j FaxJob
	for _, n := range strings.Split(c.Query("numbers"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			j.Numbers = append(j.Numbers, n)
		}
	}
	var err error
	if v := c.Query("at"); v != "" {
		if j.At, err = time.Parse(time.RFC3339, v); err != nil {
			s.failWith(c, fail(http.StatusBadRequest, "err.invalid", "at"))
			return
		}
	}
	if v := c.Query("retries"); v != "" {
		if j.Retries, err = strconv.Atoi(v); err != nil {
			s.failWith(c, fail(http.StatusBadRequest, "err.invalid", "retries"))
			return
		}
	}
	if v := c.Query("backoff"); v != "" {
		if j.Backoff, err = time.ParseDuration(v); err != nil {
			s.failWith(c, fail(http.StatusBadRequest, "err.invalid", "backoff"))
			return
		}
	}
	doc := s.faxDocument(c)
	if doc == nil {
		return
	}
	u, _ := userOf(c)
	r, err := s.cfg.Fax.FaxAddJob(c.Request.Context(), j, doc, u.Login)
	if err != nil {
		s.failWith(c, faxFailure(err, "file"))
		return
	}
	c.Data(http.StatusCreated, "application/json; charset=utf-8", r)
}

func (s *Server) apiFaxSend(c *gin.Context) {
	doc := s.faxDocument(c)
	if doc == nil {
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

// HasFax reports whether the page may link to /fax: the box has fax and
// the viewer holds the fax permission.
func (p *pageData) HasFax() bool {
	return p.s.cfg.Fax != nil && p.User != nil && p.User.Can(string(PermFax))
}

// faxView is a fax as the page shows it.
type faxView struct {
	ID, Direction, Number, Ident, Status, Error string
	Pages                                       int
	Start                                       time.Time
}

// HasPages reports whether the fax has pages to download.
func (f faxView) HasPages() bool { return f.Pages > 0 || f.Direction == "out" }

// PageNumbers are the pages to preview (received faxes, up to 10).
func (f faxView) PageNumbers() []int {
	if f.Direction != "in" {
		return nil
	}
	n := make([]int, min(f.Pages, 10))
	for i := range n {
		n[i] = i + 1
	}
	return n
}

// faxBox is one list of the page.
type faxBox struct {
	Title string
	Faxes []faxView
}

func (s *Server) pageFax(c *gin.Context) {
	d := gin.H{}
	switch c.Query("msg") {
	case "sent":
		d["Notice"] = s.cat.T(langOf(c), "fax.sent")
	case "scheduled":
		d["Notice"] = s.cat.T(langOf(c), "fax.scheduled")
	}
	s.renderFax(c, http.StatusOK, d)
}

func (s *Server) renderFax(c *gin.Context, status int, d gin.H) {
	var boxes []faxBox
	for _, b := range []struct{ dir, title string }{{"in", "fax.inbox"}, {"out", "fax.outbox"}} {
		raw, err := s.cfg.Fax.FaxList(c.Request.Context(), b.dir, "", 50)
		if err != nil {
			s.failWith(c, faxFailure(err, ""))
			return
		}
		box := faxBox{Title: b.title}
		for _, r := range raw {
			var v struct {
				ID, Direction, Number, Ident, Status, Error string
				Pages                                       int
				Start                                       time.Time
			}
			if json.Unmarshal(r, &v) == nil {
				box.Faxes = append(box.Faxes, faxView(v))
			}
		}
		boxes = append(boxes, box)
	}
	d["Boxes"] = boxes
	raw, err := s.cfg.Fax.FaxJobs(c.Request.Context())
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	var jobs []faxJobView
	for _, r := range raw {
		var v faxJobView
		if json.Unmarshal(r, &v) == nil {
			jobs = append(jobs, v)
		}
	}
	d["Jobs"] = jobs
	s.render(c, status, "fax", d)
}

// faxJobView is a scheduled job as the page shows it.
type faxJobView struct {
	At      time.Time
	Results []struct {
		Number, Status, Error string
		Attempts              int
	}
}

// formDocument reads the page form's file; nil after answering with again.
func formDocument(c *gin.Context, again func(*failure)) []byte {
	fh, err := c.FormFile("file")
	if err != nil {
		again(fail(http.StatusBadRequest, "err.fax.invalid", "file", err.Error()))
		return nil
	}
	if fh.Size > FaxUploadMax {
		again(fail(http.StatusRequestEntityTooLarge, "err.fax.too_large", "file", FaxUploadMax>>20))
		return nil
	}
	f, err := fh.Open()
	if err != nil {
		again(internal(err))
		return nil
	}
	defer f.Close()
	doc, err := io.ReadAll(io.LimitReader(f, FaxUploadMax))
	if err != nil {
		again(internal(err))
		return nil
	}
	return doc
}

// formAgain shows the page again with a refusal.
func (s *Server) formAgain(c *gin.Context, d gin.H) func(*failure) {
	return func(f *failure) {
		if f.status >= 500 {
			s.failWith(c, f)
			return
		}
		d["Error"], d["Field"] = s.failText(c, f), f.field
		s.renderFax(c, f.status, d)
	}
}

// postFaxJob schedules the document of the page's job form.
func (s *Server) postFaxJob(c *gin.Context) {
	again := s.formAgain(c, gin.H{})
	var j FaxJob
	j.Numbers = strings.FieldsFunc(c.PostForm("numbers"), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' })
	if v := c.PostForm("at"); v != "" {
		at, err := time.ParseInLocation("2006-01-02T15:04", v, time.Local)
		if err != nil {
			again(fail(http.StatusBadRequest, "err.invalid", "at"))
			return
		}
		j.At = at
	}
	if v := c.PostForm("retries"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			again(fail(http.StatusBadRequest, "err.invalid", "retries"))
			return
		}
		j.Retries = n
	}
	doc := formDocument(c, again)
	if doc == nil {
		return
	}
	u, _ := userOf(c)
	if _, err := s.cfg.Fax.FaxAddJob(c.Request.Context(), j, doc, u.Login); err != nil {
		again(faxFailure(err, "numbers"))
		return
	}
	c.Redirect(http.StatusSeeOther, faxPage+"?msg=scheduled")
}

// postFax sends the document of the page's form.
func (s *Server) postFax(c *gin.Context) {
	to := strings.TrimSpace(c.PostForm("to"))
	again := s.formAgain(c, gin.H{"To": to})
	doc := formDocument(c, again)
	if doc == nil {
		return
	}
	u, _ := userOf(c)
	if _, err := s.cfg.Fax.FaxSend(c.Request.Context(), to, doc, u.Login); err != nil {
		field := "file"
		if strings.Contains(err.Error(), "number") {
			field = "to"
		}
		again(faxFailure(err, field))
		return
	}
	c.Redirect(http.StatusSeeOther, faxPage+"?msg=sent")
}

func (s *Server) apiFaxDocuments(c *gin.Context) {
	names, err := s.cfg.Fax.FaxDocuments(c.Request.Context())
	if err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	if names == nil {
		names = []string{}
	}
	c.JSON(http.StatusOK, gin.H{"documents": names})
}

func (s *Server) apiFaxPutDocument(c *gin.Context) {
	doc := s.faxDocument(c)
	if doc == nil {
		return
	}
	u, _ := userOf(c)
	if err := s.cfg.Fax.FaxPutDocument(c.Request.Context(), c.Param("name"), doc, u.Login); err != nil {
		s.failWith(c, faxFailure(err, "file"))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiFaxDeleteDocument(c *gin.Context) {
	u, _ := userOf(c)
	if err := s.cfg.Fax.FaxDeleteDocument(c.Request.Context(), c.Param("name"), u.Login); err != nil {
		s.failWith(c, faxFailure(err, ""))
		return
	}
	c.Status(http.StatusNoContent)
}
