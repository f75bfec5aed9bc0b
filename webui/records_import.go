package webui

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm"
	"callbox/telephony/crm/sheet"
)

// Customer import in three steps, so nothing is half-imported and every
// bad row is seen first:
//
//	POST   /api/v1/customers/imports       the file as the body (CSV or .xlsx; at most MaxImportBytes)
//	       -> {"id", "format", "rows", "header", "sample", "columns"}   columns: a suggested mapping
//	POST   /api/v1/customers/imports/:id   {"options": crm.ImportOptions, "dry_run": true|false}
//	       -> crm.ImportReport (a real import with bad rows and no skip_bad: 400 with the report)
//	DELETE /api/v1/customers/imports/:id
//	GET    /api/v1/customers/export?format=csv|xlsx
//
// Uploads wait in memory (at most importSlots of them, importTTL each);
// administrators and supervisors import and export.
const (
	MaxImportBytes = 32 << 20
	importSlots    = 4
	importTTL      = 30 * time.Minute
	importSample   = 5
)

// importPath is where uploads go; the body limit is raised for it alone.
const importPath = "/api/v1/customers/imports"

// recordsBodyLimit is the request body limit of the records' routes that
// take files, or 0 for the default.
func recordsBodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && (r.URL.Path == importPath || r.URL.Path == "/customers/import") {
		return MaxImportBytes + 1<<20
	}
	return 0
}

type upload struct {
	id      string
	owner   string
	format  sheet.Format
	data    []byte
	expires time.Time
}

// uploads holds the files between the steps of an import.
type uploads struct {
	mu sync.Mutex
	m  map[string]*upload
}

func (u *uploads) put(up *upload, now time.Time) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]*upload{}
	}
	for id, o := range u.m {
		if now.After(o.expires) {
			delete(u.m, id)
		}
	}
	if len(u.m) >= importSlots {
		return errors.New("too many imports waiting")
	}
	u.m[up.id] = up
	return nil
}

func (u *uploads) get(id, owner string, now time.Time) (*upload, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up, ok := u.m[id]
	if !ok || up.owner != owner || now.After(up.expires) {
		return nil, false
	}
	return up, true
}

func (u *uploads) drop(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, id)
}

// importRoutes registers the bulk routes with their permission before the
// 503 of a box without records.
func (s *Server) importRoutes(g *gin.RouterGroup) {
	g.POST("/customers/imports", s.need(PermCustomersImport), s.needRecords, s.apiImportUpload)
	g.POST("/customers/imports/:id", s.need(PermCustomersImport), s.needRecords, s.apiImportRun)
	g.DELETE("/customers/imports/:id", s.need(PermCustomersImport), s.needRecords, s.apiImportDrop)
	g.GET("/customers/export", s.need(PermCustomersImport), s.needRecords, s.apiExport)
}

// importPreview is the answer to an upload.
type importPreview struct {
	ID      string     `json:"id"`
	Format  string     `json:"format"`
	Rows    int        `json:"rows"` // lines, header included
	Header  []string   `json:"header"`
	Sample  [][]string `json:"sample"`
	Columns []string   `json:"columns"`
}

