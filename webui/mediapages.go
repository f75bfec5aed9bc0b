package webui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// The media admin pages: prompts, music on hold, recording retention,
// voicemail boxes and conference rooms. Boxes and rooms are object forms
// (forms.go) over the media services' interfaces; the prompt, music,
// retention and live conference pages are drawn on the server and act
// through the REST API (apiforms.js sends each form to its route), so a
// page offers nothing the API would refuse its user.

// recordingEncodings are the encodings the recording settings take.
var recordingEncodings = []string{"alaw", "ulaw", "pcm16"}

// Box kinds, as telephony/voicemail has them.
var voiceBoxKinds = []string{"agent", "group", "general"}

// mohPrefix is the name prefix of the music-on-hold prompts: a group's
// "moh" names one of them (a prompt, as the queue plays it).
const mohPrefix = "moh/"

// mediaForms are the object pages of the voicemail boxes and conference
// rooms.
var mediaForms = []*formKind{
	{
		Kind: "voicemail-boxes", Key: "number", Object: "voicebox", Nav: "nav.voicemail_boxes", Read: PermPBX, Write: PermPBX,
		Intro:   "obj.intro.voicemail_boxes",
		Columns: []column{{Field: "number"}, {Field: "kind"}, {Field: "name"}, {Field: "owner"}, {Field: "notify_number"}, {Field: "email"}, {Field: "new"}, {Field: "saved"}},
		Fields: []formField{
			{Name: "number", Required: true, Max: 16, KeyField: true},
			{Name: "kind", Type: ftSelect, Options: opts(voiceBoxKinds...), Required: true},
			{Name: "name", Max: pbxNameMax},
			{Name: "owner", Max: 64},
			{Name: "pin", Type: ftSecret, Max: 16},
			{Name: "email", Max: 254},
			{Name: "notify_number", Max: 32},
			{Name: "extensions", Type: ftLines},
			{Name: "unsolicited_mwi", Type: ftCheck},
			{Name: "max_message_s", Type: ftNumber},
			{Name: "max_messages", Type: ftNumber},
		},
		store:       func(s *Server) objectStore { return boxObjects{s} },
		available:   func(s *Server) bool { return s.cfg.Voicemail != nil },
		Unavailable: "err.voicemail.unavailable",
	},
	{
		Kind: "conference-rooms", Key: "number", Object: "room", Nav: "nav.conference_rooms", Read: PermPBX, Write: PermPBX,
		Intro:   "obj.intro.conference_rooms",
		Columns: []column{{Field: "number"}, {Field: "name"}, {Field: "max_parties"}, {Field: "has_pin"}, {Field: "has_moderator_pin"}, {Field: "record"}},
		Fields: []formField{
			{Name: "number", Required: true, Max: 16, KeyField: true},
			{Name: "name", Max: pbxNameMax},
			{Name: "max_parties", Type: ftNumber},
			{Name: "pin", Type: ftSecret, Max: 16},
			{Name: "clear_pin", Type: ftCheck},
			{Name: "moderator_pin", Type: ftSecret, Max: 16},
			{Name: "quiet", Type: ftCheck},
			{Name: "no_music", Type: ftCheck},
			{Name: "record", Type: ftCheck},
		},
		store:       func(s *Server) objectStore { return roomObjects{s} },
		available:   func(s *Server) bool { return s.cfg.Conferences != nil },
		Unavailable: "err.conference.unavailable",
	},
}

// asObject turns a service's value into an object page's object.
func asObject(v any) (pbxObject, *failure) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, internal(err)
	}
	o, err := parseObject(raw)
	if err != nil {
		return nil, internal(err)
	}
	return o, nil
}

