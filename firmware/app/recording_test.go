package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"callbox/firmware/backup"
	"callbox/firmware/internal/smallfs"
	"callbox/firmware/store"
	"callbox/telephony/media"
	"callbox/telephony/recording"
	"callbox/webui"
)

// toneSource is an endpoint that says a tone.
type toneSource struct{ hz, ph float64 }

func (s *toneSource) ReadFrame(f []int16) {
	for i := range f {
		f[i] = int16(6000 * math.Sin(s.ph))
		s.ph += 2 * math.Pi * s.hz / media.SampleRate
	}
}
func (*toneSource) WriteFrame([]int16) {}

// recordedCall is a customer (500 Hz) bridged to an agent (1300 Hz) in a
// media engine, the customer's leg to be tapped.
func recordedCall(t testing.TB) (*media.Engine, *media.Channel) {
	t.Helper()
	e := media.NewEngine(media.Config{Workers: 1})
	cust, err := e.NewChannel("customer", &toneSource{hz: 500}, media.ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := e.NewChannel("agent", &toneSource{hz: 1300}, media.ChannelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bridge(cust, agent); err != nil {
		t.Fatal(err)
	}
	return e, cust
}

// envRecordChild makes the test binary the recording child of
// TestRecordingKill9; its value is the data directory.
const envRecordChild = "CALLBOX_RECORD_KILL9_CHILD"

// TestRecordingKill9Child is the child: it records a call in real time
// through the daemon's recorder and store until it is killed.
func TestRecordingKill9Child(t *testing.T) {
	dir := os.Getenv(envRecordChild)
	if dir == "" {
		t.Skip("the child of TestRecordingKill9")
	}
	db, err := store.Open(filepath.Join(dir, "callbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := openRecorder(context.Background(), dir, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e, cust := recordedCall(t)
	s, err := r.Begin(recording.Meta{CallID: "kill9", Agent: "1001", Customer: "13800138000"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetTap(cust, s.Tap())
	os.Stdout.WriteString("recording " + s.ID() + "\n")
	_ = (&media.Ticker{}).Run(context.Background(), e.Tick) // until killed
}

// TestRecordingKill9: a box killed (SIGKILL) in the middle of a call's
// recording leaves a file that sox reads as it is, and after the restart
// the recording is in the index, repaired, with the audio it held.
func TestRecordingKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("app: runs a child process and sox")
	}
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox not found (apt-get install sox): %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRecordingKill9Child$", "-test.v")
	cmd.Env = append(os.Environ(), envRecordChild+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	var id string
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "recording" {
			id = f[1]
			break
		}
	}
	if id == "" {
		cmd.Wait()
		t.Fatalf("the child did not start recording: %s", stderr.String())
	}
	time.Sleep(2500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	files, _ := filepath.Glob(filepath.Join(dir, backup.RecordingDir, "*", "*", "*", id+".wav"))
	if len(files) != 1 {
		t.Fatalf("no file for %s", id)
	}
	// As the kill left it: sox reads it without a repair.
	left := soxSamples(t, sox, files[0], "1")
	if len(left) < 8000 {
		t.Fatalf("sox reads %d samples from the killed recording, want over a second", len(left))
	}

	db, err := store.Open(filepath.Join(dir, "callbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := openRecorder(context.Background(), dir, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != recording.Repaired || rec.CallID != "kill9" || rec.Duration < time.Second || rec.Size != fileSizeOf(t, files[0]) {
		t.Fatalf("after the restart: %+v", rec)
	}
	found, err := r.Search(recording.Query{Agent: "1001"})
	if err != nil || len(found) != 1 || found[0].ID != id {
		t.Fatalf("search by agent after the restart: %v %v", found, err)
	}
	cust, agent := soxSamples(t, sox, files[0], "1"), soxSamples(t, sox, files[0], "2")
	if len(cust) != int(rec.Duration/time.Millisecond)*8 {
		t.Fatalf("sox reads %d samples, the index says %v", len(cust), rec.Duration)
	}
	if g := toneShare(cust[:8000], 500); g < 0.9 {
		t.Errorf("the customer's channel: %.2f of 500 Hz", g)
	}
	if g := toneShare(agent[:8000], 1300); g < 0.9 {
		t.Errorf("the agent's channel: %.2f of 1300 Hz", g)
	}
	t.Logf("killed after %v of audio on disk (%d bytes)", rec.Duration, rec.Size)
}

func soxSamples(t *testing.T, sox, path, channel string) []int16 {
	t.Helper()
	out, err := exec.Command(sox, "-V1", path, "-t", "raw", "-e", "signed-integer", "-b", "16", "-L", "-", "remix", channel).Output()
	if err != nil {
		t.Fatalf("sox %s: %v", path, err)
	}
	s := make([]int16, len(out)/2)
	for i := range s {
		s[i] = int16(uint16(out[2*i]) | uint16(out[2*i+1])<<8)
	}
	return s
}

func fileSizeOf(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// toneShare is the share of x's energy at f (Goertzel).
func toneShare(x []int16, f float64) float64 {
	w := 2 * math.Cos(2*math.Pi*f/media.SampleRate)
	var s1, s2, e float64
	for _, v := range x {
		s1, s2 = float64(v)+w*s1-s2, s1
		e += float64(v) * float64(v)
	}
	if e == 0 {
		return 0
	}
	return 2 * (s1*s1 + s2*s2 - w*s1*s2) / (float64(len(x)) * e)
}

// TestRecordingSmallDisk runs the recorder and the store on a small
// tmpfs: retention purges by age and by quota, and when the disk fills
// the recording in progress fails clearly (keeping what it wrote), new
// ones are refused with ErrFull and the alarm is raised; the store keeps
// working once space is back.
func TestRecordingSmallDisk(t *testing.T) {
	dir := smallfs.Mount(t, 24<<20)
	db, err := store.Open(filepath.Join(dir, "callbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs syncBuffer
	r, err := openRecorder(context.Background(), dir, db, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The box's floor (256 MiB) is larger than this disk.
	if err := r.SetSettings(recording.Settings{MinFree: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	e, cust := recordedCall(t)
	record := func(call string, ticks int) (recording.Record, error) {
		s, err := r.Begin(recording.Meta{CallID: call})
		if err != nil {
			return recording.Record{}, err
		}
		e.SetTap(cust, s.Tap())
		for i := range ticks {
			e.Tick()
			if i%50 == 49 {
				time.Sleep(time.Millisecond) // the writer keeps up, as in real time
			}
		}
		e.SetTap(cust, nil)
		return s.Stop()
	}
	// Six calls of 20 s: 320 kB each in A-law.
	var recs []recording.Record
	for i := range 6 {
		rec, err := record(string(rune('a'+i)), 2000)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	left := func() (calls string) {
		all, err := r.Search(recording.Query{})
		if err != nil {
			t.Fatal(err)
		}
		for i := len(all) - 1; i >= 0; i-- {
			calls += all[i].CallID
		}
		return calls
	}
	// By age: a maximum age that only the last call, a second younger
	// than the others, is within.
	time.Sleep(1100 * time.Millisecond)
	newer, err := record("g", 100)
	if err != nil {
		t.Fatal(err)
	}
	age := time.Since(newer.Start) + 500*time.Millisecond
	if err := r.SetSettings(recording.Settings{MaxAge: age, MinFree: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Purge(); err != nil || left() != "g" {
		t.Fatalf("by age: left %q, %v", left(), err)
	}
	for _, rec := range recs {
		if _, err := os.Stat(filepath.Join(dir, backup.RecordingDir, rec.File)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s's file survived its purge: %v", rec.CallID, err)
		}
	}
	// By quota: three more calls under a quota of two (and no maximum
	// age, which would purge them while they are recorded under -race).
	if err := r.SetSettings(recording.Settings{MinFree: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"h", "i", "j"} {
		if _, err := record(c, 2000); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.SetSettings(recording.Settings{Quota: 2*recs[0].Size + 1, MinFree: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Purge(); err != nil || left() != "ij" {
		t.Fatalf("by quota: left %q, %v", left(), err)
	}
	if n := strings.Count(logs.String(), "recording purged"); n != 8 {
		t.Fatalf("%d purges logged, want 8:\n%s", n, logs.String())
	}

	// The disk fills during a call: it fails keeping what it wrote.
	if err := r.SetSettings(recording.Settings{}); err != nil {
		t.Fatal(err)
	}
	s, err := r.Begin(recording.Meta{CallID: "filling"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetTap(cust, s.Tap())
	for range 100 {
		e.Tick()
	}
	time.Sleep(50 * time.Millisecond)
	filler := smallfs.Fill(t, dir)
	for i := range 300 {
		e.Tick()
		if i%50 == 49 {
			time.Sleep(time.Millisecond)
		}
	}
	e.SetTap(cust, nil)
	rec, err := s.Stop()
	if err == nil || rec.State != recording.Failed || rec.Duration < 500*time.Millisecond {
		t.Fatalf("a recording on a disk that filled: %+v, %v", rec, err)
	}
	if _, err := r.Begin(recording.Meta{CallID: "refused"}); !errors.Is(err, recording.ErrFull) {
		t.Fatalf("Begin on a full disk: %v", err)
	}
	if al, ok := r.Alarm(); !ok || al.Code != recording.AlarmFull {
		t.Fatalf("alarm: %+v %v", al, ok)
	}
	os.Remove(filler)
	if _, err := record("after", 100); err != nil {
		t.Fatalf("recording once space is back: %v", err)
	}
	if _, ok := r.Alarm(); ok {
		t.Fatal("the alarm stays once space is back")
	}
	if got := left(); got != "ijfillingafter" {
		t.Fatalf("index: %q", got)
	}
}

// TestRecordingsWeb plays a recording made by the daemon's recorder
// through the web API: the administrator finds it and fetches its audio
// in ranges as 16-bit PCM that sox reads with both parties' tones; an
// agent finds only their own recordings.
func TestRecordingsWeb(t *testing.T) {
	if testing.Short() {
		t.Skip("app: opens sockets and runs sox")
	}
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatalf("sox not found (apt-get install sox): %v", err)
	}
	a, _ := newApp(t, Config{Board: "sim"})
	start(t, a)
	boss := newWebAdmin(t, a)
	boss.doJSON("POST", "/api/v1/users", map[string]any{"login": "1001", "role": "agent", "password": "Quiet-Harbour-17"}, http.StatusCreated)
	boss.doJSON("POST", "/api/v1/users", map[string]any{"login": "1002", "role": "agent", "password": "Quiet-Harbour-17"}, http.StatusCreated)

	e, cust := recordedCall(t)
	r := a.mediaServices().rec
	for _, agent := range []string{"1001", "1002"} {
		s, err := r.Begin(recording.Meta{CallID: "call-" + agent, Agent: agent, Customer: "13800138000"})
		if err != nil {
			t.Fatal(err)
		}
		e.SetTap(cust, s.Tap())
		for i := range 300 {
			e.Tick()
			if i%50 == 49 {
				time.Sleep(time.Millisecond)
			}
		}
		e.SetTap(cust, nil)
		if _, err := s.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	var m map[string]any
	boss.do("GET", "/api/v1/recordings", "", nil, http.StatusOK, &m)
	list, _ := m["recordings"].([]any)
	if len(list) != 2 {
		t.Fatalf("the administrator finds %v", m)
	}
	id := list[1].(map[string]any)["id"].(string) // the older: agent 1001's
	if list[1].(map[string]any)["agent"] != "1001" || list[1].(map[string]any)["seconds"] != 3.0 {
		t.Fatalf("recording %v", list[1])
	}
	get := func(c *http.Client, rng string) (int, []byte, http.Header) {
		req, _ := http.NewRequest("GET", boss.base+"/api/v1/recordings/"+id+"/audio", nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.Bytes(), resp.Header
	}
	st, whole, _ := get(boss.c, "")
	if st != http.StatusOK || len(whole) != 44+300*80*4 {
		t.Fatalf("audio: %d, %d bytes", st, len(whole))
	}
	st, part, hdr := get(boss.c, "bytes=1000-1999")
	if st != http.StatusPartialContent || !bytes.Equal(part, whole[1000:2000]) || hdr.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", len(whole)) {
		t.Fatalf("range: %d %v", st, hdr)
	}
	path := filepath.Join(t.TempDir(), "served.wav")
	os.WriteFile(path, whole, 0o600)
	if c, g := soxSamples(t, sox, path, "1"), soxSamples(t, sox, path, "2"); toneShare(c, 500) < 0.9 || toneShare(g, 1300) < 0.9 {
		t.Fatalf("the served audio: customer %.2f of 500 Hz, agent %.2f of 1300 Hz", toneShare(c, 500), toneShare(g, 1300))
	}

	ag := newWebClient(t, boss.base)
	ag.call("GET", "/api/v1/session", nil, http.StatusOK)
	ag.call("POST", "/api/v1/login", map[string]any{"login": "1002", "password": "Quiet-Harbour-17"}, http.StatusOK)
	m = ag.call("GET", "/api/v1/recordings", nil, http.StatusOK)
	if list, _ := m["recordings"].([]any); len(list) != 1 || list[0].(map[string]any)["agent"] != "1002" {
		t.Fatalf("agent 1002 finds %v", m)
	}
	if st, _, _ := get(ag.c, ""); st != http.StatusNotFound {
		t.Fatalf("agent 1002 fetched 1001's audio: %d", st)
	}

	// The retention page's figures: one recording left after a delete,
	// the delete in the purge log, the partition's size known.
	boss.do("DELETE", "/api/v1/recordings/"+id, "", nil, http.StatusNoContent, nil)
	var u webui.RecordingUsage
	boss.do("GET", "/api/v1/recording-usage", "", nil, http.StatusOK, &u)
	if u.Count != 1 || u.Bytes == 0 || u.TotalBytes == 0 || len(u.Purges) != 1 || u.Purges[0].ID != id || u.Purges[0].Reason != recording.PurgeDeleted {
		t.Fatalf("usage after a delete: %+v", u)
	}
	resp, err := boss.c.Get(boss.base + "/retention")
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	page.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(page.String(), `data-purge="`+id+`"`) {
		t.Fatalf("the retention page does not list the removal:\n%s", page.String())
	}
}