// readImportFile reads an uploaded file: the body itself, or the "file" field
// of a multipart form (the page's).
func readImportFile(c *gin.Context) ([]byte, *failure) {
	var r io.Reader = c.Request.Body
	if strings.HasPrefix(c.ContentType(), "multipart/form-data") {
		fh, err := c.FormFile("file")
		if err != nil {
			return nil, fail(http.StatusBadRequest, "err.import.no_file", "file")
		}
		f, err := fh.Open()
		if err != nil {
			return nil, internal(err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || len(data) > MaxImportBytes:
		return nil, fail(http.StatusRequestEntityTooLarge, "err.import.too_large", "file", MaxImportBytes>>20)
	case err != nil:
		return nil, fail(http.StatusBadRequest, "err.import.no_file", "file")
	case len(data) == 0:
		return nil, fail(http.StatusBadRequest, "err.import.no_file", "file")
	}
	return data, nil
}

// preview stores an upload and reads its first rows.
func (s *Server) preview(c *gin.Context, data []byte) (importPreview, *failure) {
	var b [12]byte
	rand.Read(b[:])
	up := &upload{id: hex.EncodeToString(b[:]), owner: actorOf(c).Login, format: sheet.Detect(data), data: data,
		expires: s.now().Add(importTTL)}
	p, f := s.readPreview(up)
	if f != nil {
		return p, f
	}
	if err := s.imports.put(up, s.now()); err != nil {
		return p, fail(http.StatusTooManyRequests, "err.import.busy", "", int(importTTL.Minutes()))
	}
	return p, nil
}

// readPreview reads an upload's header and first rows and suggests a
// mapping.
func (s *Server) readPreview(up *upload) (importPreview, *failure) {
	p := importPreview{ID: up.id, Format: string(up.format)}
	for row, err := range sheet.Rows(up.data, up.format) {
		if err != nil {
			return p, fail(http.StatusBadRequest, "err.import.unreadable", "file", err.Error())
		}
		p.Rows++
		switch {
		case p.Rows == 1:
			p.Header = row
		case len(p.Sample) < importSample:
			p.Sample = append(p.Sample, row)
		}
	}
	if p.Rows == 0 {
		return p, fail(http.StatusBadRequest, "err.import.empty", "file")
	}
	cols, err := s.rec().Customers.SuggestColumns(p.Header)
	if err != nil {
		return p, recordsFailure(err)
	}
	p.Columns = cols
	if p.Sample == nil {
		p.Sample = [][]string{}
	}
	return p, nil
}

func (s *Server) apiImportUpload(c *gin.Context) {
	data, f := readImportFile(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	p, f := s.preview(c, data)
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusCreated, p)
}

// runImport runs a dry run or the import of upload id.
func (s *Server) runImport(c *gin.Context, id string, opts crm.ImportOptions, dry bool) (crm.ImportReport, *failure) {
	up, ok := s.imports.get(id, actorOf(c).Login, s.now())
	if !ok {
		return crm.ImportReport{}, fail(http.StatusNotFound, "err.import.expired", "")
	}
	rep, err := s.rec().Customers.Import(actorOf(c), sheet.Rows(up.data, up.format), opts, dry)
	switch {
	case errors.Is(err, crm.ErrBadRows):
		return rep, fail(http.StatusBadRequest, "err.import.bad_rows", "", len(rep.Bad))
	case err != nil:
		var fe *crm.FieldError
		if !errors.As(err, &fe) && !errors.Is(err, crm.ErrForbidden) && !errors.Is(err, ErrNoSpace) {
			// A read error in the middle of the file.
			if strings.Contains(err.Error(), "sheet:") {
				return rep, fail(http.StatusBadRequest, "err.import.unreadable", "file", err.Error())
			}
		}
		return rep, recordsFailure(err)
	}
	if !dry {
		s.imports.drop(id)
		s.log.Info("webui: customers imported", "by", actorOf(c).Login, "rows", rep.Rows, "created", rep.Created,
			"merged", rep.Merged, "skipped", rep.Skipped, "bad", len(rep.Bad))
	}
	return rep, nil
}

func (s *Server) apiImportRun(c *gin.Context) {
	var in struct {
		Options crm.ImportOptions `json:"options"`
		DryRun  bool              `json:"dry_run"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	rep, f := s.runImport(c, c.Param("id"), in.Options, in.DryRun)
	if f != nil {
		if f.key == "err.import.bad_rows" {
			c.JSON(f.status, gin.H{"error": s.failText(c, f), "code": f.key, "report": rep})
			return
		}
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusOK, rep)
}

func (s *Server) apiImportDrop(c *gin.Context) {
	if _, ok := s.imports.get(c.Param("id"), actorOf(c).Login, s.now()); ok {
		s.imports.drop(c.Param("id"))
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiExport(c *gin.Context) {
	format := sheet.Format(c.DefaultQuery("format", "csv"))
	if format != sheet.CSV && format != sheet.XLSX {
		s.failWith(c, fail(http.StatusBadRequest, "err.import.format", "format"))
		return
	}
	dir := s.rec().Customers
	header, err := dir.ExportHeader()
	if err != nil {
		s.failWith(c, recordsFailure(err))
		return
	}
	name := fmt.Sprintf("customers-%s.%s", s.now().Format("20060102-1504"), format)
	c.Header("Content-Type", format.ContentType())
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Status(http.StatusOK)
	if err := sheet.Write(c.Writer, format, header, dir.ExportRows(actorOf(c))); err != nil {
		// The status is sent; a broken export shows as a cut file and in the log.
		s.log.Error("webui: customer export failed", "err", err)
	}
}

// atoiDefault parses a form number, def when empty or bad.
func atoiDefault(s string, def uint64) uint64 {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return def
	}
	return n
}