// fromObject decodes a form's object into the service's input.
func fromObject(o pbxObject, into any) *failure {
	raw, err := json.Marshal(o)
	if err != nil {
		return internal(err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fail(http.StatusBadRequest, "err.body.invalid", "")
	}
	return nil
}

// asObjects turns a list of the service's values into objects.
func asObjects[T any](list []T) ([]pbxObject, *failure) {
	out := make([]pbxObject, 0, len(list))
	for _, v := range list {
		o, f := asObject(v)
		if f != nil {
			return nil, f
		}
		out = append(out, o)
	}
	return out, nil
}

// boxObjects are the voicemail boxes as the object pages use them.
type boxObjects struct{ s *Server }

func (b boxObjects) list(c *gin.Context) ([]pbxObject, *failure) {
	boxes, err := b.s.cfg.Voicemail.Boxes(c.Request.Context())
	if err != nil {
		return nil, vmFailure(err)
	}
	return asObjects(boxes)
}

func (b boxObjects) get(c *gin.Context, key string) (pbxObject, *failure) {
	box, err := b.s.cfg.Voicemail.Box(c.Request.Context(), key)
	if err != nil {
		return nil, vmFailure(err)
	}
	return asObject(box)
}

func (b boxObjects) create(c *gin.Context, o pbxObject) (pbxObject, string, *failure) {
	var in boxInput
	if f := fromObject(o, &in); f != nil {
		return nil, "", f
	}
	// PutBox creates or changes: a new box must not replace one.
	if _, err := b.s.cfg.Voicemail.Box(c.Request.Context(), in.Number); err == nil {
		return nil, "", fail(http.StatusConflict, "err.voicemail.exists", "number", in.Number)
	}
	return b.put(c, in)
}

func (b boxObjects) update(c *gin.Context, key string, o pbxObject) (pbxObject, string, *failure) {
	var in boxInput
	if f := fromObject(o, &in); f != nil {
		return nil, "", f
	}
	in.Number = key
	return b.put(c, in)
}

func (b boxObjects) put(c *gin.Context, in boxInput) (pbxObject, string, *failure) {
	box, err := b.s.cfg.Voicemail.PutBox(c.Request.Context(), in.VoiceBox, in.PIN)
	if err != nil {
		return nil, "", vmFailure(err)
	}
	o, f := asObject(box)
	return o, "", f
}

func (b boxObjects) delete(c *gin.Context, key string) *failure {
	if err := b.s.cfg.Voicemail.DeleteBox(c.Request.Context(), key); err != nil {
		return vmFailure(err)
	}
	return nil
}

// roomInput is a room as an administrator sends it (the API's PUT body).
type roomInput struct {
	ConfRoom
	NewPIN          string `json:"pin,omitempty"`
	NewModeratorPIN string `json:"moderator_pin,omitempty"`
	ClearPIN        bool   `json:"clear_pin,omitempty"`
}

// roomObjects are the conference rooms as the object pages use them.
type roomObjects struct{ s *Server }

func (r roomObjects) list(c *gin.Context) ([]pbxObject, *failure) {
	rooms, err := r.s.cfg.Conferences.Rooms(c.Request.Context())
	if err != nil {
		return nil, confFailure(err)
	}
	return asObjects(rooms)
}

func (r roomObjects) room(c *gin.Context, key string) (ConfRoom, bool, *failure) {
	rooms, err := r.s.cfg.Conferences.Rooms(c.Request.Context())
	if err != nil {
		return ConfRoom{}, false, confFailure(err)
	}
	i := slices.IndexFunc(rooms, func(x ConfRoom) bool { return x.Number == key })
	if i < 0 {
		return ConfRoom{}, false, nil
	}
	return rooms[i], true, nil
}

func (r roomObjects) get(c *gin.Context, key string) (pbxObject, *failure) {
	room, ok, f := r.room(c, key)
	if f != nil {
		return nil, f
	}
	if !ok {
		return nil, fail(http.StatusNotFound, "err.conference.not_found", "")
	}
	return asObject(room)
}

func (r roomObjects) create(c *gin.Context, o pbxObject) (pbxObject, string, *failure) {
	var in roomInput
	if f := fromObject(o, &in); f != nil {
		return nil, "", f
	}
	_, exists, f := r.room(c, in.Number)
	switch {
	case f != nil:
		return nil, "", f
	case exists:
		return nil, "", fail(http.StatusConflict, "err.conference.exists", "number", in.Number)
	}
	return r.put(c, in)
}

func (r roomObjects) update(c *gin.Context, key string, o pbxObject) (pbxObject, string, *failure) {
	var in roomInput
	if f := fromObject(o, &in); f != nil {
		return nil, "", f
	}
	in.Number = key
	return r.put(c, in)
}

func (r roomObjects) put(c *gin.Context, in roomInput) (pbxObject, string, *failure) {
	room, err := r.s.cfg.Conferences.PutRoom(c.Request.Context(), in.ConfRoom, in.NewPIN, in.NewModeratorPIN, in.ClearPIN)
	if err != nil {
		return nil, "", confFailure(err)
	}
	o, f := asObject(room)
	return o, "", f
}

func (r roomObjects) delete(c *gin.Context, key string) *failure {
	if err := r.s.cfg.Conferences.DeleteRoom(c.Request.Context(), key); err != nil {
		return confFailure(err)
	}
	return nil
}

func hasPrompts(s *Server) bool { return s.cfg.Prompts != nil }

func hasConferences(s *Server) bool { return s.cfg.Conferences != nil }

// mediaPages registers the media pages; the permission comes before the
// check that the service runs, as for the API.
func (s *Server) mediaPages(e *gin.Engine) {
	s.formRoutes(e, mediaForms)
	e.GET("/prompts", s.requireUser(false), s.need(PermCCRead), s.needPrompts, s.pagePrompts)
	e.GET("/moh", s.requireUser(false), s.need(PermCCRead), s.needPrompts, s.pageMOH)
	e.POST("/moh/groups/:key", s.requireUser(false), s.need(PermCCWrite), s.needPrompts, s.postGroupMOH)
	e.GET("/retention", s.requireUser(false), s.need(PermPBX), s.pageRetention)
	e.GET("/conference", s.requireUser(false), s.need(PermQueueControl), s.pageConferenceLive)
}

// promptsView is what prompts.html and moh.html show.
type promptsView struct {
	Lang      string
	Languages []string
	Prompts   []PromptInfo
	CanWrite  bool
	// Groups are the call-centre groups and the music each plays (the
	// music page only).
	Groups []groupMOH
	// Prefix is the name prefix the page's uploads get ("moh/").
	Prefix string
}

// groupMOH is a group and its music on hold ("" for the default tune).
type groupMOH struct {
	Key, Name, MOH string
}

// promptList reads the catalogue in the language the query asks for (the
// first one otherwise), keeping the names with prefix.
func (s *Server) promptList(c *gin.Context, prefix string) (promptsView, *failure) {
	p := s.cfg.Prompts
	v := promptsView{Languages: p.PromptLanguages(), Lang: c.Query("lang"), Prefix: prefix}
	if v.Lang == "" || !slices.Contains(v.Languages, v.Lang) {
		v.Lang = ""
		if len(v.Languages) > 0 {
			v.Lang = v.Languages[0]
		}
		if slices.Contains(v.Languages, langOf(c)) {
			v.Lang = langOf(c)
		}
	}
	list, err := p.PromptList(c.Request.Context(), v.Lang)
	if err != nil {
		return v, promptFailure(err)
	}
	for _, info := range list {
		if strings.HasPrefix(info.Name, prefix) {
			v.Prompts = append(v.Prompts, info)
		}
	}
	slices.SortFunc(v.Prompts, func(a, b PromptInfo) int { return strings.Compare(a.Name, b.Name) })
	u, _ := userOf(c)
	v.CanWrite = u.Can(PermCCWrite)
	return v, nil
}

func (s *Server) pagePrompts(c *gin.Context) {
	v, f := s.promptList(c, "")
	if f != nil {
		s.failWith(c, f)
		return
	}
	s.render(c, http.StatusOK, "prompts", gin.H{"P": v})
}

func (s *Server) pageMOH(c *gin.Context) {
	v, f := s.promptList(c, mohPrefix)
	if f != nil {
		s.failWith(c, f)
		return
	}
	d := gin.H{"P": &v}
	if k, ok := objectMessages[c.Query("msg")]; ok {
		d["Notice"] = s.cat.T(langOf(c), k, c.Query("key"))
	}
	if s.cfg.CallCentre != nil {
		groups, err := s.cfg.CallCentre.CCList(c.Request.Context(), CCGroups)
		if err != nil {
			s.failWith(c, s.ccFailure(CCGroups, err))
			return
		}
		for _, raw := range groups {
			var g struct {
				ID   json.Number `json:"id"`
				Name string      `json:"name"`
				MOH  string      `json:"moh"`
			}
			if json.Unmarshal(raw, &g) == nil {
				v.Groups = append(v.Groups, groupMOH{Key: g.ID.String(), Name: g.Name, MOH: g.MOH})
			}
		}
	}
	s.render(c, http.StatusOK, "moh", d)
}

// postGroupMOH sets the music one group plays, through the call centre's
// own update (its checks apply: the music must exist as a prompt).
func (s *Server) postGroupMOH(c *gin.Context) {
	cc := s.cfg.CallCentre
	if cc == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.cc.unavailable", ""))
		return
	}
	ctx, key := c.Request.Context(), c.Param("key")
	raw, err := cc.CCGet(ctx, CCGroups, key)
	if err != nil {
		s.failWith(c, s.ccFailure(CCGroups, err))
		return
	}
	var g map[string]json.RawMessage
	if err := json.Unmarshal(raw, &g); err != nil {
		s.failWith(c, internal(err))
		return
	}
	moh := strings.TrimSpace(c.PostForm("moh"))
	if moh == "" {
		delete(g, "moh")
	} else {
		g["moh"], _ = json.Marshal(moh)
	}
	obj, _ := json.Marshal(g)
	if _, err := cc.CCUpdate(ctx, CCGroups, key, obj); err != nil {
		f := s.ccFailure(CCGroups, err)
		if f.status >= 500 || f.status == http.StatusNotFound {
			s.failWith(c, f)
			return
		}
		v, pf := s.promptList(c, mohPrefix)
		if pf != nil {
			s.failWith(c, pf)
			return
		}
		s.render(c, f.status, "moh", gin.H{"P": &v, "Error": s.failText(c, f)})
		return
	}
	c.Redirect(http.StatusSeeOther, "/moh?msg=saved&key="+url.QueryEscape(key))
}

