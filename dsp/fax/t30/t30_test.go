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
	connectTampered(t, a, b, ab, ba, limit, nil)
}

// connectTampered is connect with tamper, if set, free to damage what a
// sends, block by block, before the line carries it.
func connectTampered(t *testing.T, a, b *Session, ab, ba line, limit int, tamper func(x []int16)) {
	t.Helper()
	const block = 160
	toA, toB := make([]int16, block), make([]int16, block)
	outA, outB := make([]int16, block), make([]int16, block)
	for i := 0; i < limit*8000/block && !(a.Done() && b.Done()); i++ {
		ab.seed, ba.seed = uint64(2*i), uint64(2*i+1)
		a.Process(toA, outA)
		b.Process(toB, outB)
		if tamper != nil {
			tamper(outA)
		}
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
		{"no ecm", Config{NoECM: true}, line{law: faxtest.Alaw}, line{law: faxtest.Alaw}},
		{"ecm 64-octet frames", Config{SmallFrames: true}, line{law: faxtest.Ulaw}, line{law: faxtest.Ulaw}},
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
			if sr.ECM == c.cfg.NoECM || rr.ECM == c.cfg.NoECM || sr.ECM && sr.Coding != t4.MMR && !c.cfg.NoMR {
				t.Errorf("error correction: sender %v (%v), receiver %v", sr.ECM, sr.Coding, rr.ECM)
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

// run feeds a lone session silence (or what answer returns for its output)
// for at most limit seconds.
func runAlone(s *Session, limit int, answer func(out []int16) []int16) {
	in, out := make([]int16, 160), make([]int16, 160)
	for i := 0; i < limit*50 && !s.Done(); i++ {
		s.Process(in, out)
		if answer != nil {
			copy(in, answer(out))
		}
	}
}

// An answering terminal that nobody calls repeats DIS until T1 runs out.
func TestNoCaller(t *testing.T) {
	s, _ := New(Config{})
	runAlone(s, 60, nil)
	if !errors.Is(s.Result().Err, ErrNoFax) {
		t.Errorf("result %v", s.Result().Err)
	}
	dis := 0
	for _, e := range s.Events() {
		if e.Text == "tx DIS" {
			dis++
		}
	}
	if dis < 5 || s.clock > 40*8000 {
		t.Errorf("%d DIS in %d ms", dis, s.clock/8)
	}
}

// A sender whose DCS is never answered repeats it three times and gives up
// with ErrNoResponse (after DCN).
func TestNoResponseToDCS(t *testing.T) {
	rcv, _ := New(Config{})
	snd, _ := New(Config{Calling: true, Pages: testDoc(t)})
	// The receiver's DIS reaches the sender; nothing gets back.
	in, out := make([]int16, 160), make([]int16, 160)
	rin, rout := make([]int16, 160), make([]int16, 160)
	for i := 0; i < 60*50 && !snd.Done(); i++ {
		rcv.Process(rin, rout)
		snd.Process(in, out)
		copy(in, rout)
	}
	if !errors.Is(snd.Result().Err, ErrNoResponse) || !hasEvent(snd, "tx DCN") {
		logEvents(t, "snd", snd)
		t.Errorf("result %v", snd.Result().Err)
	}
}

// FuzzFrames feeds arbitrary frames to sessions in every state: no panic,
// and frames the session takes leave it in a valid state.
func FuzzFrames(f *testing.F) {
	f.Add(byte(stWaitCmd), []byte{0xff, 0x13, 0x83, 0x00, 0xc6, 0x70})
	f.Add(byte(stCallWaitDIS), []byte{0xff, 0x13, 0x80, 0x00, 0xce, 0x74})
	f.Add(byte(stWaitPost), []byte{0xff, 0x13, 0x4f})
	f.Add(byte(stWaitCFR), []byte{0xff, 0x13, 0x44})
	f.Add(byte(stWaitPostResp), []byte{0xff, 0x13, 0x4c})
	f.Add(byte(stWaitCmd), []byte{0xff, 0x03, 0x42, '1', '2'})
	// Error correction mode (the high bit of st): PPS, EOR, CTC, RR to a
	// receiver; PPR, CTR, ERR, RNR to a sender.
	f.Add(byte(0x80|stWaitPost), []byte{0xff, 0x13, 0xbf, 0x00, 0x00, 0x00, 0x1c})
	f.Add(byte(0x80|stWaitPage), []byte{0xff, 0x13, 0xcf, 0x75})
	f.Add(byte(0x80|stWaitPage), []byte{0xff, 0x13, 0x13, 0x00, 0x30})
	f.Add(byte(0x80|stWaitCmd), []byte{0xff, 0x13, 0x6f})
	f.Add(byte(0x80|stWaitPPSResp), []byte{0xff, 0x13, 0xbd, 0xff, 0x00, 0x81})
	f.Add(byte(0x80|stWaitPPSResp), []byte{0xff, 0x13, 0xc5})
	f.Add(byte(0x80|stWaitPPSResp), []byte{0xff, 0x13, 0x1d})
	f.Add(byte(0x80|stWaitPPSResp), []byte{0xff, 0x13, 0xed})
	doc := testDoc(f)
	f.Fuzz(func(t *testing.T, st byte, frame []byte) {
		if len(frame) < frameHeadLen || len(frame) > 400 {
			return
		}
		for _, calling := range []bool{true, false} {
			cfg := Config{Calling: calling}
			if calling {
				cfg.Pages = doc
			}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if st&0x80 != 0 {
				s.remote = caps{receive: true, modems: V29 | V27ter, width: 1728, fine: true, mr: true, mmr: true, ecm: true}
				if calling {
					if err := s.choose(); err != nil {
						t.Fatal(err)
					}
					if err := s.startPage(); err != nil {
						t.Fatal(err)
					}
				} else {
					s.p = params{rate: fallback[0], coding: t4.MMR, width: 1728, ecm: true}
					s.blk = new([256][ecmFrameLen]byte)
					s.clearBlock()
				}
			}
			s.st = state(st&0x7f) % stDone
			s.listen = true
			s.onFrame(frame)
			if s.st > stDone || s.rateIdx < 0 || s.rateIdx >= len(fallback) {
				t.Fatalf("state %d rate %d", s.st, s.rateIdx)
			}
			// And the session keeps running.
			runAlone(s, 1, nil)
		}
		parseDIS(frame)
		parseDCS(frame)
		parseIdent(frame)
	})
}

// recordCall runs a whole three-page fax between our sender and receiver
// (both configured as cfg) and returns what each sent.
func recordCall(t testing.TB, cfg Config) (fromSender, fromReceiver []int16) {
	doc := testDoc(t)
	rcv, _ := New(cfg)
	cfg.Calling, cfg.Pages = true, doc
	snd, _ := New(cfg)
	fromSender, fromReceiver = Connect(snd, rcv, 200*second)
	if snd.Result().Pages != len(doc) {
		t.Fatalf("the recorded call sent %d pages", snd.Result().Pages)
	}
	return fromSender, fromReceiver
}
