package webui

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Conferences is the conference rooms served under /api/v1/conference,
// given as Config.Conferences; without it those routes answer 503.
// Implementations wrap ErrNotFound for an unknown room, conference or
// party, ErrInvalid for a refused room (with a JSONField method naming the
// field).
type Conferences interface {
	Rooms(ctx context.Context) ([]ConfRoom, error)
	// PutRoom creates or changes a room; pin and moderatorPIN, when set,
	// replace the room's; clearPIN removes its PIN.
	PutRoom(ctx context.Context, r ConfRoom, pin, moderatorPIN string, clearPIN bool) (ConfRoom, error)
	DeleteRoom(ctx context.Context, number string) error
	// Live lists the conferences going on.
	Live(ctx context.Context) ([]ConfLive, error)
	Mute(ctx context.Context, room string, party uint64, muted bool) error
	Kick(ctx context.Context, room string, party uint64) error
	Lock(ctx context.Context, room string, locked bool) error
	End(ctx context.Context, room string) error
}

// ConfRoom is a room as the API shows it (never its PINs).
type ConfRoom struct {
	Number       string `json:"number"`
	Name         string `json:"name,omitempty"`
	MaxParties   int    `json:"max_parties,omitempty"`
	Quiet        bool   `json:"quiet,omitempty"`
	NoMusic      bool   `json:"no_music,omitempty"`
	Record       bool   `json:"record,omitempty"`
	PIN          bool   `json:"has_pin"`
	ModeratorPIN bool   `json:"has_moderator_pin"`
}

// ConfLive is a conference going on.
type ConfLive struct {
	Room      string      `json:"room"`
	Locked    bool        `json:"locked"`
	Recording string      `json:"recording,omitempty"`
	Parties   []ConfParty `json:"parties"`
}

// ConfParty is one participant.
type ConfParty struct {
	ID        uint64    `json:"id"`
	Number    string    `json:"number,omitempty"`
	Name      string    `json:"name,omitempty"`
	Joined    time.Time `json:"joined"`
	Muted     bool      `json:"muted"`
	Moderator bool      `json:"moderator"`
}

// conferenceRoutes registers, with PermQueueControl (supervisors by
// default):
//
//	GET    /api/v1/conference/rooms                 -> {"rooms": [...]}
//	GET    /api/v1/conference/live                  -> {"conferences": [...]}
//	PUT    /api/v1/conference/live/:room/parties/:id {"muted": true}
//	DELETE /api/v1/conference/live/:room/parties/:id   (removes the party)
//	PUT    /api/v1/conference/live/:room            {"locked": true}
//	DELETE /api/v1/conference/live/:room               (ends the conference)
//
// and with PermPBX PUT and DELETE /api/v1/conference/rooms/:room
// (with "pin", "moderator_pin", "clear_pin").
func (s *Server) conferenceRoutes(authed *gin.RouterGroup) {
	g := authed.Group("/conference")
	live := s.need(PermQueueControl)
	g.GET("/rooms", live, s.apiRooms)
	g.PUT("/rooms/:room", s.need(PermPBX), s.apiPutRoom)
	g.DELETE("/rooms/:room", s.need(PermPBX), s.apiDeleteRoom)
	g.GET("/live", live, s.apiLive)
	g.PUT("/live/:room/parties/:id", live, s.apiMuteParty)
	g.DELETE("/live/:room/parties/:id", live, s.apiKickParty)
	g.PUT("/live/:room", live, s.apiLockRoom)
	g.DELETE("/live/:room", live, s.apiEndRoom)
}

func (s *Server) conferences(c *gin.Context) (Conferences, bool) {
	if s.cfg.Conferences == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.conference.unavailable", ""))
		return nil, false
	}
	return s.cfg.Conferences, true
}

func confFailure(err error) *failure {
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err.conference.not_found", "")
	case errors.Is(err, ErrInvalid):
		return invalidMedia(err)
	case errors.Is(err, ErrNoSpace):
		return noSpaceFailure(err)
	}
	return internal(err)
}

// answer sends v (or 204 for nil) or the failure of err.
func (s *Server) confAnswer(c *gin.Context, v any, err error) {
	switch {
	case err != nil:
		s.failWith(c, confFailure(err))
	case v == nil:
		c.Status(http.StatusNoContent)
	default:
		c.JSON(http.StatusOK, v)
	}
}

func (s *Server) apiRooms(c *gin.Context) {
	cf, ok := s.conferences(c)
	if !ok {
		return
	}
	rooms, err := cf.Rooms(c.Request.Context())
	if rooms == nil {
		rooms = []ConfRoom{}
	}
	s.confAnswer(c, gin.H{"rooms": rooms}, err)
}

func (s *Server) apiPutRoom(c *gin.Context) {
	cf, ok := s.conferences(c)
	if !ok {
		return
	}
	var in struct {
		ConfRoom
		NewPIN          string `json:"pin,omitempty"`
		NewModeratorPIN string `json:"moderator_pin,omitempty"`
		ClearPIN        bool   `json:"clear_pin,omitempty"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.Number = c.Param("room")
	r, err := cf.PutRoom(c.Request.Context(), in.ConfRoom, in.NewPIN, in.NewModeratorPIN, in.ClearPIN)
	s.confAnswer(c, r, err)
}

func (s *Server) apiDeleteRoom(c *gin.Context) {
	if cf, ok := s.conferences(c); ok {
		s.confAnswer(c, nil, cf.DeleteRoom(c.Request.Context(), c.Param("room")))
	}
}

func (s *Server) apiLive(c *gin.Context) {
	cf, ok := s.conferences(c)
	if !ok {
		return
	}
	live, err := cf.Live(c.Request.Context())
	if live == nil {
		live = []ConfLive{}
	}
	s.confAnswer(c, gin.H{"conferences": live}, err)
}

// partyID reads :id.
func (s *Server) partyID(c *gin.Context) (uint64, bool) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		s.failWith(c, fail(http.StatusNotFound, "err.conference.not_found", ""))
		return 0, false
	}
	return id, true
}

func (s *Server) apiMuteParty(c *gin.Context) {
	cf, ok := s.conferences(c)
	if !ok {
		return
	}
	id, ok := s.partyID(c)
	if !ok {
		return
	}
	var in struct {
		Muted bool `json:"muted"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	s.confAnswer(c, nil, cf.Mute(c.Request.Context(), c.Param("room"), id, in.Muted))
}

func (s *Server) apiKickParty(c *gin.Context) {
	cf, ok := s.conferences(c)
	if !ok {
		return
	}
	if id, ok := s.partyID(c); ok {
		s.confAnswer(c, nil, cf.Kick(c.Request.Context(), c.Param("room"), id))
	}
}

func (s *Server) apiLockRoom(c *gin.Context) {
	cf, ok := s.conferences(c)
	if !ok {
		return
	}
	var in struct {
		Locked bool `json:"locked"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	s.confAnswer(c, nil, cf.Lock(c.Request.Context(), c.Param("room"), in.Locked))
}

func (s *Server) apiEndRoom(c *gin.Context) {
	if cf, ok := s.conferences(c); ok {
		s.confAnswer(c, nil, cf.End(c.Request.Context(), c.Param("room")))
	}
}