// RecordingUsage is what the recordings take and what retention removed
// lately; a Recordings that also has it (RecordingUsageSource) shows it on
// the retention page and at GET /api/v1/recording-usage.
type RecordingUsage struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
	// FreeBytes and TotalBytes describe the data partition (0 when the
	// box cannot tell).
	FreeBytes  int64 `json:"free_bytes"`
	TotalBytes int64 `json:"total_bytes"`
	// Alarm is the code of the recorder's raised alarm ("" for none:
	// recording_full, recording_low, recording_dir), AlarmSince when it
	// was raised (RFC 3339).
	Alarm      string        `json:"alarm,omitempty"`
	AlarmSince string        `json:"alarm_since,omitempty"`
	Purges     []PurgeRecord `json:"purges"`
}

// PurgeRecord is one recording retention (or an administrator) removed.
type PurgeRecord struct {
	// Key is the entry's place in the purge log (PurgeQuery.Before).
	Key    string `json:"key,omitempty"`
	ID     string `json:"id"`
	CallID string `json:"call_id,omitempty"`
	File   string `json:"file,omitempty"`
	Start  string `json:"start"` // RFC 3339
	At     string `json:"at"`    // RFC 3339
	Bytes  int64  `json:"bytes"`
	// Reason is one of purgeReasons: "age", "quota", "floor" or
	// "deleted" (by hand, by Who).
	Reason string `json:"reason"`
	Who    string `json:"who,omitempty"`
}

