package webui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Object pages: every kind of configuration object (extensions, trunks,
// routes, and the call centre's) has a list page and a form, described by
// a formKind. The browser posts an ordinary form; the server turns it into
// the API's JSON object by the form's fields and goes through the same
// code as the API, so the same checks, permissions and translated reasons
// apply; a refusal renders the form again with the message beside the
// field the API named, and nothing is saved. The pages work without
// JavaScript; forms.js only hides the fields that do not apply to the
// chosen kind.

// Field types of a form.
const (
	ftText   = "text"   // a string
	ftNumber = "number" // an integer
	ftCheck  = "check"  // a boolean
	ftSelect = "select" // one of Options
	ftMulti  = "multi"  // several of Options, a list
	ftLines  = "lines"  // a list, one item a line (or comma-separated)
	ftPairs  = "pairs"  // an object of strings, one "key=value" a line
	ftSecret = "secret" // a password: left empty, the stored one stays
	// ftMembers is a list of {"group": id, "skill": n}: a box and a
	// skill level per group (an agent's groups).
	ftMembers = "members"
)

// option is a choice of a select, multi or members field; an empty Label
// is worded from the catalogue ("opt.LEAF.VALUE") or is the value.
type option struct{ Value, Label string }

// opts makes options of bare values.
func opts(values ...string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v}
	}
	return out
}

// formField is one field of an object form.
type formField struct {
	// Name is the field's JSON path in the object ("forward.busy").
	Name string
	Type string
	// Options are the values of a select or multi field; Dynamic, when
	// set, gives them at render time (the trunks a route may use).
	Options []option
	Dynamic func(c *gin.Context, s *Server) []option
	// Ints makes a lines field a list of integers (group ids).
	Ints bool
	// Default is the value of a new object's field ("true" checks a box).
	Default string
	// Also lists the names the API's errors give for parts of this field
	// (the "skill" of an agent's groups): the refusal goes beside it.
	Also []string
	// Required fields must not be empty.
	Required bool
	// Max bounds the length of a text (the input's maxlength).
	Max int
	// When shows the field only when another field has one of some
	// values ("kind=sip", "kind=sip|fxo"); otherwise it is left out of
	// the object.
	When string
	// Generate offers a "generate a strong secret" box beside a secret.
	Generate bool
	// KeyField marks the object's key: fixed once created.
	KeyField bool
}

// leaf is the last part of the field's path, which the API's errors name.
func (f formField) leaf() string { return f.Name[strings.LastIndexByte(f.Name, '.')+1:] }

// column is one column of a list page.
type column struct {
	Field string // JSON path
	Label string // catalogue key; "" for field.LEAF
}

// objectStore is what an object page reads and writes through: the same
// functions the API's handlers use.
type objectStore interface {
	list(c *gin.Context) ([]pbxObject, *failure)
	get(c *gin.Context, key string) (pbxObject, *failure)
	// create and update return the object as stored and a secret made
	// on the box for it, to show this once.
	create(c *gin.Context, o pbxObject) (pbxObject, string, *failure)
	update(c *gin.Context, key string, o pbxObject) (pbxObject, string, *failure)
	delete(c *gin.Context, key string) *failure
}

// formKind describes the pages of one kind of object.
type formKind struct {
	Kind   string // URL path and API kind: "extensions"
	Key    string // the key field: "number"
	Object string // the object's catalogue noun: "extension" for object.extension
	Nav    string // catalogue key of the page title: "nav.extensions"
	Read   Permission
	Write  Permission
	// Intro is a catalogue key for the text above the list, if any.
	Intro   string
	Columns []column
	Fields  []formField
	store   func(s *Server) objectStore
	// available reports whether the box provides this kind; false
	// answers 503 with Unavailable.
	available   func(s *Server) bool
	Unavailable string
}

// formValues are a form's values by field name, as the browser sends them.
type formValues map[string][]string

func (v formValues) first(name string) string {
	if len(v[name]) == 0 {
		return ""
	}
	return v[name][0]
}

// formRoutes registers the pages of every form kind.
func (s *Server) formRoutes(e *gin.Engine, kinds []*formKind) {
	for _, fk := range kinds {
		g := e.Group("/"+fk.Kind, s.requireUser(false), s.need(fk.Read), s.needKind(fk))
		g.GET("", s.pageObjects(fk))
		g.GET("/new", s.need(fk.Write), s.pageObjectNew(fk))
		g.POST("", s.need(fk.Write), s.postObjectCreate(fk))
		g.GET("/:key", s.pageObject(fk))
		g.POST("/:key", s.need(fk.Write), s.postObjectUpdate(fk))
		g.POST("/:key/delete", s.need(fk.Write), s.postObjectDelete(fk))
	}
}

