package callswitch_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/media"
	callswitch "callbox/telephony/switch"
	"callbox/telephony/switch/cdr"
	"callbox/telephony/switch/dialplan"
)

// syncBuffer is a log destination the switch and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ear is a SIP leg's media that keeps what the switch sends the phone.
type ear struct {
	mu    sync.Mutex
	heard []int16
}

func (e *ear) ReadFrame(f []int16) { clear(f) }
func (e *ear) WriteFrame(f []int16) {
	e.mu.Lock()
	e.heard = append(e.heard, f...)
	e.mu.Unlock()
}

// tones names the CN tones the leg was sent.
func (e *ear) tones() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	plan, err := tone.PlanFor("CN")
	if err != nil {
		panic(err)
	}
	d := tone.NewDetector(plan, tone.DetectorConfig{})
	d.Process(e.heard)
	d.Finish()
	var names []string
	for ev, ok := d.Poll(); ok; ev, ok = d.Poll() {
		if ev.Kind == tone.ToneStart {
			names = append(names, ev.Tone)
		}
	}
	return names
}

// live runs the board about in real time until sipp is done.
func (r *rig) live(t *testing.T, done <-chan error) {
	t.Helper()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
			r.run(10 * time.Millisecond)
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// refusedScenario writes softphone_refused.xml expecting status code.
func refusedScenario(t *testing.T, code int) string {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "softphone_refused.xml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "refused.xml")
	if err := os.WriteFile(path, bytes.ReplaceAll(tmpl, []byte(`response="CODE"`), []byte(`response="`+strconv.Itoa(code)+`"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A SIP phone (sipp as extension 205) is told why its call cannot be
// placed, one response per switch cause as causeMap gives it: busy 486,
// an extension with no registered phone 480, not found 404, a blocked
// number and a route the caller may not use 403, no trunk for the number
// 503 (an emergency number too, logged at ERROR with caller and number).
// A feature code is answered 200, the phone hears the confirmation tone,
// and the box hangs up with BYE; the feature is on.
func TestSippCallerHearsWhy(t *testing.T) {
	pc := defaultPlan()
	pc.Extensions = append(pc.Extensions, "205", "206")
	pc.Routes = []dialplan.Route{
		{Name: "carrier", Patterns: []string{"8X."}, Strip: 1, Trunks: []string{"nowhere"}},
		{Name: "intl", Patterns: []string{"7X."}, Strip: 1, Trunks: []string{"nowhere"}, Callers: []string{"201"}},
	}
	exts := append(defaultExts(), callswitch.Extension{Number: "205", Name: "SOFT 205"},
		callswitch.Extension{Number: "206", Name: "SOFT 206"})
	logs := &syncBuffer{}
	var mu sync.Mutex
	var ears []*ear
	r, ep, bin := sippBoxWith(t, rigOpt{plan: pc, exts: exts, log: slog.New(slog.NewTextHandler(logs, nil))},
		func(callswitch.SIPLeg) (media.Endpoint, func(), error) {
			e := &ear{}
			mu.Lock()
			ears = append(ears, e)
			mu.Unlock()
			return e, func() {}, nil
		})
	if err := r.sw.SetDND("203", true); err != nil {
		t.Fatal(err)
	}
	box := ep.UDPAddr().String()
	for _, tt := range []struct {
		why, number string
		code        int
		cause       string
	}{
		{"busy (do not disturb)", "203", 486, "busy"},
		{"no phone registered", "206", 480, "unavailable"},
		{"not a number", "599", 404, "not found"},
		{"blocked number", "800441234", 403, "blocked"},
		{"route not allowed", "7123", 403, "blocked"},
		{"no trunk", "8123", 503, "congestion"},
		{"emergency without a trunk", "110", 503, "congestion"},
	} {
		t.Run(tt.why, func(t *testing.T) {
			r.live(t, startSippFile(t, bin, freePort(t), refusedScenario(t, tt.code),
				"-s", tt.number, "-au", "205", "-ap", "secret205", "-auth_uri", tt.number+"@"+box, box))
			r.run(100 * time.Millisecond)
			recs := r.cdr()
			if len(recs) != 1 || recs[0].Cause != tt.cause || recs[0].To != tt.number {
				t.Errorf("CDRs %+v, want one to %s with cause %s", recs, tt.number, tt.cause)
			}
		})
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "EMERGENCY") ||
		!strings.Contains(l, "caller=205") || !strings.Contains(l, "number=110") {
		t.Errorf("no ERROR naming caller and number for the emergency call:\n%s", l)
	}

	t.Run("feature code", func(t *testing.T) {
		r.live(t, startSipp(t, bin, freePort(t), "softphone_feature.xml", "-s", "*76", "-au", "205", "-ap", "secret205", "-auth_uri", "*76@"+box, box))
		r.run(100 * time.Millisecond)
		got := make(chan callswitch.Extension, 1)
		r.sw.Do(func() { e, _ := r.sw.ExtensionState("205"); got <- e })
		r.run(10 * time.Millisecond)
		if e := <-got; !e.DND {
			t.Errorf("205 after *76: %+v", e)
		}
		recs := r.cdr()
		if len(recs) != 1 || recs[0].Cause != "feature" || recs[0].Disposition != cdr.Answered {
			t.Errorf("CDRs %+v", recs)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(ears) != 1 || !slices.Contains(ears[0].tones(), tone.Stutter) {
			var heard []string
			for _, e := range ears {
				heard = append(heard, e.tones()...)
			}
			t.Errorf("%d legs with media heard %v, want the confirmation (%s)", len(ears), heard, tone.Stutter)
		}
	})
}
