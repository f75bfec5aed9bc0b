package webui

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Prompts is the prompt catalogue served under /api/v1/prompts, given as
// Config.Prompts (without it the routes answer 503). Administrators and
// supervisors list and play prompts; administrators upload, synthesize and
// delete their own (system prompts are read-only):
//
//	GET    /api/v1/prompts?lang=zh-CN     -> {"lang", "languages", "prompts": [PromptInfo]}
//	GET    /api/v1/prompts/LANG/NAME      -> audio/wav (Range requests; ?download=1 to save it)
//	PUT    /api/v1/prompts/LANG/NAME      multipart/form-data with the WAV file in "file":
//	                                      converted to 8 kHz mono -> 201 PromptInfo
//	PUT    /api/v1/prompts/LANG/NAME      application/json {"text": "..."}: spoken by the
//	                                      speech engine -> 201 PromptInfo
//	DELETE /api/v1/prompts/LANG/NAME      -> 204 (the system prompt of that name plays again)
//
// NAME may hold '/' ("ivr/sales/menu"). Implementations wrap ErrNotFound (no
// such prompt), ErrInvalid (a refused name, language, file or text; the
// error's ReasonCode() (string, []any) words it as "reason.CODE"),
// ErrReadOnly (a system prompt), ErrNoEngine (no speech engine) or
// ErrNoSpace.
type Prompts interface {
	PromptLanguages() []string
	PromptList(ctx context.Context, lang string) ([]PromptInfo, error)
	// PromptOpen opens the audio of name in exactly lang (a WAV file).
	PromptOpen(ctx context.Context, lang, name string) (PromptFile, error)
	PromptUpload(ctx context.Context, lang, name string, file []byte, by string) (PromptInfo, error)
	PromptSynthesize(ctx context.Context, lang, name, text, by string) (PromptInfo, error)
	PromptDelete(ctx context.Context, lang, name string) error
}