func (s *Server) needKind(fk *formKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !fk.available(s) {
			s.failWith(c, fail(http.StatusServiceUnavailable, fk.Unavailable, ""))
			c.Abort()
		}
	}
}

var objectMessages = map[string]string{"created": "obj.msg.created", "saved": "obj.msg.saved", "deleted": "obj.msg.deleted"}

func (s *Server) pageObjects(fk *formKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		d := gin.H{}
		if k, ok := objectMessages[c.Query("msg")]; ok {
			d["Notice"] = s.cat.T(langOf(c), k, c.Query("key"))
		}
		s.renderObjects(c, http.StatusOK, fk, d)
	}
}

// rowView is one object in a list.
type rowView struct {
	Key     string
	Href    string
	Cells   []string
	Warning string
}

func (s *Server) renderObjects(c *gin.Context, status int, fk *formKind, d gin.H) {
	objs, f := fk.store(s).list(c)
	if f != nil {
		s.failWith(c, f)
		return
	}
	lang := langOf(c)
	rows := make([]rowView, 0, len(objs))
	for _, o := range objs {
		d := decodeObject(o)
		key := d.first(fk.Key)
		r := rowView{Key: key, Href: "/" + fk.Kind + "/" + url.PathEscape(key)}
		for _, col := range fk.Columns {
			r.Cells = append(r.Cells, s.cellText(lang, col.Field, d.texts(col.Field)))
		}
		if w, ok := o[fieldSecretWarning]; ok {
			var sw struct{ Message string }
			if json.Unmarshal(w, &sw) == nil {
				r.Warning = sw.Message
			}
		}
		rows = append(rows, r)
	}
	var heads []string
	for _, col := range fk.Columns {
		heads = append(heads, s.columnLabel(lang, col))
	}
	d["Kind"], d["Rows"], d["Heads"] = fk, rows, heads
	u, _ := userOf(c)
	d["CanWrite"] = u.Can(fk.Write)
	s.render(c, status, "objects", d)
}

func (s *Server) columnLabel(lang string, col column) string {
	if col.Label != "" {
		return s.cat.T(lang, col.Label)
	}
	return s.leafLabel(lang, col.Field[strings.LastIndexByte(col.Field, '.')+1:])
}

// leafLabel is the label of a field by its last name: "label.LEAF" (the
// words of a form), else "field.LEAF" (the words of the API's errors).
func (s *Server) leafLabel(lang, leaf string) string {
	if k := "label." + leaf; s.cat.Has(k) {
		return s.cat.T(lang, k)
	}
	return s.cat.T(lang, "field."+leaf)
}

// cellText shows a value in a list: booleans as yes or no, option values
// by their labels, lists joined.
func (s *Server) cellText(lang, field string, vals []string) string {
	leaf := field[strings.LastIndexByte(field, '.')+1:]
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		switch v {
		case "true":
			v = s.cat.T(lang, "obj.yes")
		case "false":
			v = ""
		default:
			v = s.optionLabel(lang, leaf, v)
		}
		if v != "" {
			out = append(out, v)
		}
	}
	return strings.Join(out, ", ")
}

// optionLabel is an option's label: "opt.LEAF.VALUE" when the catalogues
// have it, the value itself otherwise (codec names, trunk names).
func (s *Server) optionLabel(lang, leaf, value string) string {
	if k := "opt." + leaf + "." + value; s.cat.Has(k) {
		return s.cat.T(lang, k)
	}
	return value
}

func (s *Server) pageObjectNew(fk *formKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		s.renderObject(c, http.StatusOK, fk, "", formValues{}, nil)
	}
}

func (s *Server) pageObject(fk *formKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		o, f := fk.store(s).get(c, c.Param("key"))
		if f != nil {
			s.failWith(c, f)
			return
		}
		s.renderObject(c, http.StatusOK, fk, c.Param("key"), fk.values(decodeObject(o)), nil)
	}
}

func (s *Server) postObjectCreate(fk *formKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		vals := formValues(c.Request.PostForm)
		o, f := fk.decode(vals, false)
		var stored pbxObject
		var generated string
		if f == nil {
			stored, generated, f = fk.store(s).create(c, o)
		}
		s.afterObjectSave(c, fk, "", vals, stored, generated, f, "created")
	}
}

