package webui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Recordings is the call recording store served under /api/v1/recordings,
// given as Config.Recordings; without it those routes answer 503.
// Implementations wrap ErrNotFound for an unknown id, ErrGone for a
// recording whose file is missing, ErrInvalid for refused settings (the
// text after it naming the field).
type Recordings interface {
	// SearchRecordings returns the recordings q selects, newest first.
	SearchRecordings(ctx context.Context, q RecordingQuery) ([]Recording, error)
	// Recording returns one recording and every recording of its service
	// (its consultation, three-way and transfer legs, itself included), in
	// start order.
	Recording(ctx context.Context, id string) (rec Recording, legs []Recording, err error)
	// OpenRecording opens a recording's audio: as 16-bit PCM WAV (what
	// browsers play) or as the file is kept.
	OpenRecording(ctx context.Context, id string, asPCM bool) (RecordingFile, error)
	// DeleteRecording removes a recording; by names who did it, for the log.
	DeleteRecording(ctx context.Context, id, by string) error
	RecordingSettings(ctx context.Context) (RecordingSettings, error)
	SetRecordingSettings(ctx context.Context, s RecordingSettings) error
}

// ErrGone: the entry exists but its file does not (the API answers 410).
var ErrGone = errors.New("webui: gone")

// RecordingQuery selects recordings (see /api/v1/recordings).
type RecordingQuery struct {
	From, To                        time.Time
	Agent, Group, Customer, Service string
	Limit                           int
}

// Recording is a recording's index entry as the API shows it.
type Recording struct {
	ID        string        `json:"id"`
	CallID    string        `json:"call_id"`
	ServiceID string        `json:"service_id"`
	Agent     string        `json:"agent,omitempty"`
	Group     string        `json:"group,omitempty"`
	Customer  string        `json:"customer,omitempty"`
	Direction string        `json:"direction,omitempty"`
	Kind      string        `json:"kind,omitempty"`
	WorkOrder string        `json:"work_order,omitempty"`
	Start     time.Time     `json:"start"`
	Duration  time.Duration `json:"-"`
	Seconds   float64       `json:"seconds"`
	Size      int64         `json:"size"`
	Encoding  string        `json:"encoding"`
	State     string        `json:"state"`
	Error     string        `json:"error,omitempty"`
}

// RecordingFile is a recording's audio opened for reading with byte
// ranges.
type RecordingFile interface {
	io.ReadSeeker
	io.Closer
}

// RecordingSettings are the recording settings as the API edits them.
type RecordingSettings struct {
	// Encoding is "alaw", "ulaw" or "pcm16".
	Encoding string `json:"encoding"`
	// MaxAgeDays purges recordings older than that many days; 0 keeps.
	MaxAgeDays int `json:"max_age_days"`
	// QuotaMB caps the space recordings take; 0: no cap.
	QuotaMB int64 `json:"quota_mb"`
	// MinFreeMB is the free space kept on the data partition.
	MinFreeMB int64 `json:"min_free_mb"`
	// Consent is the prompt played before an agent connects; "" for none.
	Consent string `json:"consent"`
}

// recordingRoutes registers, for every logged-in user (agents see only
// their own recordings: the agent field is their login):
//
//	GET    /api/v1/recordings?from=&to=&agent=&group=&customer=&service=&limit=
//	       -> {"recordings": [...]}, newest first (default: the last 31 days)
//	GET    /api/v1/recordings/:id          -> {"recording": {...}, "legs": [...]}
//	GET    /api/v1/recordings/:id/audio    the audio as 16-bit PCM WAV, with
//	       Range requests (?download=1: as an attachment, the file as kept)
//
// (everyone's with PermRecordingsAll, else one's own) and with PermPBX
// DELETE /api/v1/recordings/:id, GET/PUT /api/v1/recording-settings and
// GET /api/v1/recording-usage (RecordingUsage) and
// GET /api/v1/recording-purges?reason=&before=&limit= (PurgePage).
func (s *Server) recordingRoutes(authed *gin.RouterGroup) {
	authed.GET("/recordings", s.apiSearchRecordings)
	authed.GET("/recordings/:id", s.apiGetRecording)
	authed.GET("/recordings/:id/audio", s.apiRecordingAudio)
	authed.DELETE("/recordings/:id", s.need(PermPBX), s.apiDeleteRecording)
	authed.GET("/recording-settings", s.need(PermPBX), s.apiRecordingSettings)
	authed.PUT("/recording-settings", s.need(PermPBX), s.apiSetRecordingSettings)
	authed.GET("/recording-usage", s.need(PermPBX), s.apiRecordingUsage)
	authed.GET("/recording-purges", s.need(PermPBX), s.apiRecordingPurges)
}

