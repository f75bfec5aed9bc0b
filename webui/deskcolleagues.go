package webui

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"callbox/telephony/crm/pinyin"
)

// maxColleagueQuery bounds the colleague search's text; maxColleagues the
// list it shows.
const (
	maxColleagueQuery = 32
	maxColleagues     = 20
)

// colleagueView is the colleague search's answer (desk.html's
// "desk-colleagues").
type colleagueView struct {
	Q       string
	Found   []Colleague
	More    bool
	Problem string
}

// deskColleagues answers GET /desk/colleagues?q=: the agents whose work
// number, name, name in pinyin or its initials match q, idle ones first,
// each with its live state; the desk fetches it as the agent types and
// again when a colleague's state changes.
func (s *Server) deskColleagues(c *gin.Context) {
	u, _ := userOf(c)
	v := colleagueView{Q: strings.TrimSpace(c.Query("q"))}
	if utf8.RuneCountInString(v.Q) > maxColleagueQuery {
		v.Q = string([]rune(v.Q)[:maxColleagueQuery])
	}
	status := http.StatusOK
	switch all, err := s.colleagues(c); {
	case err != nil:
		if !errors.Is(err, ErrDeskUnavailable) {
			s.log.Error("webui: desk colleagues", "err", err)
		}
		v.Problem, status = "desk.unavailable", http.StatusServiceUnavailable
	default:
		for _, col := range all {
			if col.Agent != u.Agent && colleagueMatches(col, v.Q) {
				v.Found = append(v.Found, col)
			}
		}
		// Who can take a call now first, then by work number.
		slices.SortStableFunc(v.Found, func(a, b Colleague) int {
			ai, bi := a.State == DeskReady, b.State == DeskReady
			switch {
			case ai && !bi:
				return -1
			case bi && !ai:
				return 1
			}
			return strings.Compare(a.Agent, b.Agent)
		})
		if len(v.Found) > maxColleagues {
			v.Found, v.More = v.Found[:maxColleagues], true
		}
	}
	s.renderPart(c, status, "desk", "desk-colleagues", gin.H{"Colleagues": v})
}

func (s *Server) colleagues(c *gin.Context) ([]Colleague, error) {
	if s.cfg.Desk == nil {
		return nil, ErrDeskUnavailable
	}
	return s.cfg.Desk.Colleagues(c.Request.Context())
}

// colleagueMatches: q ("" matches everyone) is in the work number, the
// name, or starts the name's pinyin, its initials or a group's name.
func colleagueMatches(col Colleague, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	if strings.Contains(col.Agent, q) || strings.Contains(strings.ToLower(col.Name), q) {
		return true
	}
	plain := strings.ReplaceAll(q, " ", "")
	sp := pinyin.Name(col.Name)
	if strings.HasPrefix(strings.ToLower(sp.Full), plain) || strings.HasPrefix(strings.ToLower(sp.Initials), plain) {
		return true
	}
	return slices.ContainsFunc(col.Groups, func(g string) bool { return strings.Contains(strings.ToLower(g), q) })
}
