package webui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// SavedReport is a custom report a user saved: its shape (dimension,
// period, measures, the charted measure), not its time range, which is
// picked when it is run. Shared reports are listed to every user who may
// see reports; others to their owner only.
type SavedReport struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Owner     string   `json:"owner"`
	Shared    bool     `json:"shared"`
	Dimension string   `json:"dimension"`
	Period    string   `json:"period"`
	Measures  []string `json:"measures,omitempty"`
	Chart     string   `json:"chart,omitempty"`
}

// SavedReports keeps the saved custom reports as one list (the firmware
// keeps it in a setting); webui decides who sees and changes which.
type SavedReports interface {
	SavedReports(ctx context.Context) ([]SavedReport, error)
	PutSavedReports(ctx context.Context, list []SavedReport) error
}

// Limits of saved reports.
const (
	maxSavedReports    = 100
	maxSavedReportName = 40
)

// savedMu serialises read-change-write of the saved list.
var savedMu sync.Mutex

// savedRoutes registers the saved reports' API and page forms:
//
//	GET    /api/v1/reports/saved        the reports the user sees
//	POST   /api/v1/reports/saved        save one {name, shared, dimension, period, measures, chart}
//	DELETE /api/v1/reports/saved/:id    the owner's or an administrator's
func (s *Server) savedRoutes(e *gin.Engine, authed *gin.RouterGroup) {
	g := authed.Group("/reports/saved", s.need(PermReports), s.needSaved)
	g.GET("", s.apiSavedList)
	g.POST("", s.apiSavedCreate)
	g.DELETE("/:id", s.apiSavedDelete)
	p := e.Group("/reports/saved", s.requireUser(false), s.need(PermReports), s.needSaved)
	p.POST("", s.postSaved)
	p.POST("/:id/delete", s.postSavedDelete)
}

func (s *Server) savedStore() SavedReports {
	if sr, ok := s.cfg.Logs.(SavedReports); ok {
		return sr
	}
	return nil
}

func (s *Server) needSaved(c *gin.Context) {
	if s.cfg.Logs == nil || s.savedStore() == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.cc.unavailable", ""))
		c.Abort()
	}
}

// visibleSaved lists the reports u sees: its own and the shared ones.
func (s *Server) visibleSaved(ctx context.Context, u User) ([]SavedReport, error) {
	all, err := s.savedStore().SavedReports(ctx)
	if err != nil {
		return nil, err
	}
	out := []SavedReport{}
	for _, r := range all {
		if r.Shared || r.Owner == u.Login {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Server) apiSavedList(c *gin.Context) {
	u, _ := userOf(c)
	list, err := s.visibleSaved(c.Request.Context(), u)
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"reports": list})
}

// checkSaved checks a report to save; the measures and chart must be known.
func checkSaved(r *SavedReport) *failure {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || utf8.RuneCountInString(r.Name) > maxSavedReportName || strings.ContainsFunc(r.Name, func(c rune) bool { return c < ' ' }) {
		return fail(http.StatusBadRequest, "err.reports.name", "name", maxSavedReportName)
	}
	if !slices.Contains(reportDimensions, r.Dimension) {
		return fail(http.StatusBadRequest, "err.reports.dimension", "dimension")
	}
	if !slices.Contains(reportPeriods, r.Period) {
		return fail(http.StatusBadRequest, "err.reports.period", "period")
	}
	for _, m := range r.Measures {
		if !slices.Contains(ReportMeasures, m) {
			return fail(http.StatusBadRequest, "err.reports.measure", "measures", m)
		}
	}
	if r.Chart != "" && !slices.Contains(ReportMeasures, r.Chart) && !strings.HasPrefix(r.Chart, "break:") {
		return fail(http.StatusBadRequest, "err.reports.measure", "chart", r.Chart)
	}
	return nil
}

