package conference

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"callbox/dsp/tone"
	"callbox/telephony/media"
	"callbox/telephony/recording"
)

// voice is a party's phone: it says a tone and keeps what it hears.
type voice struct {
	hz, ph float64
	mu     sync.Mutex
	heard  []int16
	keep   bool
}

func (v *voice) ReadFrame(f []int16) {
	for i := range f {
		f[i] = int16(3000 * math.Sin(v.ph))
		v.ph += 2 * math.Pi * v.hz / media.SampleRate
	}
}

func (v *voice) WriteFrame(f []int16) {
	v.mu.Lock()
	if v.keep {
		v.heard = append(v.heard, f...)
	}
	v.mu.Unlock()
}

// listen starts keeping what the party hears afresh (on) or stops.
func (v *voice) listen(on bool) {
	v.mu.Lock()
	v.keep = on
	if on {
		v.heard = nil
	}
	v.mu.Unlock()
}

// level is the amplitude of x at f (Goertzel over a Hann window, so the
// other parties' tones do not leak into the bin), relative to one voice.
func level(x []int16, f float64) float64 {
	w := 2 * math.Cos(2*math.Pi*f/media.SampleRate)
	n := float64(len(x))
	var s1, s2 float64
	for i, v := range x {
		hann := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n)
		s1, s2 = float64(v)*hann+w*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - w*s1*s2
	return 4 * math.Sqrt(p) / n / 3000 // 1 for one of the voices
}

// toneSounds plays the catalogue's tones as dsp/tone would sound them and
// prompts as a short 440 Hz tone; music as a low hum.
type toneSounds struct{}

type genSource struct {
	g    *tone.Generator
	left int // samples; -1 endless
}

func (s *genSource) ReadFrame(f []int16) {
	if s.left == 0 {
		clear(f)
		return
	}
	s.g.Read(f)
	if s.left > 0 {
		s.left = max(s.left-len(f), 0)
	}
}
func (*genSource) WriteFrame([]int16) {}

func (toneSounds) Source(s Sound) (media.Endpoint, func() bool, error) {
	c := func(hz float64) []tone.Component { return []tone.Component{{Hz: hz, Level: -10}} }
	src := &genSource{left: -1}
	switch {
	case s.Music:
		src.g = tone.NewGenerator(tone.Tone{Segments: []tone.Segment{{Freqs: c(200)}}})
	case len(s.Prompts) > 0 && (s.Prompts[0] == ToneEnter || s.Prompts[0] == ToneLeave):
		src.g = tone.NewGenerator(tone.Tone{Segments: []tone.Segment{{Freqs: c(1800)}}})
		src.left = 1600
	default:
		src.g = tone.NewGenerator(tone.Tone{Segments: []tone.Segment{{Freqs: c(440)}}})
		src.left = 800
	}
	return src, func() bool { return src.left == 0 }, nil
}

// engineRoom is a room on a media engine ticked by the test.
type engineRoom struct {
	t      *testing.T
	s      *Service
	e      *media.Engine
	audio  *EngineAudio
	voices []*voice
	calls  []*fakeCall
	errs   chan error
}

func newEngineRoom(t *testing.T, room Room, rec *recording.Recorder) *engineRoom {
	s := newService(t, Config{Recorder: rec})
	if _, err := s.PutRoom(RoomInput{Room: room}); err != nil {
		t.Fatal(err)
	}
	e := media.NewEngine(media.Config{Workers: 1})
	t.Cleanup(func() { e.Close() })
	return &engineRoom{t: t, s: s, e: e, errs: make(chan error, 64)}
}