// PromptInfo describes a prompt in one language.
type PromptInfo struct {
	Name string `json:"name"`
	Lang string `json:"lang"`
	// Kind is "system", "upload", "recording" or "speech".
	Kind string `json:"kind"`
	// System: a prompt the box ships (read-only); Custom: the
	// administrators' own audio is in place (replacing the system one);
	// Missing: a system prompt whose audio has not been generated.
	System  bool   `json:"system"`
	Custom  bool   `json:"custom"`
	Missing bool   `json:"missing,omitempty"`
	Text    string `json:"text,omitempty"`
	// Source is what an uploaded file held ("PCM, 44100 Hz, 2
	// channel(s), 16 bits"); By who made it.
	Source     string    `json:"source,omitempty"`
	By         string    `json:"by,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	Bytes      int64     `json:"bytes"`
	Modified   time.Time `json:"modified,omitzero"`
}

// PromptFile is an open prompt: its WAV bytes and description.
type PromptFile struct {
	io.ReadSeekCloser
	Info PromptInfo
}

// Errors a Prompts implementation wraps, besides ErrNotFound, ErrInvalid
// and ErrNoSpace.
var (
	// ErrReadOnly: the prompt is a system prompt.
	ErrReadOnly = errors.New("webui: read-only")
	// ErrNoEngine: text cannot be spoken, no speech engine is installed.
	ErrNoEngine = errors.New("webui: no speech engine")
)

// PromptUploadMax bounds an uploaded prompt file; the request may be a
// little larger for the multipart framing.
const PromptUploadMax = 20 << 20

// promptBodyLimit is the body bound of a prompt upload: PromptUploadMax
// and room for the multipart framing, for a PUT under /api/v1/prompts/
// that carries its CSRF token in the header (the CSRF check then never
// parses the body as a form); 0 for any other request, which keeps the
// small default (bodyLimit).
func promptBodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v1/prompts/") && r.Header.Get(csrfHeader) != "" {
		return PromptUploadMax + 1<<20
	}
	return 0
}

// promptRoutes registers the prompt API on the authenticated group.
func (s *Server) promptRoutes(authed *gin.RouterGroup) {
	// The permission first, so a refusal does not tell whether the box
	// has a catalogue.
	g := authed.Group("/prompts")
	g.GET("", s.need(PermCCRead), s.needPrompts, s.apiPromptList)
	g.GET("/:lang/*name", s.need(PermCCRead), s.needPrompts, s.apiPromptGet)
	g.PUT("/:lang/*name", s.need(PermCCWrite), s.needPrompts, s.apiPromptPut)
	g.DELETE("/:lang/*name", s.need(PermCCWrite), s.needPrompts, s.apiPromptDelete)
}

// needPrompts answers 503 when the firmware provides no catalogue.
func (s *Server) needPrompts(c *gin.Context) {
	if s.cfg.Prompts == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.prompt.unavailable", ""))
		c.Abort()
	}
}

// promptName returns the route's name, without the wildcard's leading '/'.
func promptName(c *gin.Context) string { return strings.TrimPrefix(c.Param("name"), "/") }

func (s *Server) apiPromptList(c *gin.Context) {
	p := s.cfg.Prompts
	langs := p.PromptLanguages()
	lang := c.Query("lang")
	if lang == "" && len(langs) > 0 {
		lang = langs[0]
	}
	list, err := p.PromptList(c.Request.Context(), lang)
	if err != nil {
		s.failWith(c, promptFailure(err))
		return
	}
	if list == nil {
		list = []PromptInfo{}
	}
	c.JSON(http.StatusOK, gin.H{"lang": lang, "languages": langs, "prompts": list})
}

func (s *Server) apiPromptGet(c *gin.Context) {
	f, err := s.cfg.Prompts.PromptOpen(c.Request.Context(), c.Param("lang"), promptName(c))
	if err != nil {
		s.failWith(c, promptFailure(err))
		return
	}
	defer f.Close()
	name := strings.ReplaceAll(f.Info.Name, "/", "-") + "." + f.Info.Lang + ".wav"
	disposition := "inline"
	if c.Query("download") != "" {
		disposition = "attachment"
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	h.Set("Content-Language", f.Info.Lang)
	http.ServeContent(c.Writer, c.Request, name, f.Info.Modified, f)
}

func (s *Server) apiPromptPut(c *gin.Context) {
	ctx, lang, name := c.Request.Context(), c.Param("lang"), promptName(c)
	u, _ := userOf(c)
	mt, _, _ := mime.ParseMediaType(c.ContentType())
	var (
		info PromptInfo
		err  error
	)
	switch mt {
	case "application/json":
		var body struct {
			Text string `json:"text"`
		}
		if f := decodeJSON(c, &body); f != nil {
			s.failWith(c, f)
			return
		}
		info, err = s.cfg.Prompts.PromptSynthesize(ctx, lang, name, body.Text, u.Login)
	case "multipart/form-data":
		file, f := readUpload(c)
		if f != nil {
			s.failWith(c, f)
			return
		}
		info, err = s.cfg.Prompts.PromptUpload(ctx, lang, name, file, u.Login)
	default:
		s.failWith(c, fail(http.StatusUnsupportedMediaType, "err.prompt.content_type", ""))
		return
	}
	if err != nil {
		s.failWith(c, promptFailure(err))
		return
	}
	c.JSON(http.StatusCreated, info)
}

// readUpload reads the "file" part of a multipart upload, streaming it
// (no temporary files) and bounded by PromptUploadMax.
func readUpload(c *gin.Context) ([]byte, *failure) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, fail(http.StatusBadRequest, "err.prompt.no_file", "file")
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, fail(http.StatusRequestEntityTooLarge, "err.prompt.too_large", "file", PromptUploadMax>>20)
			}
			return nil, fail(http.StatusBadRequest, "err.prompt.no_file", "file")
		}
		if part.FormName() != "file" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, PromptUploadMax+1))
		var mbe *http.MaxBytesError
		switch {
		case len(b) > PromptUploadMax || errors.As(err, &mbe):
			return nil, fail(http.StatusRequestEntityTooLarge, "err.prompt.too_large", "file", PromptUploadMax>>20)
		case err != nil:
			return nil, fail(http.StatusBadRequest, "err.prompt.no_file", "file")
		}
		return b, nil
	}
}

func (s *Server) apiPromptDelete(c *gin.Context) {
	if err := s.cfg.Prompts.PromptDelete(c.Request.Context(), c.Param("lang"), promptName(c)); err != nil {
		s.failWith(c, promptFailure(err))
		return
	}
	c.Status(http.StatusNoContent)
}

// promptFields maps a reason code's subject onto the request field it
// concerns.
var promptFields = map[string]string{"prompt.name": "name", "prompt.lang": "lang", "prompt.text": "text"}

// promptFailure maps an implementation's error onto the API's answer.
func promptFailure(err error) *failure {
	switch {
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err.prompt.not_found", "name")
	case errors.Is(err, ErrReadOnly):
		return fail(http.StatusConflict, "err.prompt.read_only", "name")
	case errors.Is(err, ErrNoEngine):
		return &failure{status: http.StatusServiceUnavailable, key: "err.prompt.no_speech", field: "text", err: err}
	case errors.Is(err, ErrNoSpace):
		return noSpaceFailure(err)
	case !errors.Is(err, ErrInvalid):
		return internal(err)
	}
	var rc reasonCoded
	if !errors.As(err, &rc) {
		return fail(http.StatusBadRequest, "err.invalid", "")
	}
	code, args := rc.ReasonCode()
	field, ok := promptFields[code]
	if !ok {
		field = "file"
	}
	f := fail(http.StatusBadRequest, "err.prompt.invalid", field, reasonMsg(code, args))
	f.reason = code
	return f
}
