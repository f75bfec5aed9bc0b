package t30

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"callbox/dsp/fax/internal/faxtest"
	"callbox/dsp/fax/t4"
)

// peerResult is spandsp's result line.
type peerResult struct {
	code    int
	text    string
	pagesTx int
	pagesRx int
	rate    int
}

func parsePeer(t *testing.T, s string) peerResult {
	t.Helper()
	var r peerResult
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "result ") {
			continue
		}
		f := strings.Fields(line)
		fmt.Sscan(f[1], &r.code)
		i := 2
		var text []string
		for ; i < len(f) && f[i] != "pages-tx"; i++ {
			text = append(text, f[i])
		}
		r.text = strings.Join(text, " ")
		if i+5 < len(f) {
			fmt.Sscan(f[i+1], &r.pagesTx)
			fmt.Sscan(f[i+3], &r.pagesRx)
			fmt.Sscan(f[i+5], &r.rate)
		}
		return r
	}
	t.Fatalf("spandsp printed no result: %q", s)
	return r
}

// withPeer runs our session against spandsp's over the two lines until
// both are done (or limit seconds). tamper, if set, may damage the audio
// going to the peer (toPeer) or coming from it, block by block.
func withPeer(t *testing.T, s *Session, peer *faxtest.Peer, toPeer, fromPeer line, limit int, tamper func(toPeer bool, x []int16)) peerResult {
	t.Helper()
	in, out := make([]int16, 160), make([]int16, 160)
	for i := 0; i < limit*50; i++ {
		toPeer.seed, fromPeer.seed = uint64(2*i), uint64(2*i+1)
		s.Process(in, out)
		x := toPeer.carry(out)
		if tamper != nil {
			tamper(true, x)
		}
		got, ok := peer.Exchange(x)
		if !ok {
			break
		}
		in = fromPeer.carry(got)
		if tamper != nil {
			tamper(false, in)
		}
	}
	return parsePeer(t, peer.Close())
}

// docFile writes the test document as a TIFF (libtiff, G4) for spandsp.
func docFile(t *testing.T, bin, dir string, doc []*t4.Page) string {
	var bms []faxtest.Bitmap
	for _, p := range doc {
		bms = append(bms, faxtest.Bitmap{Width: p.Width, Height: p.Height, YRes: p.YRes, Pix: p.Pix})
	}
	path := filepath.Join(dir, "doc.tif")
	faxtest.Run(t, bin, faxtest.PBM(bms...), "pbm-to-tiff", "g4", "1", "196", path)
	return path
}

// checkPages compares pages pixel for pixel.
func checkPages(t *testing.T, what string, got []*t4.Page, want []*t4.Page) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d pages, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			t.Errorf("%s: page %d (%dx%d) differs from the one sent (%dx%d) at row %d", what, i+1, got[i].Width, got[i].Height, want[i].Width, want[i].Height, got[i].FirstDifference(want[i]))
		}
	}
}

// readTIFF reads a TIFF with libtiff (through the harness) into pages.
func readTIFF(t *testing.T, bin, path string) []*t4.Page {
	var pages []*t4.Page
	for _, bm := range faxtest.ParsePBM(t, faxtest.Run(t, bin, nil, "tiff-to-pbm", path)) {
		p, _ := t4.NewPage(bm.Width, bm.Height, t4.XRes, t4.YResFine)
		copy(p.Pix, bm.Pix)
		pages = append(pages, p)
	}
	return pages
}

