package webui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Voicemail is the voicemail served under /api/v1/voicemail, given as
// Config.Voicemail; without it those routes answer 503. Implementations
// wrap ErrNotFound for an unknown box or message and ErrInvalid for a
// refused box, upload or setting (the text after it naming the field).
type Voicemail interface {
	Boxes(ctx context.Context) ([]VoiceBox, error)
	Box(ctx context.Context, number string) (VoiceBox, error)
	// PutBox creates or changes a box; PIN, when set, replaces its PIN.
	PutBox(ctx context.Context, b VoiceBox, pin string) (VoiceBox, error)
	DeleteBox(ctx context.Context, number string) error
	// Messages lists a box's messages, newest first.
	Messages(ctx context.Context, box string) ([]VoiceMessage, error)
	// OpenMessage opens a message's audio as 16-bit PCM WAV.
	OpenMessage(ctx context.Context, box, id string) (RecordingFile, VoiceMessage, error)
	// SetHeard marks a message heard (saved) or new again.
	SetHeard(ctx context.Context, box, id string, heard bool) error
	DeleteMessage(ctx context.Context, box, id string) error
	// CallBack rings the user's phone (ext) and then dials the message's
	// caller.
	CallBack(ctx context.Context, box, id, ext string) error
	// PutGreeting sets a box's greeting from a WAV file; DeleteGreeting
	// returns it to the default one.
	PutGreeting(ctx context.Context, box string, wav []byte) error
	DeleteGreeting(ctx context.Context, box string) error
	VoicemailSettings(ctx context.Context) (VoicemailSettings, error)
	SetVoicemailSettings(ctx context.Context, s VoicemailSettings) error
}

// VoiceBox is a mailbox as the API shows it (never its PIN).
type VoiceBox struct {
	Number         string   `json:"number"`
	Kind           string   `json:"kind"` // agent, group, general
	Name           string   `json:"name,omitempty"`
	Owner          string   `json:"owner,omitempty"` // the agent's login who reads it here
	MaxMessageS    int      `json:"max_message_s,omitempty"`
	MaxMessages    int      `json:"max_messages,omitempty"`
	Extensions     []string `json:"extensions,omitempty"`
	UnsolicitedMWI bool     `json:"unsolicited_mwi,omitempty"`
	NotifyNumber   string   `json:"notify_number,omitempty"`
	Email          string   `json:"email,omitempty"`
	Greeting       bool     `json:"greeting"`
	New            int      `json:"new"`
	Saved          int      `json:"saved"`
}

// VoiceMessage is a message as the API shows it.
type VoiceMessage struct {
	ID         string    `json:"id"`
	Box        string    `json:"box"`
	Caller     string    `json:"caller,omitempty"`
	CallerName string    `json:"caller_name,omitempty"`
	Received   time.Time `json:"received"`
	Seconds    float64   `json:"seconds"`
	Heard      bool      `json:"heard"`
}

// VoicemailSettings is the mail server messages are sent through. The
// password is never shown: GET gives PasswordSet, and a PUT without a
// password keeps the stored one.
type VoicemailSettings struct {
	SMTPHost    string `json:"smtp_host"`
	SMTPPort    int    `json:"smtp_port,omitempty"`
	SMTPTLS     string `json:"smtp_tls,omitempty"` // starttls, tls, none
	From        string `json:"from,omitempty"`
	User        string `json:"user,omitempty"`
	Password    string `json:"password,omitempty"`
	PasswordSet bool   `json:"password_set"`
}

