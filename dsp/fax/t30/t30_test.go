package t30

import (
	"errors"
	"fmt"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/t4"
)

// testDoc is a three-page document at fine resolution.
func testDoc(t testing.TB) []*t4.Page {
	var pages []*t4.Page
	bms := faxtest.Bitmaps()
	for _, name := range []string{"text", "noise", "edges"} {
		bm := bms[name]
		p, err := t4.NewPage(bm.Width, bm.Height, t4.XRes, t4.YResFine)
		if err != nil {
			t.Fatal(err)
		}
		copy(p.Pix, bm.Pix)
		pages = append(pages, p)
	}
	return pages
}

// line carries one direction of a call: gain in dB, noise at S/N below the
// gain-adjusted signal (0: none), a G.711 law.
type line struct {
	gainDB float64
	noise  float64 // dBm0 of added noise; 0 for none
	law    faxtest.Law
	seed   uint64
}

func (l line) carry(x []int16) []int16 {
	y := faxtest.Gain(x, l.gainDB)
	if l.noise != 0 {
		l.seed++
		y = faxtest.AddNoise(y, l.noise, l.seed)
	}
	return faxtest.G711(y, l.law)
}

// connect runs two sessions against each other over a pair of lines in
// 160-sample blocks (each hears the other one block late), for at most
// limit seconds.
func connect(t *testing.T, a, b *Session, ab, ba line, limit int) {
	t.Helper()
	const block = 160
	toA, toB := make([]int16, block), make([]int16, block)
	outA, outB := make([]int16, block), make([]int16, block)
	for i := 0; i < limit*8000/block && !(a.Done() && b.Done()); i++ {
		ab.seed, ba.seed = uint64(2*i), uint64(2*i+1)
		a.Process(toA, outA)
		b.Process(toB, outB)
		copy(toB, ab.carry(outA))
		copy(toA, ba.carry(outB))
	}
}

func logEvents(t *testing.T, name string, s *Session) {
	for _, e := range s.Events() {
		t.Logf("%s %6dms %s", name, e.At/8, e.Text)
	}
}

func TestOursToOurs(t *testing.T) {
	doc := testDoc(t)
	for _, c := range []struct {
		name   string
		cfg    Config
		ab, ba line
	}{
		{"clean", Config{}, line{}, line{}},
		{"-30dBm0 alaw noisy", Config{}, line{gainDB: -17, noise: -55, law: faxtest.Alaw}, line{gainDB: -17, noise: -55, law: faxtest.Alaw}},
		{"v27ter mh", Config{Modems: V27ter, NoMR: true}, line{law: faxtest.Ulaw}, line{law: faxtest.Ulaw}},
	} {
		t.Run(c.name, func(t *testing.T) {
			scfg := c.cfg
			scfg.Calling, scfg.Pages, scfg.Ident = true, doc, "+86 10 5555 0100"
			rcfg := c.cfg
			rcfg.Ident = "+86 21 5555 0200"
			snd, err := New(scfg)
			if err != nil {
				t.Fatal(err)
			}
			rcv, err := New(rcfg)
			if err != nil {
				t.Fatal(err)
			}
			connect(t, snd, rcv, c.ab, c.ba, 300)
			sr, rr := snd.Result(), rcv.Result()
			if sr.Err != nil || rr.Err != nil || sr.Pages != len(doc) || rr.Pages != len(doc) || !snd.Done() || !rcv.Done() {
				logEvents(t, "snd", snd)
				logEvents(t, "rcv", rcv)
				t.Fatalf("sender %+v, receiver %+v", sr, rr)
			}
			for i, p := range rcv.Received() {
				if !p.Equal(doc[i]) {
					t.Errorf("page %d differs from row %d", i+1, p.FirstDifference(doc[i]))
				}
			}
			if sr.RemoteIdent != "+86 21 5555 0200" || rr.RemoteIdent != "+86 10 5555 0100" {
				t.Errorf("identities %q, %q", sr.RemoteIdent, rr.RemoteIdent)
			}
			t.Logf("%s: %d bit/s %v %s", c.name, sr.Rate, sr.Coding, resName(sr.Fine))
		})
	}
}

func TestConfigErrors(t *testing.T) {
	doc := testDoc(t)
	for _, c := range []Config{
		{Calling: true},
		{Pages: doc},
		{Calling: true, Pages: doc, Ident: "not digits"},
		{Calling: true, Pages: []*t4.Page{{Width: 1000, Height: 10}}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// Nobody answers: T1 ends the call with ErrNoFax.
func TestNoAnswer(t *testing.T) {
	s, _ := New(Config{Calling: true, Pages: testDoc(t)})
	silence := make([]int16, 160)
	out := make([]int16, 160)
	for i := 0; i < 40*50 && !s.Done(); i++ {
		s.Process(silence, out)
	}
	if !errors.Is(s.Result().Err, ErrNoFax) {
		t.Errorf("result %v", s.Result().Err)
	}
	_ = fmt.Sprint
}