// recordings returns the store or answers 503.
func (s *Server) recordings(c *gin.Context) (Recordings, bool) {
	if s.cfg.Recordings == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.recording.unavailable", ""))
		return nil, false
	}
	return s.cfg.Recordings, true
}

// timeRange reads the from and to query parameters (RFC 3339); a bad one
// answers 400 and returns false.
func (s *Server) timeRange(c *gin.Context) (from, to time.Time, ok bool) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := c.Query(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.failWith(c, fail(http.StatusBadRequest, "err.cdr.time", p.name, p.name))
			return from, to, false
		}
		*p.t = t
	}
	if !to.IsZero() && !to.After(from) {
		s.failWith(c, fail(http.StatusBadRequest, "err.cdr.range", "to"))
		return from, to, false
	}
	return from, to, true
}

// RecordingPageMax is the largest limit of a recordings search.
const RecordingPageMax = 1000

func (s *Server) apiSearchRecordings(c *gin.Context) {
	rs, ok := s.recordings(c)
	if !ok {
		return
	}
	from, to, ok := s.timeRange(c)
	if !ok {
		return
	}
	q := RecordingQuery{From: from, To: to, Agent: c.Query("agent"), Group: c.Query("group"),
		Customer: c.Query("customer"), Service: c.Query("service")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > RecordingPageMax {
			s.failWith(c, fail(http.StatusBadRequest, "err.cdr.limit", "limit", RecordingPageMax))
			return
		}
		q.Limit = n
	}
	u, _ := userOf(c)
	if !u.Can(PermRecordingsAll) {
		q.Agent = ownRecordings(u) // without the permission, one hears one's own
	}
	list, err := rs.SearchRecordings(c.Request.Context(), q)
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"recordings": views(list)})
}

func views(list []Recording) []Recording {
	out := make([]Recording, len(list))
	for i, r := range list {
		r.Seconds = r.Duration.Seconds()
		out[i] = r
	}
	return out
}

// mayHear reports whether u may listen to r: everyone's with
// PermRecordingsAll (supervisors by default), else one's own.
func mayHear(u User, r Recording) bool {
	return u.Can(PermRecordingsAll) || r.Agent == ownRecordings(u)
}

// ownRecordings is the agent a user's own recordings name: the work number
// it acts as (an account "li" at desk 1088 hears 1088's), else its login,
// which names no agent's recordings and so never widens a search to all.
func ownRecordings(u User) string {
	if a := agentOf(u); a != "" {
		return a
	}
	return u.Login
}

// recording fetches :id and checks the user may hear it; it answers the
// failure itself.
func (s *Server) recording(c *gin.Context, rs Recordings) (Recording, []Recording, bool) {
	rec, legs, err := rs.Recording(c.Request.Context(), c.Param("id"))
	u, _ := userOf(c)
	switch {
	case errors.Is(err, ErrNotFound), err == nil && !mayHear(u, rec):
		// An agent is not told that someone else's recording exists.
		s.failWith(c, fail(http.StatusNotFound, "err.recording.not_found", ""))
		return rec, nil, false
	case err != nil:
		s.failWith(c, internal(err))
		return rec, nil, false
	}
	mine := legs[:0:0]
	for _, l := range legs {
		if mayHear(u, l) {
			mine = append(mine, l)
		}
	}
	return rec, mine, true
}

func (s *Server) apiGetRecording(c *gin.Context) {
	rs, ok := s.recordings(c)
	if !ok {
		return
	}
	rec, legs, ok := s.recording(c, rs)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"recording": views([]Recording{rec})[0], "legs": views(legs)})
}