// TestSpandsp sends a three-page document both ways between our session and
// spandsp's (the fax stack of Asterisk and FreeSWITCH), through G.711 at
// several levels with noise, and compares the pages pixel for pixel.
// spandsp's receiving modems fail on noise above about -48 dBm0 before a
// training (see faxtest.CheckAgainstSpandsp), so the lines towards it stay
// quieter than that.
func TestSpandsp(t *testing.T) {
	bin := faxtest.Harness(t)
	dir := t.TempDir()
	doc := testDoc(t)
	src := docFile(t, bin, dir, doc)
	for _, c := range []struct {
		name    string
		level   float64 // received level, dBm0
		law     faxtest.Law
		modems  string // what spandsp offers
		codings string
		small   bool // we send ECM frames of 64 octets
	}{
		{"v29 mr -10dBm0 alaw", -10, faxtest.Alaw, "v29+v27ter", "mh+mr", false},
		{"v29 mr -30dBm0 ulaw", -30, faxtest.Ulaw, "v29+v27ter", "mh+mr", false},
		{"v29 mh -40dBm0 alaw", -40, faxtest.Alaw, "v29+v27ter", "mh", false},
		{"v27ter mr -20dBm0 ulaw", -20, faxtest.Ulaw, "v27ter", "mh+mr", false},
		{"v29 ecm mmr -20dBm0 alaw", -20, faxtest.Alaw, "v29+v27ter", "mh+mr+mmr+ecm", false},
		{"v27ter ecm mr -30dBm0 ulaw", -30, faxtest.Ulaw, "v27ter", "mh+mr+ecm", false},
		{"v29 ecm64 mmr -25dBm0 ulaw", -25, faxtest.Ulaw, "v29+v27ter", "mh+mr+mmr+ecm", true},
		{"v17 mr -10dBm0 alaw", -10, faxtest.Alaw, "v17+v29+v27ter", "mh+mr", false},
		{"v17 mh -30dBm0 ulaw", -30, faxtest.Ulaw, "v17+v29+v27ter", "mh", false},
		{"v17 ecm mmr -20dBm0 alaw", -20, faxtest.Alaw, "v17+v29+v27ter", "mh+mr+mmr+ecm", false},
	} {
		// Both ends have V.17: its fastest rate, else the fastest of
		// V.29, else of V.27ter.
		wantRate := 4800
		switch {
		case strings.Contains(c.modems, "v17"):
			wantRate = 14400
		case strings.Contains(c.modems, "v29"):
			wantRate = 9600
		}
		// Our levels are -13 dBm0, spandsp's -14 (its default).
		toTheirs := line{gainDB: c.level + 13, noise: min(c.level-25, -50), law: c.law}
		toOurs := line{gainDB: c.level + 14, noise: c.level - 25, law: c.law}
		t.Run("ours-to-spandsp "+c.name, func(t *testing.T) {
			out := filepath.Join(dir, "rx-"+strings.ReplaceAll(c.name, " ", "-")+".tif")
			peer := faxtest.StartPeer(t, bin, "fax-rx", out, c.modems, c.codings)
			s, err := New(Config{Calling: true, Pages: doc, Ident: "+86 10 5555 0100", SmallFrames: c.small, Modems: AllModems})
			if err != nil {
				t.Fatal(err)
			}
			r := withPeer(t, s, peer, toTheirs, toOurs, 240, nil)
			if s.Result().Err != nil || r.code != 0 || r.pagesRx != len(doc) {
				logEvents(t, "ours", s)
				t.Fatalf("ours %+v, spandsp %+v", s.Result(), r)
			}
			checkPages(t, "spandsp received", readTIFF(t, bin, out), doc)
			// The first page is 29 frames of 256 octets, 114 of 64.
			if c.small && !hasEvent(s, "tx page 1 partial page 0: 114 frames") {
				logEvents(t, "ours", s)
				t.Error("not in 64-octet frames")
			}
			if s.Result().ECM != strings.Contains(c.codings, "ecm") {
				t.Errorf("error correction %v", s.Result().ECM)
			}
			if s.Result().Rate != wantRate || r.rate != wantRate {
				t.Errorf("rate %d (spandsp says %d), want %d", s.Result().Rate, r.rate, wantRate)
			}
			t.Logf("%d bit/s %v, %d pages", s.Result().Rate, s.Result().Coding, s.Result().Pages)
		})
		t.Run("spandsp-to-ours "+c.name, func(t *testing.T) {
			peer := faxtest.StartPeer(t, bin, "fax-tx", src, c.modems, c.codings)
			s, err := New(Config{Ident: "+86 21 5555 0200", Modems: AllModems})
			if err != nil {
				t.Fatal(err)
			}
			r := withPeer(t, s, peer, toTheirs, toOurs, 240, nil)
			if s.Result().Err != nil || r.code != 0 || s.Result().Pages != len(doc) {
				logEvents(t, "ours", s)
				t.Fatalf("ours %+v, spandsp %+v", s.Result(), r)
			}
			checkPages(t, "we received", s.Received(), doc)
			if s.Result().RemoteIdent != "+1 555 0100" {
				t.Errorf("remote identity %q", s.Result().RemoteIdent)
			}
			if s.Result().ECM != strings.Contains(c.codings, "ecm") {
				t.Errorf("error correction %v", s.Result().ECM)
			}
			if s.Result().Rate != wantRate || r.rate != wantRate {
				t.Errorf("rate %d (spandsp says %d), want %d", s.Result().Rate, r.rate, wantRate)
			}
			t.Logf("%d bit/s %v, %d pages", s.Result().Rate, s.Result().Coding, s.Result().Pages)
		})
	}
}