// voicemailRoutes registers, for every logged-in user (an agent reaches
// only the boxes it owns; supervisors and administrators every box):
//
//	GET    /api/v1/voicemail/boxes                       -> {"boxes": [...]}
//	GET    /api/v1/voicemail/boxes/:box/messages         -> {"messages": [...]}
//	GET    /api/v1/voicemail/boxes/:box/messages/:id/audio  PCM WAV, Range
//	PUT    /api/v1/voicemail/boxes/:box/messages/:id     {"heard": true}
//	DELETE /api/v1/voicemail/boxes/:box/messages/:id
//	POST   /api/v1/voicemail/boxes/:box/messages/:id/callback {"extension": "201"}
//	PUT    /api/v1/voicemail/boxes/:box/greeting         the WAV file as the body
//	DELETE /api/v1/voicemail/boxes/:box/greeting
//
// (every box with PermRecordingsAll, as for recordings; else one's own)
// and with PermPBX PUT and DELETE /api/v1/voicemail/boxes/:box (the box,
// with "pin" to set its PIN) and GET/PUT /api/v1/voicemail-settings.
func (s *Server) voicemailRoutes(authed *gin.RouterGroup) {
	vm := authed.Group("/voicemail/boxes")
	vm.GET("", s.apiBoxes)
	vm.PUT("/:box", s.need(PermPBX), s.apiPutBox)
	vm.DELETE("/:box", s.need(PermPBX), s.apiDeleteBox)
	vm.GET("/:box/messages", s.apiMessages)
	vm.GET("/:box/messages/:id/audio", s.apiMessageAudio)
	vm.PUT("/:box/messages/:id", s.apiSetHeard)
	vm.DELETE("/:box/messages/:id", s.apiDeleteMessage)
	vm.POST("/:box/messages/:id/callback", s.apiCallBack)
	vm.PUT("/:box/greeting", s.apiPutGreeting)
	vm.DELETE("/:box/greeting", s.apiDeleteGreeting)
	authed.GET("/voicemail-settings", s.need(PermPBX), s.apiVoicemailSettings)
	authed.PUT("/voicemail-settings", s.need(PermPBX), s.apiSetVoicemailSettings)
}

func (s *Server) voicemail(c *gin.Context) (Voicemail, bool) {
	if s.cfg.Voicemail == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.voicemail.unavailable", ""))
		return nil, false
	}
	return s.cfg.Voicemail, true
}

// vmFailure maps the implementation's errors.
func vmFailure(err error) *failure {
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err.voicemail.not_found", "")
	case errors.Is(err, ErrInvalid):
		return invalidMedia(err)
	case errors.Is(err, ErrNoSpace):
		return noSpaceFailure(err)
	case errors.Is(err, ErrConflict):
		return fail(http.StatusConflict, "err.voicemail.unavailable", "")
	}
	return internal(err)
}

// invalidMedia is a media service's refusal: 400 naming the field (the
// implementation's error says which with a JSONField method) and the
// reason as the service gave it.
func invalidMedia(err error) *failure {
	var fe interface{ JSONField() string }
	field := ""
	if errors.As(err, &fe) {
		field = fe.JSONField()
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "invalid: "); i >= 0 {
		msg = msg[i+len("invalid: "):]
	}
	return &failure{status: http.StatusBadRequest, key: "err.media.invalid", field: field, args: []any{msg}, err: err}
}

// myBox checks that voicemail runs and that the user may read :box; it
// answers the failure itself. An agent is not told that others' boxes
// exist.
func (s *Server) myBox(c *gin.Context) (Voicemail, bool) {
	vm, ok := s.voicemail(c)
	if !ok {
		return nil, false
	}
	b, err := vm.Box(c.Request.Context(), c.Param("box"))
	u, _ := userOf(c)
	if err == nil && !mayOpen(u, b) {
		err = ErrNotFound
	}
	if err != nil {
		s.failWith(c, vmFailure(err))
		return nil, false
	}
	return vm, true
}

// mayOpen reports whether u may read box b: every box with
// PermRecordingsAll (the customers' voices, as recordings are), else the
// boxes u owns.
func mayOpen(u User, b VoiceBox) bool {
	return u.Can(PermRecordingsAll) || b.Owner == u.Login
}

func (s *Server) apiBoxes(c *gin.Context) {
	vm, ok := s.voicemail(c)
	if !ok {
		return
	}
	all, err := vm.Boxes(c.Request.Context())
	if err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	u, _ := userOf(c)
	boxes := []VoiceBox{}
	for _, b := range all {
		if mayOpen(u, b) {
			boxes = append(boxes, b)
		}
	}
	c.JSON(http.StatusOK, gin.H{"boxes": boxes})
}

// boxInput is a box as an administrator sends it.
type boxInput struct {
	VoiceBox
	PIN string `json:"pin,omitempty"`
}

func (s *Server) apiPutBox(c *gin.Context) {
	vm, ok := s.voicemail(c)
	if !ok {
		return
	}
	var in boxInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	in.Number = c.Param("box")
	b, err := vm.PutBox(c.Request.Context(), in.VoiceBox, in.PIN)
	if err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	c.JSON(http.StatusOK, b)
}