// purgeReasons are the reasons a recording is removed for.
var purgeReasons = []string{"age", "quota", "floor", "deleted"}

// PurgeQuery selects entries of the purge log, newest first.
type PurgeQuery struct {
	// Reason keeps one of purgeReasons ("": all).
	Reason string
	// Before pages on: entries older than the one with this Key.
	Before string
	Limit  int
}

// PurgePage is one page of the purge log, newest first; Next, when set,
// is the Before of the next page.
type PurgePage struct {
	Purges []PurgeRecord `json:"purges"`
	Next   string        `json:"next,omitempty"`
}

// RecordingPurgeSource is a Recordings that keeps its removals in a log
// (GET /api/v1/recording-purges?reason=&before=&limit=, and the retention
// page's list).
type RecordingPurgeSource interface {
	RecordingPurges(ctx context.Context, q PurgeQuery) (PurgePage, error)
}

// purgeQuery reads a PurgeQuery from the request; a reason not in
// purgeReasons is refused.
func purgeQuery(c *gin.Context, limit int) (PurgeQuery, *failure) {
	q := PurgeQuery{Reason: c.Query("reason"), Before: c.Query("before"), Limit: limit}
	if q.Reason != "" && !slices.Contains(purgeReasons, q.Reason) {
		return q, fail(http.StatusBadRequest, "err.invalid", "reason")
	}
	return q, nil
}

