package webui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"callbox/webui/internal/htmlpage"
)

// The IVR flow editor (issue 11, call-centre admin): the flows and their
// versions; a flow drawn as a graph (server-rendered SVG: nodes and
// branches) beside its JSON; saving the edited JSON validates it (the
// validator's errors name the nodes, which the graph marks) and makes a
// new version, which new calls follow. It runs over CallCentre's flow
// methods, the same as /api/v1/flows.
//
//	GET  /flows              the list, and a form for a new flow
//	POST /flows              create a flow from JSON (its id in it)
//	GET  /flows/:id          the latest version (?version=N an older one)
//	POST /flows/:id          save the JSON as the next version
func (s *Server) flowPages(e *gin.Engine) {
	g := e.Group("/flows", s.requireUser(false), s.need(PermCCRead), s.needFlows)
	g.GET("", s.pageFlows)
	g.POST("", s.need(PermCCWrite), s.postFlow(true))
	g.GET("/:id", s.pageFlow)
	g.POST("/:id", s.need(PermCCWrite), s.postFlow(false))
}

func (s *Server) needFlows(c *gin.Context) {
	if s.cfg.CallCentre == nil {
		s.failWith(c, fail(http.StatusServiceUnavailable, "err.cc.unavailable", ""))
		c.Abort()
	}
}

func (s *Server) pageFlows(c *gin.Context) {
	s.renderFlows(c, http.StatusOK, gin.H{})
}

func (s *Server) renderFlows(c *gin.Context, status int, d gin.H) {
	list, err := s.cfg.CallCentre.FlowList(c.Request.Context())
	if err != nil {
		s.failWith(c, internal(err))
		return
	}
	u, _ := userOf(c)
	d["Flows"], d["CanWrite"] = list, u.Can(PermCCWrite)
	if _, ok := d["JSON"]; !ok {
		d["JSON"] = `{"id": "", "name": "", "entry": "start", "nodes": [
  {"id": "start", "type": "hangup"}
]}`
	}
	s.render(c, status, "flows", d)
}

// pageFlow shows one version of a flow: its versions, the graph and the
// JSON.
func (s *Server) pageFlow(c *gin.Context) {
	id := c.Param("id")
	version := 0
	if v := c.Query("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.failWith(c, fail(http.StatusNotFound, "err.cc.not_found", "version"))
			return
		}
		version = n
	}
	raw, err := s.cfg.CallCentre.FlowGet(c.Request.Context(), id, version)
	if err != nil {
		s.failWith(c, s.configFailure("cc", "id", err))
		return
	}
	d := gin.H{"JSON": prettyJSON(raw)}
	if c.Query("saved") != "" {
		d["Notice"] = s.cat.T(langOf(c), "flows.saved", c.Query("saved"))
	}
	s.renderFlow(c, http.StatusOK, id, raw, nil, d)
}

// renderFlow draws the flow page for raw (the stored or the edited JSON),
// marking the nodes bad names.
func (s *Server) renderFlow(c *gin.Context, status int, id string, raw []byte, bad []string, d gin.H) {
	versions, err := s.cfg.CallCentre.FlowVersions(c.Request.Context(), id)
	if err != nil {
		s.failWith(c, s.configFailure("cc", "id", err))
		return
	}
	u, _ := userOf(c)
	g, err := parseFlowGraph(raw)
	if err == nil {
		d["Graph"] = htmlpage.HTML(g.svg(bad)) // every text in it escaped
		d["Version"] = g.Version
	}
	d["ID"], d["Versions"], d["CanWrite"], d["Bad"] = id, versions, u.Can(PermCCWrite), bad
	s.render(c, status, "flow", d)
}