func (s *Server) postObjectUpdate(fk *formKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.Param("key")
		vals := formValues(c.Request.PostForm)
		o, f := fk.decode(vals, true)
		var stored pbxObject
		var generated string
		if f == nil {
			var old pbxObject
			if old, f = fk.store(s).get(c, key); f == nil {
				stored, generated, f = fk.store(s).update(c, key, fk.merge(old, o))
			}
		}
		s.afterObjectSave(c, fk, key, vals, stored, generated, f, "saved")
	}
}

// afterObjectSave goes back to the list, or shows the form again with the
// refusal beside its field. A secret generated on the box is shown once,
// on the list page itself rather than through a redirect's URL.
func (s *Server) afterObjectSave(c *gin.Context, fk *formKind, key string, vals formValues, stored pbxObject, generated string, f *failure, msgKey string) {
	if f != nil {
		if f.status >= 500 || f.status == http.StatusNotFound {
			s.failWith(c, f)
			return
		}
		s.renderObject(c, f.status, fk, key, vals, f)
		return
	}
	savedKey := decodeObject(stored).first(fk.Key)
	if generated != "" {
		lang := langOf(c)
		s.renderObjects(c, http.StatusOK, fk, gin.H{
			"Notice": s.cat.T(lang, objectMessages[msgKey], savedKey),
			"Secret": generated, "SecretFor": savedKey,
		})
		return
	}
	c.Redirect(http.StatusSeeOther, "/"+fk.Kind+"?msg="+msgKey+"&key="+url.QueryEscape(savedKey))
}

func (s *Server) postObjectDelete(fk *formKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.Param("key")
		if f := fk.store(s).delete(c, key); f != nil {
			if f.status >= 500 || f.status == http.StatusNotFound {
				s.failWith(c, f)
				return
			}
			s.renderObjects(c, f.status, fk, gin.H{"Error": s.failText(c, f)})
			return
		}
		c.Redirect(http.StatusSeeOther, "/"+fk.Kind+"?msg=deleted&key="+url.QueryEscape(key))
	}
}

// fieldView is one field as the form template draws it.
type fieldView struct {
	formField
	ID, Label, Hint string
	Value           string
	Checked         bool
	Options         []optView
	Error           string
	Locked          bool // the key of an existing object
	WhenField       string
	WhenValues      string
}

type optView struct {
	Value, Label string
	Selected     bool
	Skill        string // a members field's skill level
}

// indexRe matches the list indexes of a JSON path ("groups[0].skill").
var indexRe = regexp.MustCompile(`\[[0-9]+\]`)

// renderObject draws the form of fk for the object key ("" for a new one)
// with vals, and f's message beside its field.
func (s *Server) renderObject(c *gin.Context, status int, fk *formKind, key string, vals formValues, f *failure) {
	lang := langOf(c)
	var fields []fieldView
	for _, ff := range fk.Fields {
		fv := fieldView{formField: ff, ID: "f-" + strings.ReplaceAll(ff.Name, ".", "-"), Label: s.fieldLabel(lang, fk, ff)}
		if k := "hint." + fk.Object + "." + ff.Name; s.cat.Has(k) {
			fv.Hint = s.cat.T(lang, k)
		}
		fv.WhenField, fv.WhenValues, _ = strings.Cut(ff.When, "=")
		fv.Locked = ff.KeyField && key != ""
		if fv.Locked {
			vals[ff.Name] = []string{key}
		}
		if _, posted := vals[ff.Name]; !posted && key == "" && f == nil && ff.Default != "" {
			vals[ff.Name] = []string{ff.Default}
		}
		switch ff.Type {
		case ftCheck:
			fv.Checked = vals.first(ff.Name) == "true" || vals.first(ff.Name) == "on"
		case ftLines, ftPairs:
			fv.Value = strings.Join(vals[ff.Name], "\n")
		case ftSecret:
			// The stored secret never comes back to the page.
		default:
			fv.Value = vals.first(ff.Name)
		}
		choices := ff.Options
		if ff.Dynamic != nil {
			choices = ff.Dynamic(c, s)
		}
		if ff.Type == ftMulti {
			// The chosen ones first, in their order (a codec preference),
			// so saving the form keeps it.
			var first, rest []option
			for _, v := range vals[ff.Name] {
				if i := slices.IndexFunc(choices, func(o option) bool { return o.Value == v }); i >= 0 {
					first = append(first, choices[i])
				}
			}
			for _, o := range choices {
				if !slices.Contains(vals[ff.Name], o.Value) {
					rest = append(rest, o)
				}
			}
			choices = append(first, rest...)
		}
		skills := map[string]string{}
		if ff.Type == ftMembers {
			for _, m := range vals[ff.Name] {
				g, skill, _ := strings.Cut(m, "=")
				skills[g] = skill
			}
		}
		for _, o := range choices {
			label := o.Label
			if label == "" {
				label = s.optionLabel(lang, ff.leaf(), o.Value)
			}
			ov := optView{Value: o.Value, Label: label, Selected: slices.Contains(vals[ff.Name], o.Value)}
			if ff.Type == ftMembers {
				ov.Skill, ov.Selected = skills[o.Value], skills[o.Value] != ""
			}
			fv.Options = append(fv.Options, ov)
		}
		if ff.Type == ftSelect && fv.Value != "" && !slices.ContainsFunc(fv.Options, func(o optView) bool { return o.Selected }) {
			// What the object names is gone (a deleted flow or music):
			// kept and shown as missing, not silently replaced by the
			// first choice on the next save.
			fv.Options = append(fv.Options, optView{Value: fv.Value, Label: s.cat.T(lang, "obj.missing_option", fv.Value), Selected: true})
		}
		fields = append(fields, fv)
	}
	placed := false
	if f != nil && f.field != "" {
		// The field the API named: "groups[0].skill" is the groups
		// field, "busy" the forward.busy one.
		at := indexRe.ReplaceAllString(f.field, "")
		for _, byLeaf := range []bool{false, true} {
			for i := range fields {
				ff := fields[i].formField
				if !placed && (!byLeaf && (at == ff.Name || strings.HasPrefix(at, ff.Name+".")) ||
					byLeaf && (at == ff.leaf() || slices.Contains(ff.Also, at))) {
					fields[i].Error, placed = s.failText(c, f), true
				}
			}
		}
	}
	d := gin.H{"Kind": fk, "Key": key, "Fields": fields}
	if f != nil && !placed {
		d["Error"] = s.failText(c, f)
	} else if f != nil {
		d["Invalid"] = true
	}
	u, _ := userOf(c)
	d["CanWrite"] = u.Can(fk.Write)
	s.render(c, status, "object", d)
}

