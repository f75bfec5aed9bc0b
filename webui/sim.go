package webui

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Sim runs the simulated box's by-hand commands (what `callboxctl sim`
// runs: lift, dial, answer and hang up the virtual phones, ring the box
// from the virtual exchange) for the /sim page. The daemon gives one only
// when the board is simulated.
type Sim interface {
	// Ports lists the simulated ports ("fxs1", ..., "fxo1", ...).
	Ports() []string
	// Run runs one command, its arguments as after "sim" ("fxs1",
	// "dial", "202"), and returns what it printed and its exit status.
	Run(ctx context.Context, args []string) (out, errOut string, code int)
}

// HasSim reports whether the page may link to /sim (the board is
// simulated; the caller checks the viewer is an administrator).
func (p *pageData) HasSim() bool { return p.s.cfg.Sim != nil }

// simTimeout bounds one command of the page: answer waits for a ring,
// listen for its --for.
const simTimeout = 60 * time.Second

// simRoutes serves /sim to administrators when the board is simulated.
func (s *Server) simRoutes(e *gin.Engine) {
	if s.cfg.Sim == nil {
		return
	}
	g := e.Group("/sim", s.requireUser(false), s.need(PermSystem))
	g.GET("", s.pageSim)
	g.POST("", s.postSim)
}

func (s *Server) pageSim(c *gin.Context) { s.renderSim(c, "", "", "", 0, false) }

// postSim runs the command of the form: a port and what to do there.
func (s *Server) postSim(c *gin.Context) {
	port := strings.TrimSpace(c.PostForm("port"))
	command := strings.TrimSpace(c.PostForm("command"))
	args := strings.Fields(command)
	if port == "" || len(args) == 0 || len(command) > 200 {
		c.Status(http.StatusBadRequest)
		s.renderSim(c, port, command, "", 2, true)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), simTimeout)
	defer cancel()
	out, errOut, code := s.cfg.Sim.Run(ctx, append([]string{port}, args...))
	s.renderSim(c, port, command, out+errOut, code, true)
}

// renderSim shows every port's state, the form, and the last command's
// output.
func (s *Server) renderSim(c *gin.Context, port, command, output string, code int, ran bool) {
	status, _, _ := s.cfg.Sim.Run(c.Request.Context(), []string{"status"})
	httpStatus := http.StatusOK
	if ran && code == 2 {
		httpStatus = http.StatusBadRequest
	}
	s.render(c, httpStatus, "sim", gin.H{
		"Ports": s.cfg.Sim.Ports(), "Port": port, "Command": command,
		"Ran": ran, "Output": output, "Failed": code != 0, "Status": status,
	})
}