// postFlow saves the edited JSON: a new flow (create) or the next version
// of :id. A refusal shows the validator's words and marks the nodes they
// name; nothing is saved then.
func (s *Server) postFlow(create bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		text := c.PostForm("json")
		id := c.Param("id")
		var body map[string]json.RawMessage
		f := (*failure)(nil)
		if len(text) > maxDocumentBytes {
			f = fail(http.StatusRequestEntityTooLarge, "err.body.too_large", "json")
		} else if err := json.Unmarshal([]byte(text), &body); err != nil {
			f = fail(http.StatusBadRequest, "err.flows.json", "json", err.Error())
		} else {
			var bodyID string
			_ = json.Unmarshal(body["id"], &bodyID)
			switch {
			case create && bodyID == "":
				f = fail(http.StatusBadRequest, "err.flows.id", "id")
			case create:
				id = bodyID
				if _, err := s.cfg.CallCentre.FlowVersions(c.Request.Context(), id); err == nil {
					f = fail(http.StatusConflict, "err.flows.exists", "id")
				}
			case bodyID != "" && bodyID != id:
				f = fail(http.StatusBadRequest, "err.pbx.key_immutable", "id")
			}
		}
		var bad []string
		if f == nil {
			stored, _, err := s.cfg.CallCentre.FlowSave(c.Request.Context(), id, json.RawMessage(text))
			if err == nil {
				var v struct {
					Version int `json:"version"`
				}
				_ = json.Unmarshal(stored, &v)
				c.Redirect(http.StatusSeeOther, "/flows/"+url.PathEscape(id)+"?saved="+strconv.Itoa(v.Version))
				return
			}
			f = s.configFailure("cc", "id", err)
			bad = flowErrorNodes(err)
		}
		d := gin.H{"JSON": text, "Error": s.failText(c, f), "Field": f.field}
		if create {
			s.renderFlows(c, f.status, d)
			return
		}
		s.renderFlow(c, f.status, id, []byte(text), bad, d)
	}
}

// flowErrorNodes lists the nodes a refused flow's errors name: the
// configuration's reasons "cc.flow.invalid" (node, field, why), however
// they are joined or wrapped.
func flowErrorNodes(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
			return
		case reasonCoded:
			if code, args := u.ReasonCode(); code == "cc.flow.invalid" && len(args) > 0 {
				if id, ok := args[0].(string); ok && !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
		}
		if x := errors.Unwrap(e); x != nil {
			walk(x)
		}
	}
	walk(err)
	return out
}

func prettyJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// flowGraph is a flow as the editor draws it: nodes and the branches
// between them, read from the JSON without the IVR's types (webui keeps to
// its side of the layering): a branch is a field the IVR's node types
// continue through.
type flowGraph struct {
	Entry   string
	Error   string
	Version int
	Nodes   []flowNode
	Edges   []flowEdge
}

type flowNode struct {
	ID, Type string
}

type flowEdge struct {
	From, To, Label string
	// OnError marks the run-time failure branch (drawn dashed).
	OnError bool
}

// branchFields are the node fields that name the next node; branchMaps
// are those that map keys or values to nodes.
var (
	branchFields = []string{"next", "fallback", "fail", "open", "closed", "holiday", "default", "overflow"}
	branchMaps   = []string{"options", "cases"}
)