// fieldLabel is a field's label: "label.OBJECT.NAME" for one this kind
// words its own way, else its leaf's.
func (s *Server) fieldLabel(lang string, fk *formKind, ff formField) string {
	if k := "label." + fk.Object + "." + ff.Name; s.cat.Has(k) {
		return s.cat.T(lang, k)
	}
	return s.leafLabel(lang, ff.leaf())
}

// decode turns posted form values into the API's object. Fields whose
// When does not hold are left out, as are empty optional ones, so the
// API's defaults apply; an empty secret is left out so the stored one
// stays. Values that are not what their type needs are refused naming the
// field.
func (fk *formKind) decode(vals formValues, editing bool) (pbxObject, *failure) {
	obj := map[string]any{}
	for _, ff := range fk.Fields {
		if ff.KeyField && editing {
			continue
		}
		if ff.When != "" {
			name, want, _ := strings.Cut(ff.When, "=")
			if !slices.Contains(strings.Split(want, "|"), vals.first(name)) {
				if ff.Type == ftSecret {
					setPath(obj, ff.Name, "") // no secret for this kind: clear the stored one
				}
				continue
			}
		}
		raw := strings.TrimSpace(vals.first(ff.Name))
		var v any
		switch ff.Type {
		case ftCheck:
			v = raw != ""
		case ftNumber:
			if raw == "" {
				if ff.Required {
					return nil, fail(http.StatusBadRequest, "err.form.required", ff.leaf())
				}
				continue
			}
			n, err := strconv.Atoi(raw)
			if err != nil {
				return nil, fail(http.StatusBadRequest, "err.form.number", ff.leaf())
			}
			v = n
		case ftMulti:
			var list []string
			for _, x := range vals[ff.Name] {
				if x = strings.TrimSpace(x); x != "" {
					list = append(list, x)
				}
			}
			if len(list) == 0 && !ff.Required {
				continue
			}
			v = list
		case ftLines:
			list := splitLines(vals.first(ff.Name), ",")
			if len(list) == 0 && !ff.Required {
				continue
			}
			v = list
			if ff.Ints {
				ints := make([]int, 0, len(list))
				for _, item := range list {
					n, err := strconv.Atoi(item)
					if err != nil {
						return nil, fail(http.StatusBadRequest, "err.form.number_list", ff.leaf(), item)
					}
					ints = append(ints, n)
				}
				v = ints
			}
		case ftMembers:
			members := []map[string]int{}
			for _, g := range vals[ff.Name] {
				id, err := strconv.Atoi(g)
				if err != nil {
					return nil, fail(http.StatusBadRequest, "err.form.number", ff.leaf())
				}
				skill := 0
				if t := strings.TrimSpace(vals.first(ff.Name + ".skill." + g)); t != "" {
					if skill, err = strconv.Atoi(t); err != nil {
						return nil, fail(http.StatusBadRequest, "err.form.number", ff.leaf())
					}
				}
				members = append(members, map[string]int{"group": id, "skill": skill})
			}
			v = members
		case ftPairs:
			m := map[string]string{}
			for _, line := range splitLines(vals.first(ff.Name), "") {
				k, val, ok := strings.Cut(line, "=")
				if !ok {
					return nil, fail(http.StatusBadRequest, "err.form.pair", ff.leaf(), line)
				}
				m[strings.TrimSpace(k)] = strings.TrimSpace(val)
			}
			if len(m) == 0 && !ff.Required {
				continue
			}
			v = m
		case ftSecret:
			if ff.Generate && vals.first(ff.Name+".generate") != "" {
				obj[fieldGenerateSecret] = true
			}
			if raw == "" {
				continue
			}
			v = raw
		default:
			if raw == "" && !ff.Required {
				continue
			}
			v = raw
			if ff.Ints && raw != "" {
				n, err := strconv.Atoi(raw)
				if err != nil {
					return nil, fail(http.StatusBadRequest, "err.form.number", ff.leaf())
				}
				v = n
			}
		}
		setPath(obj, ff.Name, v)
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, internal(err)
	}
	o, err := parseObject(raw)
	if err != nil {
		return nil, internal(err)
	}
	return o, nil
}

