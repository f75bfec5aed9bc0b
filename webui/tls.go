package webui

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"callbox/webui/tlscert"
)

// tlsRoutes registers the certificate API (administrators):
//
//	GET    /api/v1/tls  -> the certificate served
//	PUT    /api/v1/tls  {"certificate": PEM chain, "key": PEM} -> installs it
//	DELETE /api/v1/tls  -> back to a certificate the box makes itself
//
// Without HTTPS they answer 503.
func (s *Server) tlsRoutes(authed *gin.RouterGroup) {
	g := authed.Group("/tls", s.need(PermSystem), s.needTLS)
	g.GET("", s.apiTLS)
	g.PUT("", s.apiTLSInstall)
	g.DELETE("", s.apiTLSReset)
}

func (s *Server) needTLS(c *gin.Context) {
	if s.certs == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.tls.unavailable", ""))
		c.Abort()
	}
}

// certView is the JSON form of tlscert.Info.
type certView struct {
	SHA256    string    `json:"sha256"`
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	DNSNames  []string  `json:"dns_names"`
	IPs       []string  `json:"ip_addresses"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SelfMade  bool      `json:"self_made"`
}

func certViewOf(in tlscert.Info) certView {
	v := certView{SHA256: in.Fingerprint, Subject: in.Subject, Issuer: in.Issuer, DNSNames: in.DNSNames,
		IPs: in.IPs, NotBefore: in.NotBefore, NotAfter: in.NotAfter, SelfMade: in.SelfMade}
	if v.DNSNames == nil {
		v.DNSNames = []string{}
	}
	if v.IPs == nil {
		v.IPs = []string{}
	}
	return v
}

func (s *Server) apiTLS(c *gin.Context) {
	c.JSON(http.StatusOK, certViewOf(s.certs.Info()))
}

type tlsInput struct {
	Certificate string `json:"certificate"`
	Key         string `json:"key"`
}

func (s *Server) apiTLSInstall(c *gin.Context) {
	var in tlsInput
	if f := decodeJSON(c, &in); f != nil {
		s.failWith(c, f)
		return
	}
	info, err := s.certs.Install([]byte(in.Certificate), []byte(in.Key))
	if err != nil {
		s.failWith(c, tlsFailure(err))
		return
	}
	u, _ := userOf(c)
	s.log.Warn("webui: TLS certificate installed", "user", u.Login, "subject", info.Subject, "sha256", info.Fingerprint)
	c.JSON(http.StatusOK, certViewOf(info))
}

func (s *Server) apiTLSReset(c *gin.Context) {
	info, err := s.certs.Reset()
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	u, _ := userOf(c)
	s.log.Warn("webui: TLS certificate reset to a self-made one", "user", u.Login, "sha256", info.Fingerprint)
	c.JSON(http.StatusOK, certViewOf(info))
}

// tlsFailure says what is wrong with an upload.
func tlsFailure(err error) *failure {
	switch {
	case errors.Is(err, tlscert.ErrKey):
		return fail(http.StatusBadRequest, "err.tls.key", "key")
	case errors.Is(err, tlscert.ErrMismatch):
		return fail(http.StatusBadRequest, "err.tls.mismatch", "key")
	case errors.Is(err, tlscert.ErrValidity):
		return &failure{status: http.StatusBadRequest, key: "err.tls.validity", field: "certificate", err: err}
	case errors.Is(err, tlscert.ErrCertificate):
		return &failure{status: http.StatusBadRequest, key: "err.tls.certificate", field: "certificate", err: err}
	}
	return internal(err)
}
