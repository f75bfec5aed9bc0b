package recording

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"callbox/dsp/g711"
	"callbox/dsp/wav"
)

// tone returns n samples of a sine.
func tone(hz float64, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return s
}

// writeWAV writes a and b (80-sample frames) through a wavWriter and
// checks after every flush that the file on disk is a valid WAV of
// exactly what was written so far.
func writeWAV(t *testing.T, path string, e Encoding, a, b []int16) {
	t.Helper()
	w, err := createWAV(path, e, 2, 3*80)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+80 <= len(a); i += 80 {
		w.put(a[i:i+80], b[i:i+80])
		if !w.full() {
			continue
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		info, err := Inspect(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fileSize(t, path); info.DataOffset+info.DataBytes != got || info.DataBytes != w.data {
			t.Fatalf("after a flush: header says %d+%d bytes, file has %d", info.DataOffset, info.DataBytes, got)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
}

// TestWAVEncodings writes each encoding and reads it back with dsp/wav's
// parser, our Inspect and sox: two channels, each with its own tone.
func TestWAVEncodings(t *testing.T) {
	a, b := tone(500, 8000), tone(1300, 8000)
	for _, e := range []Encoding{ALaw, MuLaw, PCM16} {
		t.Run(e.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.wav")
			writeWAV(t, path, e, a, b)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			info, data, err := wav.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if info.Channels != 2 || info.SampleRate != 8000 || len(data) != 2*8000*e.bytesPerSample() {
				t.Fatalf("dsp/wav reads %v with %d data bytes", info, len(data))
			}
			fi, err := Inspect(path)
			if err != nil || fi.Encoding != e || fi.Duration.Seconds() != 1 {
				t.Fatalf("Inspect: %+v %v", fi, err)
			}
			left, right := soxChannel(t, path, 1), soxChannel(t, path, 2)
			if len(left) != 8000 || len(right) != 8000 {
				t.Fatalf("sox reads %d and %d samples, want 8000", len(left), len(right))
			}
			if g := goertzel(left, 500); g < 0.9 {
				t.Errorf("channel 1 holds %.2f of 500 Hz", g)
			}
			if g := goertzel(right, 1300); g < 0.9 {
				t.Errorf("channel 2 holds %.2f of 1300 Hz", g)
			}
		})
	}
}

// TestRepair cuts a recording at every kind of place a crash can leave it
// (mid-frame, with stale header sizes) and checks Repair makes it a valid
// file of the whole frames present, which sox reads.
func TestRepair(t *testing.T) {
	a, b := tone(500, 4000), tone(1300, 4000)
	for _, e := range []Encoding{ALaw, PCM16} {
		for _, cut := range []int64{0, 1, 3, 1001, 7777} {
			path := filepath.Join(t.TempDir(), "x.wav")
			writeWAV(t, path, e, a, b)
			full := fileSize(t, path)
			hdr := int64(headerLen(e))
			// A crash: the header says 0 bytes (as at the start of a
			// recording) and the data is cut.
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt(appendHeader(nil, e, 2, 0), 0)
			f.Truncate(full - cut)
			f.Close()
			info, err := Repair(path)
			if err != nil {
				t.Fatal(err)
			}
			block := int64(2 * e.bytesPerSample())
			want := (full - cut - hdr) / block * block
			if !info.Repaired || info.DataBytes != want || fileSize(t, path) != hdr+want {
				t.Fatalf("%v cut %d: repaired %+v, file %d bytes, want %d data", e, cut, info, fileSize(t, path), want)
			}
			again, err := Repair(path)
			if err != nil || again.Repaired {
				t.Fatalf("a repaired file was repaired again: %+v %v", again, err)
			}
			if left := soxChannel(t, path, 1); int64(len(left)) != want/block {
				t.Fatalf("sox reads %d samples, want %d", len(left), want/block)
			}
		}
	}
}

// TestRepairRefusesOtherFiles: a file that is not a recording is left alone.
func TestRepairRefusesOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	mono, _ := wav.Encode(tone(400, 800))
	mono[22] = 3 // three channels
	for _, content := range [][]byte{nil, []byte("hello"), mono} {
		os.WriteFile(path, content, 0o600)
		if _, err := Repair(path); err == nil {
			t.Errorf("Repair accepted %q", content[:min(len(content), 12)])
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
			t.Errorf("Repair changed a file it refused")
		}
	}
}

// TestPlaybackPCMView reads a G.711 recording through its PCM view in
// ranges of every alignment and compares with decoding the whole file.
func TestPlaybackPCMView(t *testing.T) {
	a, b := tone(500, 1600), tone(1300, 1600)
	path := filepath.Join(t.TempDir(), "x.wav")
	writeWAV(t, path, ALaw, a, b)
	p, err := OpenPlayback(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	whole := readAll(t, p)
	if int64(len(whole)) != p.Size() || p.Size() != 44+1600*2*2 {
		t.Fatalf("PCM view of %d bytes, Size %d", len(whole), p.Size())
	}
	info, data, err := wav.Parse(whole)
	if err != nil || info.Format != wav.PCM || info.Channels != 2 {
		t.Fatalf("the view is %v: %v", info, err)
	}
	raw, _ := os.ReadFile(path)
	for i := range 3200 {
		want := g711.DecodeAlawSample(raw[g711Header+i])
		if got := int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8); got != want {
			t.Fatalf("sample %d: %d, want %d", i, got, want)
		}
	}
	for _, r := range [][2]int64{{0, 1}, {43, 3}, {44, 1}, {45, 2}, {45, 101}, {1001, 999}, {p.Size() - 3, 10}} {
		buf := make([]byte, r[1])
		n, _ := p.ReadAt(buf, r[0])
		end := min(r[0]+r[1], p.Size())
		if !bytes.Equal(buf[:n], whole[r[0]:end]) {
			t.Fatalf("ReadAt(%d, %d) differs from the whole read", r[0], r[1])
		}
	}
	// The PCM file as it is served.
	q, err := OpenPlayback(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got := readAll(t, q); !bytes.Equal(got, raw) {
		t.Fatal("the file as it is differs from the file")
	}
}

// FuzzRepair: whatever a file holds, Repair neither panics nor leaves a
// file that Inspect and dsp/wav disagree about.
func FuzzRepair(f *testing.F) {
	good := appendHeader(nil, ALaw, 2, 6)
	f.Add(append(good, 1, 2, 3, 4, 5, 6, 7))
	f.Add(appendHeader(nil, PCM16, 1, 100))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt "))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(dir, "f.wav")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := Repair(path)
		if err != nil {
			return
		}
		again, err := Inspect(path)
		if err != nil || again.DataBytes != info.DataBytes || again.DataOffset+again.DataBytes != fileSize(t, path) {
			t.Fatalf("after Repair (%+v) Inspect gives %+v, %v", info, again, err)
		}
		raw, _ := os.ReadFile(path)
		if _, data, err := wav.Parse(raw); err != nil || int64(len(data)) != info.DataBytes {
			t.Fatalf("dsp/wav reads the repaired file: %d bytes, %v", len(data), err)
		}
	})
}
