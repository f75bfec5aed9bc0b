package ivr

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"callbox/telephony/calendar"
)

// calendars is a CalendarSource over a map.
type calendars map[string]*calendar.Calendar

func (c calendars) Calendar(name string) (*calendar.Calendar, bool) {
	cal, ok := c[name]
	return cal, ok
}

const namedCalendarFlow = `{"id":"f","entry":"t","nodes":[
	{"id":"t","type":"time","calendar":"main","open":"day","closed":"night","holiday":"hol","error":"broken"},
	{"id":"day","type":"hangup","prompt":"day"},
	{"id":"night","type":"hangup","prompt":"night"},
	{"id":"hol","type":"hangup","prompt":"holiday"},
	{"id":"broken","type":"hangup","prompt":"broken"}]}`

// TestNamedCalendar: a time branch naming a calendar follows it at run
// time, switches at closing time, sees an edit at once (the source is
// asked on every run) and takes its error branch when the calendar is
// gone.
func TestNamedCalendar(t *testing.T) {
	mk := func(spec calendar.Spec) *calendar.Calendar {
		c, err := calendar.New(spec)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	weekdays := mk(calendar.Spec{TZ: "+08:00", Hours: map[string]string{"mon-fri": "09:00-18:00"}})
	holiday := mk(calendar.Spec{TZ: "+08:00", Hours: map[string]string{"mon-fri": "09:00-18:00"}, Holidays: []string{"2026-11-18"}})
	closing := time.Date(2026, 11, 18, 18, 0, 0, 0, shanghai)
	tests := []struct {
		name string
		cals calendars
		at   time.Time
		want string
	}{
		{"open a minute before closing", calendars{"main": weekdays}, closing.Add(-time.Minute), "play day"},
		{"closed at closing time", calendars{"main": weekdays}, closing, "play night"},
		{"edited into a holiday", calendars{"main": holiday}, closing.Add(-time.Minute), "play holiday"},
		{"calendar deleted", calendars{}, closing, "play broken"},
		{"no calendars at all", nil, closing, "play broken"},
	}
	repo := repoOf(t, namedCalendarFlow)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Engine{Flows: repo, Clock: fixedClock(tt.at)}
			if tt.cals != nil {
				e.Calendars = tt.cals
			}
			var call scriptedCall
			res, err := e.Run(context.Background(), &call, Request{Flow: "f"})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{tt.want, "hangup"}; !reflect.DeepEqual(call.log, want) {
				t.Fatalf("actions %q, want %q (failures %v)", call.log, want, res.Failures)
			}
		})
	}
}

// TestValidateNamedCalendar: a named calendar excludes literal hours, must
// be a name, and must exist when the validator is given the calendars.
func TestValidateNamedCalendar(t *testing.T) {
	f := mustParse(t, namedCalendarFlow)
	if err := Validate(f, ValidateOptions{}); err != nil {
		t.Fatalf("without calendars to check against: %v", err)
	}
	if err := Validate(f, ValidateOptions{Calendars: calendars{"main": nil}}); err != nil {
		t.Fatalf("with the calendar: %v", err)
	}
	err := Validate(f, ValidateOptions{Calendars: calendars{"other": nil}})
	if err == nil || !strings.Contains(err.Error(), `node "t": calendar: no calendar "main"`) {
		t.Fatalf("unknown calendar: %v", err)
	}
	bad := mustParse(t, `{"id":"f","entry":"t","nodes":[
		{"id":"t","type":"time","calendar":"main","tz":"+08:00","hours":{"daily":"09:00-18:00"},"open":"d","closed":"d"},
		{"id":"u","type":"time","calendar":"a b","open":"d","closed":"d"},
		{"id":"d","type":"hangup"}]}`)
	bad.Entry = "t"
	err = Validate(bad, ValidateOptions{})
	for _, want := range []string{
		`node "t": calendar: a named calendar excludes tz, hours, special and holidays`,
		`node "u": calendar: bad calendar name "a b"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}