// apiRecordingAudio serves the audio with http.ServeContent, which
// answers Range requests (206) and conditional ones; every listening is
// logged with who listened.
func (s *Server) apiRecordingAudio(c *gin.Context) {
	rs, ok := s.recordings(c)
	if !ok {
		return
	}
	rec, _, ok := s.recording(c, rs)
	if !ok {
		return
	}
	download := c.Query("download") == "1"
	f, err := rs.OpenRecording(c.Request.Context(), rec.ID, !download)
	switch {
	case errors.Is(err, ErrGone):
		s.failWith(c, fail(http.StatusGone, "err.recording.gone", ""))
		return
	case errors.Is(err, ErrNotFound):
		s.failWith(c, fail(http.StatusNotFound, "err.recording.not_found", ""))
		return
	case err != nil:
		s.failWith(c, internal(err))
		return
	}
	defer f.Close()
	u, _ := userOf(c)
	if c.GetHeader("Range") == "" || strings.HasPrefix(c.GetHeader("Range"), "bytes=0-") {
		s.log.Info("recording listened to", "id", rec.ID, "user", u.Login, "download", download)
	}
	name := rec.ID + ".wav"
	disp := "inline"
	if download {
		disp = "attachment"
	}
	c.Header("Content-Disposition", fmt.Sprintf("%s; filename=%q", disp, name))
	c.Header("Content-Type", "audio/wav")
	c.Header("Cache-Control", "private, no-store")
	http.ServeContent(c.Writer, c.Request, name, rec.Start, f)
}

func (s *Server) apiDeleteRecording(c *gin.Context) {
	rs, ok := s.recordings(c)
	if !ok {
		return
	}
	u, _ := userOf(c)
	err := rs.DeleteRecording(c.Request.Context(), c.Param("id"), u.Login)
	switch {
	case errors.Is(err, ErrNotFound):
		s.failWith(c, fail(http.StatusNotFound, "err.recording.not_found", ""))
	case errors.Is(err, ErrConflict):
		s.failWith(c, fail(http.StatusConflict, "err.recording.busy", ""))
	case err != nil:
		s.failWith(c, internal(err))
	default:
		c.Status(http.StatusNoContent)
	}
}

// mediaFailure maps a media service's error onto the API's answer.
func mediaFailure(err error) *failure {
	switch {
	case errors.Is(err, ErrNoSpace):
		return noSpaceFailure(err)
	case errors.Is(err, ErrInvalid):
		return invalidMedia(err)
	}
	return internal(err)
}

func (s *Server) apiRecordingSettings(c *gin.Context) {
	rs, ok := s.recordings(c)
	if !ok {
		return
	}
	set, err := rs.RecordingSettings(c.Request.Context())
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	c.JSON(http.StatusOK, set)
}

func (s *Server) apiSetRecordingSettings(c *gin.Context) {
	rs, ok := s.recordings(c)
	if !ok {
		return
	}
	var in RecordingSettings
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	switch {
	case !slices.Contains(recordingEncodings, in.Encoding):
		s.failWith(c, fail(http.StatusBadRequest, "err.recording.encoding", "encoding"))
		return
	case in.MaxAgeDays < 0 || in.MaxAgeDays > 36500:
		s.failWith(c, fail(http.StatusBadRequest, "err.recording.limit", "max_age_days", "max_age_days"))
		return
	case in.QuotaMB < 0 || in.QuotaMB > 1<<30, in.MinFreeMB < 0 || in.MinFreeMB > 1<<30:
		field := "quota_mb"
		if in.QuotaMB >= 0 && in.QuotaMB <= 1<<30 {
			field = "min_free_mb"
		}
		s.failWith(c, fail(http.StatusBadRequest, "err.recording.limit", field, field))
		return
	case len(in.Consent) > 200:
		s.failWith(c, fail(http.StatusBadRequest, "err.recording.limit", "consent", "consent"))
		return
	}
	if err := rs.SetRecordingSettings(c.Request.Context(), in); err != nil {
		s.failWith(c, mediaFailure(err))
		return
	}
	c.JSON(http.StatusOK, in)
}