// hasEvent reports whether the session logged an event starting with text.
func hasEvent(s *Session, text string) bool {
	for _, e := range s.Events() {
		if strings.HasPrefix(e.Text, text) {
			return true
		}
	}
	return false
}

// burst overwrites x with loud noise (a line hit).
func burst(x []int16, seed uint64) {
	copy(x, faxtest.AddNoise(make([]int16, len(x)), -12, seed))
}

// A training that fails (a burst of noise over the first TCF) makes the
// receiver answer FTT and the sender fall back to the next rate; a page
// that arrives damaged (a burst in its middle) is refused with RTN and sent
// again after a new training; in error correction mode, the frames a burst
// damaged are listed in a PPR and only they go again. All both ways with
// spandsp, on V.29 and on V.17 (where the fallback is from 14400 to 12000,
// and the pages after a TCF train short).
func TestSpandspFallbackAndRTN(t *testing.T) {
	bin := faxtest.Harness(t)
	dir := t.TempDir()
	doc := testDoc(t)
	src := docFile(t, bin, dir, doc)
	quiet := line{law: faxtest.Alaw}
	for _, c := range []struct {
		name    string
		modems  string // what spandsp offers
		codings string
		event   string // what our (sending) session must have logged
	}{
		{"fallback", "v29+v27ter", "mh+mr", "falling back to 7200"},
		{"rtn", "v29+v27ter", "mh+mr", "rx RTN"},
		{"ppr", "v29+v27ter", "mh+mr+mmr+ecm", "rx PPR"},
		{"fallback v17", "v17+v29+v27ter", "mh+mr", "falling back to 12000"},
		{"rtn v17", "v17+v29+v27ter", "mh+mr", "rx RTN"},
		{"ppr v17", "v17+v29+v27ter", "mh+mr+mmr+ecm", "rx PPR"},
	} {
		// Blocks of the TCF's transmission that are its training.
		training := 35
		if strings.Contains(c.modems, "v17") {
			training = 105
		}
		kind, _, _ := strings.Cut(c.name, " ")
		t.Run("ours-to-spandsp "+c.name, func(t *testing.T) {
			out := filepath.Join(dir, "rx-"+strings.ReplaceAll(c.name, " ", "-")+".tif")
			peer := faxtest.StartPeer(t, bin, "fax-rx", out, c.modems, c.codings)
			s, _ := New(Config{Calling: true, Pages: doc, Modems: AllModems})
			hits, seen := 0, 0
			tamper := func(toPeer bool, x []int16) {
				if !toPeer {
					return
				}
				switch {
				case kind == "fallback" && s.st == stSendTCF && s.gap == 0 && hits < 20:
					// After the training, in the zeros: the training
					// succeeds, the check does not.
					if seen++; seen > training {
						hits++
						burst(x, uint64(hits))
					}
				case kind == "rtn" && s.st == stSendPage && s.page == 0 && s.rtn == 0:
					if seen++; seen > 50 && hits < 150 { // a second into the page, three of noise
						hits++
						burst(x, uint64(hits))
					}
				case kind == "ppr" && s.st == stSendECM && s.page == 0 && !hasEvent(s, "rx PPR"):
					if seen++; seen > 50 && hits < 25 { // a second into the page, half a second of noise
						hits++
						burst(x, uint64(hits))
					}
				}
			}
			r := withPeer(t, s, peer, quiet, quiet, 400, tamper)
			if s.Result().Err != nil || r.code != 0 || r.pagesRx != len(doc) || !hasEvent(s, c.event) {
				logEvents(t, "ours", s)
				t.Fatalf("ours %+v, spandsp %+v", s.Result(), r)
			}
			checkPages(t, "spandsp received", readTIFF(t, bin, out), doc)
			if kind == "ppr" {
				checkFewResent(t, s, "rx PPR: %d frames to send again")
			}
		})
		t.Run("spandsp-to-ours "+c.name, func(t *testing.T) {
			peer := faxtest.StartPeer(t, bin, "fax-tx", src, c.modems, c.codings)
			s, _ := New(Config{Modems: AllModems})
			hits, seen := 0, 0
			ev := map[string]string{"fallback": "tx FTT", "rtn": "tx RTN", "ppr": "tx PPR"}[kind]
			tamper := func(toPeer bool, x []int16) {
				if toPeer {
					return
				}
				switch {
				case kind == "fallback" && s.st == stRecvTCF && s.fastIn.trained && hits < 25:
					hits++
					burst(x, uint64(hits))
				case kind == "rtn" && s.st == stWaitPage && s.fastIn.trained && len(s.received) == 0 && !hasEvent(s, "tx RTN"):
					if seen++; seen > 50 && hits < 150 {
						hits++
						burst(x, uint64(hits))
					}
				case kind == "ppr" && s.st == stWaitPage && s.fastIn.trained && s.fastIn.ecm && s.rxPage == 0 && !hasEvent(s, "tx PPR"):
					if seen++; seen > 50 && hits < 25 {
						hits++
						burst(x, uint64(hits))
					}
				}
			}
			r := withPeer(t, s, peer, quiet, quiet, 400, tamper)
			if s.Result().Err != nil || r.code != 0 || s.Result().Pages != len(doc) || !hasEvent(s, ev) {
				logEvents(t, "ours", s)
				t.Fatalf("ours %+v, spandsp %+v", s.Result(), r)
			}
			checkPages(t, "we received", s.Received(), doc)
			if kind == "ppr" {
				checkFewResent(t, s, "partial page 0: %d of")
			}
			t.Logf("spandsp ended at %d bit/s", r.rate)
		})
	}
}

// checkFewResent checks that a half-second line hit cost a few ECM frames
// (it covers two or three at 9600 bit/s; the receiver needs a little more
// to be back on track), not the rest of the partial page: the event format
// gives their number. At most eight at 9600 bit/s, as many more as a
// faster rate puts in the same time.
func checkFewResent(t *testing.T, s *Session, format string) {
	t.Helper()
	most := 8 * max(s.Result().Rate, 9600) / 9600
	for _, e := range s.Events() {
		var n int
		if _, err := fmt.Sscanf(e.Text, format, &n); err == nil {
			if n < 1 || n > most {
				t.Errorf("%q: a half-second hit should cost one to %d frames", e.Text, most)
			}
			return
		}
	}
	t.Errorf("no event like %q", format)
}