// saveReport adds r, owned by u, and returns it with its id.
func (s *Server) saveReport(ctx context.Context, u User, r SavedReport) (SavedReport, *failure) {
	if f := checkSaved(&r); f != nil {
		return r, f
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	r.ID, r.Owner = hex.EncodeToString(id[:]), u.Login
	savedMu.Lock()
	defer savedMu.Unlock()
	all, err := s.savedStore().SavedReports(ctx)
	if err != nil {
		return r, internal(err)
	}
	if len(all) >= maxSavedReports {
		return r, fail(http.StatusConflict, "err.reports.too_many", "", maxSavedReports)
	}
	if err := s.savedStore().PutSavedReports(ctx, append(all, r)); err != nil {
		return r, internal(err)
	}
	return r, nil
}

// deleteReport removes report id: its owner's or an administrator's to
// remove.
func (s *Server) deleteReport(ctx context.Context, u User, id string) *failure {
	savedMu.Lock()
	defer savedMu.Unlock()
	all, err := s.savedStore().SavedReports(ctx)
	if err != nil {
		return internal(err)
	}
	i := slices.IndexFunc(all, func(r SavedReport) bool { return r.ID == id })
	switch {
	case i < 0 || !all[i].Shared && all[i].Owner != u.Login:
		return fail(http.StatusNotFound, "err.not_found", "")
	case all[i].Owner != u.Login && u.Role != RoleAdmin:
		return fail(http.StatusForbidden, "err.reports.not_yours", "")
	}
	if err := s.savedStore().PutSavedReports(ctx, slices.Delete(all, i, i+1)); err != nil {
		return internal(err)
	}
	return nil
}

// savedInput is what a client sends to save a report: the id and owner
// are the server's to give.
type savedInput struct {
	Name      string   `json:"name"`
	Shared    bool     `json:"shared"`
	Dimension string   `json:"dimension"`
	Period    string   `json:"period"`
	Measures  []string `json:"measures"`
	Chart     string   `json:"chart"`
}

func (s *Server) apiSavedCreate(c *gin.Context) {
	var in savedInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	u, _ := userOf(c)
	r, f := s.saveReport(c.Request.Context(), u, SavedReport{Name: in.Name, Shared: in.Shared, Dimension: in.Dimension,
		Period: in.Period, Measures: in.Measures, Chart: in.Chart})
	if f != nil {
		s.failWith(c, f)
		return
	}
	c.JSON(http.StatusCreated, r)
}

func (s *Server) apiSavedDelete(c *gin.Context) {
	u, _ := userOf(c)
	if f := s.deleteReport(c.Request.Context(), u, c.Param("id")); f != nil {
		s.failWith(c, f)
		return
	}
	c.Status(http.StatusNoContent)
}

// postSaved saves the report form's shape and goes back to it.
func (s *Server) postSaved(c *gin.Context) {
	u, _ := userOf(c)
	r := SavedReport{Name: c.PostForm("name"), Shared: c.PostForm("shared") != "", Dimension: c.PostForm("dimension"),
		Period: c.PostForm("period"), Measures: c.PostFormArray("measure"), Chart: c.PostForm("chart")}
	back := savedURL(r)
	if _, f := s.saveReport(c.Request.Context(), u, r); f != nil {
		back += "&refused=" + refusalCode(f)
	}
	c.Redirect(http.StatusSeeOther, back)
}

func (s *Server) postSavedDelete(c *gin.Context) {
	u, _ := userOf(c)
	back := "/reports"
	if f := s.deleteReport(c.Request.Context(), u, c.Param("id")); f != nil {
		back += "?refused=" + refusalCode(f)
	}
	c.Redirect(http.StatusSeeOther, back)
}

// savedRefusals are the refusals a page form's redirect names (by code,
// so no text of the URL's reaches the page).
var savedRefusals = map[string]*failure{
	"name":      fail(http.StatusBadRequest, "err.reports.name", "name", maxSavedReportName),
	"too_many":  fail(http.StatusConflict, "err.reports.too_many", "", maxSavedReports),
	"not_yours": fail(http.StatusForbidden, "err.reports.not_yours", ""),
	"not_found": fail(http.StatusNotFound, "err.not_found", ""),
	"shape":     fail(http.StatusBadRequest, "err.reports.shape", ""),
}

// refusalCode names f among savedRefusals.
func refusalCode(f *failure) string {
	for code, r := range savedRefusals {
		if r.key == f.key {
			return code
		}
	}
	return "shape"
}

// savedURL is the reports page showing a saved report's shape.
func savedURL(r SavedReport) string {
	v := url.Values{"dimension": {r.Dimension}, "period": {r.Period}}
	for _, m := range r.Measures {
		v.Add("measure", m)
	}
	if r.Chart != "" {
		v.Set("chart", r.Chart)
	}
	return "/reports?" + v.Encode()
}

// savedLink is a saved report as the reports page lists it.
type savedLink struct {
	SavedReport
	Href      string
	CanDelete bool
}

// savedLinks lists the saved reports the viewer sees, for the page.
func (s *Server) savedLinks(c *gin.Context) []savedLink {
	if s.savedStore() == nil {
		return nil
	}
	u, _ := userOf(c)
	list, err := s.visibleSaved(c.Request.Context(), u)
	if err != nil {
		s.log.Warn("webui: saved reports", "err", err)
		return nil
	}
	out := make([]savedLink, 0, len(list))
	for _, r := range list {
		out = append(out, savedLink{r, savedURL(r), r.Owner == u.Login || u.Role == RoleAdmin})
	}
	return out
}