func (r *engineRoom) join(hz float64) (*voice, *fakeCall) {
	v := &voice{hz: hz}
	ch, err := r.e.NewChannel(fmt.Sprintf("party%v", hz), v, media.ChannelOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	c := newFakeCall()
	r.voices, r.calls = append(r.voices, v), append(r.calls, c)
	go func() {
		r.errs <- r.s.Join(c, r.s.mustRoom(r.t), Caller{Number: fmt.Sprint(hz)}, func() Audio {
			a, err := NewEngineAudio(r.e, toneSounds{}, "room")
			if err != nil {
				r.t.Error(err)
			}
			r.audio = a
			return a
		}, func(a Audio, id PartyID) error {
			a.(*EngineAudio).Attach(id, ch)
			return nil
		})
	}()
	return v, c
}

func (s *Service) mustRoom(t *testing.T) string {
	rooms, err := s.Rooms()
	if err != nil || len(rooms) != 1 {
		t.Fatalf("rooms %v %v", rooms, err)
	}
	return rooms[0].Number
}

// run ticks the engine for d of audio.
func (r *engineRoom) run(d time.Duration) {
	for range int(d / media.FrameDuration) {
		r.e.Tick()
		if r.audio != nil {
			r.audio.Poll()
		}
	}
}

func (r *engineRoom) parties() int {
	st := r.s.Status()
	if len(st) == 0 {
		return 0
	}
	return len(st[0].Parties)
}

// TestEngineRoomHearing: ten parties in a room on the media engine each
// hear every other party's tone and not their own; a party the moderator
// mutes is heard by nobody and still hears the rest; the room's recording
// holds every talking party.
func TestEngineRoomHearing(t *testing.T) {
	dir := t.TempDir()
	rec, err := recording.New(recording.Config{Dir: filepath.Join(dir, "rec"), Store: newMemStore(), Settings: recording.Settings{Encoding: recording.PCM16}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	r := newEngineRoom(t, Room{Number: "600", Quiet: true, NoMusic: true, Record: true}, rec)
	freqs := make([]float64, 10)
	for i := range freqs {
		freqs[i] = 350 + 117*float64(i)
		r.join(freqs[i])
		eventually(t, "a party in", func() bool { return r.parties() == i+1 })
	}
	check := func(muted int) {
		t.Helper()
		for _, v := range r.voices {
			v.listen(true)
		}
		r.run(time.Second)
		for i, v := range r.voices {
			v.listen(false)
			x := v.heard[4000:] // past the ticks a change took
			if l := level(x, freqs[i]); l > 0.01 {
				t.Errorf("party %d hears itself at %.3f", i, l)
			}
			for j, f := range freqs {
				l := level(x, f)
				switch {
				case j == i:
				case j == muted && l > 0.01:
					t.Errorf("party %d hears muted party %d at %.3f", i, j, l)
				case j != muted && l < 0.5:
					t.Errorf("party %d hears party %d at only %.3f", i, j, l)
				}
			}
		}
	}
	check(-1)
	st := r.s.Status()[0]
	if err := r.s.Mute("600", st.Parties[3].ID, true); err != nil {
		t.Fatal(err)
	}
	check(3)
	recID := st.Recording
	if err := r.s.End("600", "test"); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := <-r.errs; err != nil {
			t.Fatal(err)
		}
	}
	r.s.Close()
	got, err := rec.Get(recID)
	if err != nil || got.Kind != "conference" || got.Duration < 2*time.Second {
		t.Fatalf("the room's recording: %+v %v", got, err)
	}
}

// TestEngineRoomSounds: one party alone hears music; the entry tone is
// heard by the one in when the second joins, and then they hear each
// other.
func TestEngineRoomSounds(t *testing.T) {
	r := newEngineRoom(t, Room{Number: "600"}, nil)
	a, _ := r.join(500)
	eventually(t, "the first party", func() bool { return r.parties() == 1 })
	r.run(200 * time.Millisecond)
	a.listen(true)
	r.run(500 * time.Millisecond)
	if l := level(a.heard, 200); l < 0.2 {
		t.Fatalf("alone, the party hears music at %.3f", l)
	}
	r.join(700)
	eventually(t, "the second party", func() bool { return r.parties() == 2 })
	a.listen(true)
	r.run(200 * time.Millisecond)
	if l := level(a.heard, 1800); l < 0.2 {
		t.Fatalf("the entry tone at %.3f", l)
	}
	r.run(300 * time.Millisecond)
	a.listen(true)
	r.run(500 * time.Millisecond)
	if l, m := level(a.heard, 700), level(a.heard, 200); l < 0.5 || m > 0.01 {
		t.Fatalf("after the entry: the other party at %.3f, music at %.3f", l, m)
	}
	r.s.End("600", "test")
	<-r.errs
	<-r.errs
}