func parseFlowGraph(raw []byte) (*flowGraph, error) {
	var doc struct {
		Entry   string                       `json:"entry"`
		Error   string                       `json:"error"`
		Version int                          `json:"version"`
		Nodes   []map[string]json.RawMessage `json:"nodes"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("webui: flow: %w", err)
	}
	g := &flowGraph{Entry: doc.Entry, Error: doc.Error, Version: doc.Version}
	str := func(m map[string]json.RawMessage, k string) string {
		var v string
		_ = json.Unmarshal(m[k], &v)
		return v
	}
	for _, n := range doc.Nodes {
		from := str(n, "id")
		g.Nodes = append(g.Nodes, flowNode{ID: from, Type: str(n, "type")})
		for _, f := range branchFields {
			if to := str(n, f); to != "" {
				g.Edges = append(g.Edges, flowEdge{From: from, To: to, Label: f})
			}
		}
		for _, f := range branchMaps {
			var m map[string]string
			if json.Unmarshal(n[f], &m) != nil {
				continue
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				g.Edges = append(g.Edges, flowEdge{From: from, To: m[k], Label: k})
			}
		}
		if to := str(n, "error"); to != "" {
			g.Edges = append(g.Edges, flowEdge{From: from, To: to, Label: "error", OnError: true})
		}
	}
	return g, nil
}

// layers places the nodes in rows by their distance from the entry
// (breadth first); nodes the entry does not reach go in a last row.
func (g *flowGraph) layers() [][]string {
	depth := map[string]int{}
	if slices.ContainsFunc(g.Nodes, func(n flowNode) bool { return n.ID == g.Entry }) {
		depth[g.Entry] = 0
		queue := []string{g.Entry}
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			for _, e := range g.Edges {
				if _, seen := depth[e.To]; e.From == id && !seen && slices.ContainsFunc(g.Nodes, func(n flowNode) bool { return n.ID == e.To }) {
					depth[e.To] = depth[id] + 1
					queue = append(queue, e.To)
				}
			}
		}
	}
	var rows [][]string
	var lost []string
	for _, n := range g.Nodes {
		d, ok := depth[n.ID]
		if !ok {
			lost = append(lost, n.ID)
			continue
		}
		for len(rows) <= d {
			rows = append(rows, nil)
		}
		rows[d] = append(rows[d], n.ID)
	}
	if len(lost) > 0 {
		rows = append(rows, lost)
	}
	return rows
}

// mergedEdges joins the branches between the same two nodes into one
// arrow naming them all ("closed, holiday"), so labels do not overlap.
func (g *flowGraph) mergedEdges() []flowEdge {
	var out []flowEdge
	for _, e := range g.Edges {
		i := slices.IndexFunc(out, func(o flowEdge) bool { return o.From == e.From && o.To == e.To })
		if i < 0 {
			out = append(out, e)
			continue
		}
		out[i].Label += ", " + e.Label
		out[i].OnError = out[i].OnError && e.OnError
	}
	return out
}

// svg draws the graph: a box per node (id and type; the entry bold, nodes
// in bad red), an arrow per branch with its field or key.
func (g *flowGraph) svg(bad []string) string {
	const boxW, boxH, gapX, gapY, pad = 150.0, 40.0, 30.0, 56.0, 20.0
	rows := g.layers()
	widest := 1
	for _, r := range rows {
		widest = max(widest, len(r))
	}
	// Room on the right for the branches that go back up.
	w := pad*2 + float64(widest)*boxW + float64(widest-1)*gapX + 70
	h := pad*2 + float64(len(rows))*boxH + float64(max(len(rows)-1, 0))*gapY
	type pos struct{ x, y float64 }
	at := map[string]pos{}
	for ri, r := range rows {
		rowW := float64(len(r))*boxW + float64(len(r)-1)*gapX
		x0 := (w - 70 - rowW) / 2
		for i, id := range r {
			at[id] = pos{x0 + float64(i)*(boxW+gapX), pad + float64(ri)*(boxH+gapY)}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" class="flow-graph" role="img">`, w, h, w)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>`)
	for _, e := range g.mergedEdges() {
		a, okA := at[e.From]
		z, okZ := at[e.To]
		if !okA || !okZ {
			continue // a branch to no node: the validator says so
		}
		x1, y1 := a.x+boxW/2, a.y+boxH
		x2, y2 := z.x+boxW/2, z.y
		path := fmt.Sprintf("M%.1f,%.1f L%.1f,%.1f", x1, y1, x2, y2)
		lx, ly, anchor := (x1+x2)/2+4, (y1+y2)/2, "middle"
		switch {
		case z.y == a.y && e.From != e.To: // along the row: side to side
			y1, y2 = a.y+boxH/2, z.y+boxH/2
			x1, x2 = a.x+boxW, z.x
			if z.x < a.x {
				x1, x2 = a.x, z.x+boxW
			}
			path = fmt.Sprintf("M%.1f,%.1f L%.1f,%.1f", x1, y1, x2, y2)
			lx, ly = (x1+x2)/2, y1-4
		case z.y <= a.y: // back up (or to itself): round the right of the boxes
			x1, y1 = a.x+boxW, a.y+boxH/2
			x2, y2 = z.x+boxW, z.y+boxH/2
			cx := max(x1, x2) + gapX + 10
			if e.From == e.To {
				y1, y2 = a.y+boxH*0.3, a.y+boxH*0.7
			}
			path = fmt.Sprintf("M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f", x1, y1, cx, y1, cx, y2, x2, y2)
			lx, ly, anchor = cx-4, (y1+y2)/2, "start"
		}
		dash := ""
		if e.OnError {
			dash = ` stroke-dasharray="4 3"`
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="#555"%s marker-end="url(#arrow)"/>`, path, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="%s" class="edge-label">%s</text>`, lx, ly, anchor, html.EscapeString(e.Label))
	}
	for _, n := range g.Nodes {
		p, ok := at[n.ID]
		if !ok {
			continue
		}
		fill, stroke, cls := "#f3f6fb", "#4b5563", "node"
		if slices.Contains(bad, n.ID) {
			fill, stroke, cls = "#fde8e8", "#dc2626", "node bad"
		}
		width := "1"
		if n.ID == g.Entry {
			width = "2.5"
		}
		fmt.Fprintf(&b, `<g class="%s" data-node="%s"><rect x="%.1f" y="%.1f" width="%g" height="%g" rx="6" fill="%s" stroke="%s" stroke-width="%s"/>`,
			cls, html.EscapeString(n.ID), p.x, p.y, boxW, boxH, fill, stroke, width)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="13" font-weight="bold" text-anchor="middle">%s</text>`, p.x+boxW/2, p.y+17, html.EscapeString(clip(n.ID, 20)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#555">%s</text></g>`, p.x+boxW/2, p.y+32, html.EscapeString(n.Type))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
