package workorder

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"callbox/telephony/crm"
)

// FieldType is the kind of value a work-order field holds.
type FieldType string

// The field types.
const (
	FieldText     FieldType = "text"
	FieldTextArea FieldType = "textarea" // several lines
	FieldNumber   FieldType = "number"
	FieldDateTime FieldType = "datetime" // RFC 3339, or empty: now
	FieldChoice   FieldType = "choice"
	// FieldPhone is a number to call from the order (the crew's, say):
	// up to MaxPhoneLen of digits, * and #, a + only first. A phone field
	// keyed "x_phone" belongs to whoever the field "x" beside it names.
	FieldPhone FieldType = "phone"
)

// MaxPhoneLen bounds a phone field's number.
const MaxPhoneLen = 20

// FieldDef is a field an order of a category needs, or one a step records.
type FieldDef struct {
	Key      string    `json:"key"`
	Label    string    `json:"label"`
	Type     FieldType `json:"type"`
	Choices  []string  `json:"choices,omitempty"`
	Required bool      `json:"required,omitempty"`
}

// State is one state of a lifecycle.
type State struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Final bool   `json:"final,omitempty"` // the order is done: off everyone's list
}

// Who may take a step, besides the web roles (admin, supervisor, agent).
const (
	// WhoAssignee: the user the order is assigned to, or a member of its
	// group.
	WhoAssignee = "assignee"
	// WhoCreator: the user who opened the order.
	WhoCreator = "creator"
)

// Opens makes a step open a new order when one of its fields is filled:
// a complaint at the satisfaction revisit opens a complaint order linked
// to the first.
type Opens struct {
	When     string `json:"when"`     // the step field that triggers it
	Category string `json:"category"` // the new order's category, by Code
}

// Step moves an order between states: who may take it, from which states,
// to which, and what it records.
type Step struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	From   []string   `json:"from"`
	To     string     `json:"to"`
	Who    []string   `json:"who"`
	Fields []FieldDef `json:"fields,omitempty"`
	Opens  *Opens     `json:"opens,omitempty"`
}

// Lifecycle is an order's life as data: states, the initial one, steps.
type Lifecycle struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Initial string  `json:"initial"`
	States  []State `json:"states"`
	Steps   []Step  `json:"steps"`
}

var idRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// State returns the state id, if the lifecycle has it.
func (l *Lifecycle) State(id string) (State, bool) {
	i := slices.IndexFunc(l.States, func(s State) bool { return s.ID == id })
	if i < 0 {
		return State{}, false
	}
	return l.States[i], true
}

// Step returns step id, if the lifecycle has it.
func (l *Lifecycle) Step(id string) (Step, bool) {
	i := slices.IndexFunc(l.Steps, func(s Step) bool { return s.ID == id })
	if i < 0 {
		return Step{}, false
	}
	return l.Steps[i], true
}

// Validate checks a lifecycle, naming the first bad field.
func (l *Lifecycle) Validate() error {
	const e = "lifecycle"
	if !idRE.MatchString(l.ID) {
		return crm.Invalid(e, "id", "1-32 of a-z, 0-9 and _, starting with a letter")
	}
	if err := crm.CheckText(e, "name", l.Name, crm.MaxNameLen, true, false); err != nil {
		return err
	}
	if len(l.States) == 0 || len(l.States) > 32 {
		return crm.Invalid(e, "states", "1 to 32 states")
	}
	for i, s := range l.States {
		f := fmt.Sprintf("states[%d]", i)
		if !idRE.MatchString(s.ID) {
			return crm.Invalid(e, f+".id", "1-32 of a-z, 0-9 and _, starting with a letter")
		}
		if err := crm.CheckText(e, f+".name", s.Name, crm.MaxNameLen, true, false); err != nil {
			return err
		}
		if slices.IndexFunc(l.States, func(o State) bool { return o.ID == s.ID }) != i {
			return crm.Invalid(e, f+".id", "state %q repeated", s.ID)
		}
	}
	if _, ok := l.State(l.Initial); !ok {
		return crm.Invalid(e, "initial", "no state %q", l.Initial)
	}
	if !slices.ContainsFunc(l.States, func(s State) bool { return s.Final }) {
		return crm.Invalid(e, "states", "at least one state must be final")
	}
	if len(l.Steps) > 64 {
		return crm.Invalid(e, "steps", "at most 64 steps")
	}
	for i, st := range l.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if !idRE.MatchString(st.ID) {
			return crm.Invalid(e, f+".id", "1-32 of a-z, 0-9 and _, starting with a letter")
		}
		if slices.IndexFunc(l.Steps, func(o Step) bool { return o.ID == st.ID }) != i {
			return crm.Invalid(e, f+".id", "step %q repeated", st.ID)
		}
		if err := crm.CheckText(e, f+".name", st.Name, crm.MaxNameLen, true, false); err != nil {
			return err
		}
		if len(st.From) == 0 {
			return crm.Invalid(e, f+".from", "name the states the step leaves")
		}
		for j, s := range st.From {
			state, ok := l.State(s)
			if !ok {
				return crm.Invalid(e, fmt.Sprintf("%s.from[%d]", f, j), "no state %q", s)
			}
			if state.Final {
				return crm.Invalid(e, fmt.Sprintf("%s.from[%d]", f, j), "state %q is final: no step leaves it", s)
			}
		}
		if _, ok := l.State(st.To); !ok {
			return crm.Invalid(e, f+".to", "no state %q", st.To)
		}
		if len(st.Who) == 0 {
			return crm.Invalid(e, f+".who", "name who may take the step")
		}
		for j, w := range st.Who {
			if !slices.Contains([]string{crm.RoleAdmin, crm.RoleSupervisor, crm.RoleAgent, WhoAssignee, WhoCreator}, w) {
				return crm.Invalid(e, fmt.Sprintf("%s.who[%d]", f, j), "admin, supervisor, agent, assignee or creator")
			}
		}
		if err := checkFieldDefs(e, f+".fields", st.Fields); err != nil {
			return err
		}
		if st.Opens != nil {
			if !slices.ContainsFunc(st.Fields, func(d FieldDef) bool { return d.Key == st.Opens.When }) {
				return crm.Invalid(e, f+".opens.when", "no field %q in the step", st.Opens.When)
			}
			if st.Opens.Category == "" {
				return crm.Invalid(e, f+".opens.category", "name the category code of the order to open")
			}
		}
	}
	return nil
}

