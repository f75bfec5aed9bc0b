package webui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Outside is the box's outside interfaces (SMS, email, webhooks, the push
// to an outside database) under /api/v1/sms, /mail, /webhooks and
// /export, given as Config.Outside; nil makes those routes answer 503.
//
// Settings travel as JSON objects the implementation defines and checks;
// a secret (the SIM PIN, the SMTP and database passwords, a webhook's
// secret) is never served back: a GET shows "<field>_set": true instead,
// and a PUT that leaves it out keeps the stored one. An error wrapping
// ErrInvalid answers 400 with its text, ErrNotFound 404.
type Outside interface {
	// Settings returns the settings of part ("sms", "mail", "export").
	Settings(ctx context.Context, part string) (any, error)
	// SetSettings checks and stores part's settings and puts them in force.
	SetSettings(ctx context.Context, part string, body json.RawMessage) (any, error)
	// Status returns part's live state ("sms", "export", "webhooks").
	Status(ctx context.Context, part string) (any, error)

	// SendSMS queues messages: {"to": [numbers], "text" or "template" with
	// "vars", "at": RFC 3339 (optional)}; by is the user or token.
	SendSMS(ctx context.Context, body json.RawMessage, by string) (any, error)
	// SMSMessages lists the outbox ("out") or inbox ("in"), newest first.
	SMSMessages(ctx context.Context, box string, limit int) (any, error)
	// SMSTemplates lists the templates; PutSMSTemplate and
	// DeleteSMSTemplate edit one by name.
	SMSTemplates(ctx context.Context) (any, error)
	PutSMSTemplate(ctx context.Context, name string, body json.RawMessage) (any, error)
	DeleteSMSTemplate(ctx context.Context, name string) error

	// TestMail sends a test message to the address given.
	TestMail(ctx context.Context, to string) error

	// Webhooks lists the subscribers; PutWebhook creates (id "") or
	// changes one and returns it (with its secret on creation only);
	// DeleteWebhook removes one; Deliveries is its recent attempts.
	Webhooks(ctx context.Context) (any, error)
	PutWebhook(ctx context.Context, id string, body json.RawMessage) (any, error)
	DeleteWebhook(ctx context.Context, id string) error
	Deliveries(ctx context.Context, id string, limit int) (any, error)
}

// outsideFailure maps an implementation's error to an answer.
func outsideFailure(err error) *failure {
	switch {
	case errors.Is(err, ErrInvalid):
		return fail(http.StatusBadRequest, "err.outside.invalid", "", err.Error())
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, "err.outside.not_found", "")
	}
	return internal(err)
}