func (s *Server) apiDeleteBox(c *gin.Context) {
	vm, ok := s.voicemail(c)
	if !ok {
		return
	}
	if err := vm.DeleteBox(c.Request.Context(), c.Param("box")); err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiMessages(c *gin.Context) {
	vm, ok := s.myBox(c)
	if !ok {
		return
	}
	msgs, err := vm.Messages(c.Request.Context(), c.Param("box"))
	if err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	if msgs == nil {
		msgs = []VoiceMessage{}
	}
	c.JSON(http.StatusOK, gin.H{"messages": msgs})
}

func (s *Server) apiMessageAudio(c *gin.Context) {
	vm, ok := s.myBox(c)
	if !ok {
		return
	}
	f, m, err := vm.OpenMessage(c.Request.Context(), c.Param("box"), c.Param("id"))
	if err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	defer f.Close()
	name := m.Box + "-" + m.ID + ".wav"
	c.Header("Content-Disposition", fmt.Sprintf("inline; filename=%q", name))
	c.Header("Content-Type", "audio/wav")
	c.Header("Cache-Control", "private, no-store")
	http.ServeContent(c.Writer, c.Request, name, m.Received, f)
}

func (s *Server) apiSetHeard(c *gin.Context) {
	vm, ok := s.myBox(c)
	if !ok {
		return
	}
	var in struct {
		Heard bool `json:"heard"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	if err := vm.SetHeard(c.Request.Context(), c.Param("box"), c.Param("id"), in.Heard); err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiDeleteMessage(c *gin.Context) {
	vm, ok := s.myBox(c)
	if !ok {
		return
	}
	if err := vm.DeleteMessage(c.Request.Context(), c.Param("box"), c.Param("id")); err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiCallBack(c *gin.Context) {
	vm, ok := s.myBox(c)
	if !ok {
		return
	}
	var in struct {
		Extension string `json:"extension"`
	}
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	if in.Extension == "" {
		s.failWith(c, fail(http.StatusBadRequest, "err.media.invalid", "extension", "extension: the phone to ring"))
		return
	}
	if err := vm.CallBack(c.Request.Context(), c.Param("box"), c.Param("id"), in.Extension); err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	c.Status(http.StatusAccepted)
}

// maxGreetingUpload bounds a greeting's upload (a minute of 48 kHz stereo
// 16-bit is 11 MB).
const maxGreetingUpload = 12 << 20

func (s *Server) apiPutGreeting(c *gin.Context) {
	vm, ok := s.myBox(c)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxGreetingUpload+1))
	if err != nil {
		s.failWith(c, fail(http.StatusBadRequest, "err.body.invalid", ""))
		return
	}
	if len(body) > maxGreetingUpload {
		s.failWith(c, fail(http.StatusRequestEntityTooLarge, "err.body.too_large", ""))
		return
	}
	if err := vm.PutGreeting(c.Request.Context(), c.Param("box"), body); err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiDeleteGreeting(c *gin.Context) {
	vm, ok := s.myBox(c)
	if !ok {
		return
	}
	if err := vm.DeleteGreeting(c.Request.Context(), c.Param("box")); err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) apiVoicemailSettings(c *gin.Context) {
	vm, ok := s.voicemail(c)
	if !ok {
		return
	}
	set, err := vm.VoicemailSettings(c.Request.Context())
	if err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	set.PasswordSet, set.Password = set.Password != "", ""
	c.JSON(http.StatusOK, set)
}

func (s *Server) apiSetVoicemailSettings(c *gin.Context) {
	vm, ok := s.voicemail(c)
	if !ok {
		return
	}
	var in VoicemailSettings
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	if in.Password == "" {
		old, err := vm.VoicemailSettings(c.Request.Context())
		if err != nil {
			s.failWith(c, vmFailure(err))
			return
		}
		in.Password = old.Password
	}
	if err := vm.SetVoicemailSettings(c.Request.Context(), in); err != nil {
		s.failWith(c, vmFailure(err))
		return
	}
	in.PasswordSet, in.Password = in.Password != "", ""
	c.JSON(http.StatusOK, in)
}
