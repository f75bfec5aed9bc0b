package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// CallLog is the call detail record log served under GET /api/v1/cdr to
// administrators and supervisors, given as Config.CallLog; without it the
// route answers 503.
//
// CallLog returns up to limit records whose call started in [from, to)
// (a zero to has no end), oldest first, each a JSON object as the store
// keeps it, and the start time the next page begins at (zero when there
// is no more).
type CallLog interface {
	CallLog(ctx context.Context, from, to time.Time, limit int) (records []json.RawMessage, next time.Time, err error)
}

// Paging of /api/v1/cdr.
const (
	CDRPageDefault = 100
	CDRPageMax     = 1000
)

// cdrRoutes registers GET /api/v1/cdr on the authenticated group:
//
//	GET /api/v1/cdr?from=RFC3339&to=RFC3339&limit=N
//	-> {"records": [...], "next": "RFC3339"}   (next omitted on the last page)
func (s *Server) cdrRoutes(authed *gin.RouterGroup) {
	authed.GET("/cdr", s.need(PermLogsAll), s.apiCDRs)
}

func (s *Server) apiCDRs(c *gin.Context) {
	log := s.cfg.CallLog
	if log == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.cdr.unavailable", ""))
		return
	}
	from, to, ok := s.timeRange(c)
	if !ok {
		return
	}
	limit := CDRPageDefault
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > CDRPageMax {
			s.failWith(c, fail(http.StatusBadRequest, "err.cdr.limit", "limit", CDRPageMax))
			return
		}
		limit = n
	}
	recs, next, err := log.CallLog(c.Request.Context(), from, to, limit)
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	if recs == nil {
		recs = []json.RawMessage{}
	}
	body := gin.H{"records": recs}
	if !next.IsZero() {
		body["next"] = next.UTC().Format(time.RFC3339Nano)
	}
	c.JSON(http.StatusOK, body)
}