// merge lays a form's object over the stored one: what the form has a
// field for comes from the form (absent there: cleared), the rest (what
// the form does not show, such as a group's relax steps) stays, and what
// only the API's view adds (a masked secret's warning, pin_set) goes.
func (fk *formKind) merge(old, form pbxObject) pbxObject {
	out := pbxObject{}
	for k, v := range old {
		out[k] = v
	}
	delete(out, fieldSecretWarning)
	delete(out, fieldPINSet)
	for _, ff := range fk.Fields {
		if !ff.KeyField {
			top, _, _ := strings.Cut(ff.Name, ".")
			delete(out, top)
		}
	}
	for k, v := range form {
		out[k] = v
	}
	return out
}

// splitLines splits a list typed one item a line (or separated by one of
// seps), dropping blanks.
func splitLines(s, seps string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || strings.ContainsRune(seps, r) }) {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// setPath sets obj's field at a dotted path, making the objects between.
func setPath(obj map[string]any, path string, v any) {
	for {
		head, rest, nested := strings.Cut(path, ".")
		if !nested {
			obj[head] = v
			return
		}
		sub, ok := obj[head].(map[string]any)
		if !ok {
			sub = map[string]any{}
			obj[head] = sub
		}
		obj, path = sub, rest
	}
}

// objectData is an object's decoded JSON, numbers kept as written.
type objectData map[string]any

func decodeObject(o pbxObject) objectData {
	raw, _ := json.Marshal(o)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	d := objectData{}
	_ = dec.Decode(&d)
	return d
}

// texts gives the value at a dotted path as a form holds it: strings and
// numbers as text, booleans as "true" or "false", a list as its items, an
// object of strings as "key=value" items in key order.
func (d objectData) texts(path string) []string {
	return textsOf(map[string]any(d), strings.Split(path, "."))
}

// textsOf follows path from v; through a list it follows each item ("the
// group of each membership").
func textsOf(v any, path []string) []string {
	for i, part := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			var out []string
			for _, item := range x {
				out = append(out, textsOf(item, path[i:])...)
			}
			return out
		default:
			return nil
		}
	}
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(x))
		for _, item := range x {
			out = append(out, scalarText(item))
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]string, 0, len(x))
		for _, k := range keys {
			out = append(out, k+"="+scalarText(x[k]))
		}
		return out
	}
	return []string{scalarText(v)}
}

func (d objectData) first(path string) string {
	if t := d.texts(path); len(t) > 0 {
		return t[0]
	}
	return ""
}

// values gives the form's values for an object.
func (fk *formKind) values(d objectData) formValues {
	out := formValues{}
	for _, ff := range fk.Fields {
		if ff.Type != ftMembers {
			out[ff.Name] = d.texts(ff.Name)
			continue
		}
		list, _ := d[ff.Name].([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			out[ff.Name] = append(out[ff.Name], scalarText(m["group"])+"="+scalarText(m["skill"]))
		}
	}
	return out
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