func (s *Server) apiRecordingPurges(c *gin.Context) {
	if _, ok := s.recordings(c); !ok {
		return
	}
	src, ok := s.cfg.Recordings.(RecordingPurgeSource)
	if !ok {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.recording.unavailable", ""))
		return
	}
	q, f := purgeQuery(c, limitOf(c))
	if f != nil {
		s.failWith(c, f)
		return
	}
	p, err := src.RecordingPurges(c.Request.Context(), q)
	if err != nil {
		s.failWith(c, mediaFailure(err))
		return
	}
	if p.Purges == nil {
		p.Purges = []PurgeRecord{}
	}
	c.JSON(http.StatusOK, p)
}

// RecordingUsageSource is a Recordings that can tell its use.
type RecordingUsageSource interface {
	RecordingUsage(ctx context.Context) (RecordingUsage, error)
}

// errNoUsage: the recordings cannot tell their use.
var errNoUsage = errors.New("webui: recording usage not available")

func (s *Server) recordingUsage(c *gin.Context) (RecordingUsage, error) {
	src, ok := s.cfg.Recordings.(RecordingUsageSource)
	if !ok {
		return RecordingUsage{}, errNoUsage
	}
	u, err := src.RecordingUsage(c.Request.Context())
	if u.Purges == nil {
		u.Purges = []PurgeRecord{}
	}
	return u, err
}

func (s *Server) apiRecordingUsage(c *gin.Context) {
	if _, ok := s.recordings(c); !ok {
		return
	}
	u, err := s.recordingUsage(c)
	switch {
	case errors.Is(err, errNoUsage):
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.recording.unavailable", ""))
	case err != nil:
		s.failWith(c, mediaFailure(err))
	default:
		c.JSON(http.StatusOK, u)
	}
}

func (s *Server) pageRetention(c *gin.Context) {
	rec, ok := s.recordings(c)
	if !ok {
		return
	}
	set, err := rec.RecordingSettings(c.Request.Context())
	if err != nil {
		s.failWith(c, mediaFailure(err))
		return
	}
	d := gin.H{"Set": set, "Encodings": recordingEncodings}
	u, err := s.recordingUsage(c)
	if err == nil {
		err = s.purgeList(c, &u, d)
	}
	if err == nil {
		d["Usage"] = u
	} else if !errors.Is(err, errNoUsage) {
		d["UsageError"] = s.failText(c, mediaFailure(err))
	}
	s.render(c, http.StatusOK, "retention", d)
}

// purgeList puts the page of the purge log the request asks for (?reason=,
// ?before=) in u's Purges, when the recordings keep a log.
func (s *Server) purgeList(c *gin.Context, u *RecordingUsage, d gin.H) error {
	src, ok := s.cfg.Recordings.(RecordingPurgeSource)
	if !ok {
		return nil
	}
	q, f := purgeQuery(c, 50)
	if f != nil {
		q.Reason = ""
	}
	p, err := src.RecordingPurges(c.Request.Context(), q)
	if err != nil {
		return err
	}
	u.Purges, d["Reasons"], d["Reason"] = p.Purges, purgeReasons, q.Reason
	if p.Next != "" {
		d["Older"] = "/retention?" + url.Values{"reason": {q.Reason}, "before": {p.Next}}.Encode()
	}
	return nil
}

func (s *Server) pageConferenceLive(c *gin.Context) {
	cf, ok := s.conferences(c)
	if !ok {
		return
	}
	live, err := cf.Live(c.Request.Context())
	if err != nil {
		s.failWith(c, confFailure(err))
		return
	}
	slices.SortFunc(live, func(a, b ConfLive) int { return strings.Compare(a.Room, b.Room) })
	rooms, err := cf.Rooms(c.Request.Context())
	if err != nil {
		s.failWith(c, confFailure(err))
		return
	}
	names := map[string]string{}
	for _, r := range rooms {
		names[r.Number] = r.Name
	}
	s.render(c, http.StatusOK, "conference", gin.H{"Live": live, "Names": names, "Now": s.now()})
}