func checkFieldDefs(entity, field string, defs []FieldDef) error {
	if len(defs) > 32 {
		return crm.Invalid(entity, field, "at most 32 fields")
	}
	for i, d := range defs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !idRE.MatchString(d.Key) {
			return crm.Invalid(entity, f+".key", "1-32 of a-z, 0-9 and _, starting with a letter")
		}
		if slices.IndexFunc(defs, func(o FieldDef) bool { return o.Key == d.Key }) != i {
			return crm.Invalid(entity, f+".key", "field %q repeated", d.Key)
		}
		if err := crm.CheckText(entity, f+".label", d.Label, crm.MaxNameLen, true, false); err != nil {
			return err
		}
		switch d.Type {
		case FieldText, FieldTextArea, FieldNumber, FieldDateTime, FieldPhone:
		case FieldChoice:
			if len(d.Choices) == 0 || len(d.Choices) > 64 {
				return crm.Invalid(entity, f+".choices", "1 to 64 choices")
			}
		default:
			return crm.Invalid(entity, f+".type", "text, textarea, number, datetime, choice or phone")
		}
	}
	return nil
}

// fill checks values against defs and returns the kept ones: unknown keys
// refused, required ones present, a datetime left empty set to now.
func fill(entity, prefix string, defs []FieldDef, values map[string]string, now time.Time) (map[string]string, error) {
	out := map[string]string{}
	for k := range values {
		if !slices.ContainsFunc(defs, func(d FieldDef) bool { return d.Key == k }) {
			return nil, crm.Invalid(entity, prefix+k, "no such field")
		}
	}
	for _, d := range defs {
		f := prefix + d.Key
		v := strings.TrimSpace(values[d.Key])
		if d.Type == FieldDateTime && v == "" && d.Required {
			v = now.Format(time.RFC3339)
		}
		if v == "" {
			if d.Required {
				return nil, crm.Invalid(entity, f, "required")
			}
			continue
		}
		max := 256
		if d.Type == FieldTextArea {
			max = crm.MaxTextLen
		}
		if err := crm.CheckText(entity, f, v, max, false, d.Type == FieldTextArea); err != nil {
			return nil, err
		}
		switch d.Type {
		case FieldNumber:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return nil, crm.Invalid(entity, f, "%q is not a number", v)
			}
		case FieldDateTime:
			t, err := parseTime(v)
			if err != nil {
				return nil, crm.Invalid(entity, f, "%q is not a time like 2026-12-01T09:30:00+08:00", v)
			}
			v = t.Format(time.RFC3339)
		case FieldChoice:
			if !slices.Contains(d.Choices, v) {
				return nil, crm.Invalid(entity, f, "%q is not one of %s", v, strings.Join(d.Choices, ", "))
			}
		case FieldPhone:
			n, err := CleanPhone(v)
			if err != nil {
				return nil, crm.Invalid(entity, f, "%s", err)
			}
			v = n
		}
		out[d.Key] = v
	}
	return out, nil
}

// CleanPhone checks a number to call: the spaces and dashes of its
// written form dropped, up to MaxPhoneLen of digits, * and #, a + only
// first.
func CleanPhone(v string) (string, error) {
	n := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(v))
	body := strings.TrimPrefix(n, "+")
	switch {
	case body == "":
		return "", errors.New("no number")
	case len(n) > MaxPhoneLen:
		return "", fmt.Errorf("longer than %d characters", MaxPhoneLen)
	case strings.Trim(body, "0123456789*#") != "":
		return "", fmt.Errorf("%q: only digits, * and #, a + first", v)
	}
	return n, nil
}

// parseTime accepts RFC 3339 and the browser's datetime-local form
// (2026-12-01T09:30, taken in the box's local time).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02T15:04", v, time.Local)
}