// outsideRoutes registers the outside interfaces' API:
//
//	GET  /api/v1/sms/status                    PermSMS; tokens with sms:read
//	GET  /api/v1/sms/outbox|inbox?limit=N      PermSMS; sms:read
//	POST /api/v1/sms/send                      PermSMS; sms:send
//	GET /api/v1/sms/templates                  PermSMS; sms:read
//	the rest (PermSystem):
//	GET|PUT /api/v1/sms/settings
//	PUT|DELETE /api/v1/sms/templates/:name
//	GET|PUT /api/v1/mail/settings, POST /api/v1/mail/test {"to"}
//	GET|POST /api/v1/webhooks, PUT|DELETE /api/v1/webhooks/:id, GET .../deliveries
//	GET|PUT /api/v1/export/settings, GET /api/v1/export/status
func (s *Server) outsideRoutes(authed *gin.RouterGroup) {
	sms := authed.Group("/sms", s.need(PermSMS))
	sms.GET("/status", s.outsideStatus("sms"))
	sms.GET("/outbox", s.smsList("out"))
	sms.GET("/inbox", s.smsList("in"))
	sms.POST("/send", s.outside(func(c *gin.Context, o Outside, body json.RawMessage) (any, error) {
		u, _ := userOf(c)
		return o.SendSMS(c.Request.Context(), body, u.Login)
	}))
	sms.GET("/templates", s.outside(func(c *gin.Context, o Outside, _ json.RawMessage) (any, error) {
		return o.SMSTemplates(c.Request.Context())
	}))
	admin := authed.Group("", s.need(PermSystem))
	admin.PUT("/sms/templates/:name", s.outside(func(c *gin.Context, o Outside, body json.RawMessage) (any, error) {
		return o.PutSMSTemplate(c.Request.Context(), c.Param("name"), body)
	}))
	admin.DELETE("/sms/templates/:name", s.outside(func(c *gin.Context, o Outside, _ json.RawMessage) (any, error) {
		return gin.H{"deleted": c.Param("name")}, o.DeleteSMSTemplate(c.Request.Context(), c.Param("name"))
	}))
	for _, part := range []string{"sms", "mail", "export"} {
		admin.GET("/"+part+"/settings", s.outside(func(c *gin.Context, o Outside, _ json.RawMessage) (any, error) {
			return o.Settings(c.Request.Context(), part)
		}))
		admin.PUT("/"+part+"/settings", s.outside(func(c *gin.Context, o Outside, body json.RawMessage) (any, error) {
			return o.SetSettings(c.Request.Context(), part, body)
		}))
	}
	admin.GET("/export/status", s.outsideStatus("export"))
	admin.POST("/mail/test", s.outside(func(c *gin.Context, o Outside, body json.RawMessage) (any, error) {
		var req struct {
			To string `json:"to"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.To == "" {
			return nil, invalidf("send {\"to\": \"address\"}")
		}
		if err := o.TestMail(c.Request.Context(), req.To); err != nil {
			return nil, err
		}
		return gin.H{"sent": req.To}, nil
	}))
	admin.GET("/webhooks", s.outside(func(c *gin.Context, o Outside, _ json.RawMessage) (any, error) {
		return o.Webhooks(c.Request.Context())
	}))
	admin.GET("/webhooks/status", s.outsideStatus("webhooks"))
	admin.POST("/webhooks", s.outside(func(c *gin.Context, o Outside, body json.RawMessage) (any, error) {
		return o.PutWebhook(c.Request.Context(), "", body)
	}))
	admin.PUT("/webhooks/:id", s.outside(func(c *gin.Context, o Outside, body json.RawMessage) (any, error) {
		return o.PutWebhook(c.Request.Context(), c.Param("id"), body)
	}))
	admin.DELETE("/webhooks/:id", s.outside(func(c *gin.Context, o Outside, _ json.RawMessage) (any, error) {
		return gin.H{"deleted": c.Param("id")}, o.DeleteWebhook(c.Request.Context(), c.Param("id"))
	}))
	admin.GET("/webhooks/:id/deliveries", s.outside(func(c *gin.Context, o Outside, _ json.RawMessage) (any, error) {
		return o.Deliveries(c.Request.Context(), c.Param("id"), limitOf(c))
	}))
}

// invalidError is a refusal the handlers make themselves.
type invalidError string

func (e invalidError) Error() string { return string(e) }
func (e invalidError) Unwrap() error { return ErrInvalid }

func invalidf(s string) error { return invalidError(s) }

func limitOf(c *gin.Context) int {
	n, err := strconv.Atoi(c.Query("limit"))
	if err != nil || n < 1 || n > 1000 {
		return 100
	}
	return n
}

// outside wraps a handler: 503 without Outside, the body read (64 KiB at
// most), the answer or the error mapped.
func (s *Server) outside(h func(c *gin.Context, o Outside, body json.RawMessage) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		o := s.cfg.Outside
		if o == nil {
			s.failWith(c, fail(http.StatusServiceUnavailable, "err.outside.unavailable", ""))
			return
		}
		var body json.RawMessage
		if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodDelete {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10)
			if f := decodeJSON(c, &body); f != nil {
				s.failWith(c, f)
				return
			}
		}
		v, err := h(c, o, body)
		if err != nil {
			s.failWith(c, outsideFailure(err))
			return
		}
		status := http.StatusOK
		if c.Request.Method == http.MethodPost && c.FullPath() != "/api/v1/mail/test" {
			status = http.StatusCreated
		}
		c.JSON(status, v)
	}
}

func (s *Server) outsideStatus(part string) gin.HandlerFunc {
	return s.outside(func(c *gin.Context, o Outside, _ json.RawMessage) (any, error) {
		return o.Status(c.Request.Context(), part)
	})
}

func (s *Server) smsList(box string) gin.HandlerFunc {
	return s.outside(func(c *gin.Context, o Outside, _ json.RawMessage) (any, error) {
		return o.SMSMessages(c.Request.Context(), box, limitOf(c))
	})
}
