package ota

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbox/flash"
)

func TestCheckSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		s           CheckSettings
	}{
		{"defaults", "", DefaultCheckSettings()},
		{"on", "", CheckSettings{Enabled: true, URL: "https://updates.example.com/callbox/latest.cbx", IntervalHours: 24}},
		{"off with a url", "", CheckSettings{URL: "http://10.0.0.5/latest.cbx", IntervalHours: 1}},
		{"on without url", "url", CheckSettings{Enabled: true, IntervalHours: 24}},
		{"ftp", "url", CheckSettings{Enabled: true, URL: "ftp://x/y", IntervalHours: 24}},
		{"no host", "url", CheckSettings{URL: "https:///latest.cbx", IntervalHours: 24}},
		{"password in url", "url", CheckSettings{URL: "https://u:p@x/latest.cbx", IntervalHours: 24}},
		{"interval 0", "interval_hours", CheckSettings{IntervalHours: 0}},
		{"interval too long", "interval_hours", CheckSettings{IntervalHours: MaxCheckHours + 1}},
	} {
		err := tc.s.Validate()
		var se *SettingError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &se) || se.Field != tc.field):
			t.Errorf("%s: err = %v, want field %s", tc.name, err, tc.field)
		case se != nil:
			if code, _ := se.ReasonCode(); !strings.HasPrefix(code, "ota.") {
				t.Errorf("%s: reason code %q", tc.name, code)
			}
		}
	}
}

// bundleServer serves bundles by path with Range support (or without, as
// a plain file server that always sends everything), and records what
// was asked.
type bundleServer struct {
	srv     *httptest.Server
	files   map[string][]byte
	noRange bool
	mu      sync.Mutex
	ranges  []string
	sent    atomic.Int64
}

func newBundleServer(t *testing.T) *bundleServer {
	bs := &bundleServer{files: map[string][]byte{}}
	bs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bs.mu.Lock()
		b, ok := bs.files[r.URL.Path]
		bs.ranges = append(bs.ranges, r.Header.Get("Range"))
		noRange := bs.noRange
		bs.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if noRange {
			// Sent whole, slowly, as a big bundle would be: the check
			// must stop after the header.
			for i := 0; i < len(b); i += 4096 {
				n, err := w.Write(b[i:min(i+4096, len(b))])
				bs.sent.Add(int64(n))
				if err != nil {
					return
				}
				w.(http.Flusher).Flush()
				if i > 1<<16 {
					time.Sleep(time.Millisecond)
				}
			}
			return
		}
		http.ServeContent(w, r, "bundle.cbx", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(bs.srv.Close)
	return bs
}

// TestCheck: the check reads only the signed header and says whether the
// offered bundle is an update this box may install.
func TestCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Sim: true, Running: "1.0.0", KeyFile: keyFile(t), Floor: "0.9"}
	u := openSim(t, cfg)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	bs := newBundleServer(t)
	big := bytes.Repeat([]byte("r"), 4<<20)
	bs.files["/newer.cbx"] = bundle(t, "1.1.0", []string{"sim"}, big)
	bs.files["/same.cbx"] = bundle(t, "1.0.0", []string{"sim"}, []byte("x"))
	bs.files["/older.cbx"] = bundle(t, "0.8.0", []string{"sim"}, []byte("x"))
	bs.files["/board.cbx"] = bundle(t, "1.2.0", []string{"rpi4-callbox"}, []byte("x"))
	bs.files["/notabundle"] = []byte("<html>not found</html>")
	var other bytes.Buffer
	src := flash.ImageSource{Name: "rootfs", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }}
	if _, err := flash.WriteBundle(&other, otherKey, flash.Manifest{Version: "1.5.0", Compatible: []string{"sim"}}, []flash.ImageSource{src}); err != nil {
		t.Fatal(err)
	}
	bs.files["/otherkey.cbx"] = other.Bytes()

	for _, tc := range []struct {
		path      string
		available bool
		version   string
		refused   string
		err       string
	}{
		{"/newer.cbx", true, "1.1.0", "", ""},
		{"/same.cbx", false, "1.0.0", "", ""},
		{"/older.cbx", false, "0.8.0", "", ""}, // older: not an update, whatever the floor
		{"/board.cbx", false, "1.2.0", `this box is "sim"`, ""},
		{"/otherkey.cbx", false, "", "", "signature does not verify"},
		{"/notabundle", false, "", "", "not a callbox bundle"},
		{"/missing.cbx", false, "", "", "404"},
	} {
		r := u.Check(context.Background(), bs.srv.URL+tc.path)
		got := ""
		if r.Manifest != nil {
			got = r.Manifest.Version
		}
		if r.Available != tc.available || got != tc.version || !strings.Contains(r.Refused, tc.refused) ||
			!strings.Contains(r.Err, tc.err) || (tc.err == "") != (r.Err == "") || (tc.refused == "") != (r.Refused == "") {
			t.Errorf("%s: %+v (%s)", tc.path, r, r)
		}
		if u.LastCheck().URL != r.URL || u.Status().Check.At != r.At {
			t.Errorf("%s: the result is not kept", tc.path)
		}
	}
	for _, rg := range bs.ranges {
		if rg != "bytes=0-65611" {
			t.Fatalf("asked for %q, want the header's longest range", rg)
		}
	}
	// A server that ignores Range: the check reads the header and hangs
	// up long before the 4 MiB of the image.
	bs.mu.Lock()
	bs.noRange = true
	bs.mu.Unlock()
	if r := u.Check(context.Background(), bs.srv.URL+"/newer.cbx"); !r.Available {
		t.Fatalf("without range: %+v", r)
	}
	time.Sleep(100 * time.Millisecond)
	if n := bs.sent.Load(); n > 2<<20 {
		t.Fatalf("the server sent %d bytes of a %d-byte bundle to the check", n, len(bs.files["/newer.cbx"]))
	}
	if _, err := os.Stat(filepath.Join(dir, "ota", "slot-B.img")); err == nil {
		t.Fatal("a check wrote slot B")
	}

	// Installing only when asked: from the URL the check found.
	bs.mu.Lock()
	bs.noRange = false
	bs.mu.Unlock()
	u.Check(context.Background(), bs.srv.URL+"/same.cbx")
	if _, err := u.InstallChecked(context.Background()); !errors.Is(err, flash.ErrRefused) {
		t.Fatalf("installed what was not an update: %v", err)
	}
	u.Check(context.Background(), bs.srv.URL+"/newer.cbx")
	m, err := u.InstallChecked(context.Background())
	if err != nil || m.Version != "1.1.0" || u.Pending() == nil {
		t.Fatalf("install of the checked update: %v %+v", err, m)
	}
}

// TestFloorSetting: the stored floor outlives the updater, refuses older
// bundles, and never lowers the floor the daemon was started with.
func TestFloorSetting(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), Sim: true, Running: "2.0.0", KeyFile: keyFile(t), Floor: "1.0"}
	u := openSim(t, cfg)
	var se *SettingError
	if err := u.SetFloor("latest"); !errors.As(err, &se) || se.Field != "floor" {
		t.Fatalf("SetFloor(latest) = %v", err)
	}
	if err := u.SetFloor("1.5.0"); err != nil {
		t.Fatal(err)
	}
	u = openSim(t, cfg) // a restart
	if eff, stored := u.Floor(); eff != "1.5.0" || stored != "1.5.0" {
		t.Fatalf("floor after restart: %s (stored %s)", eff, stored)
	}
	for _, tc := range []struct {
		version string
		ok      bool
	}{{"1.4.9", false}, {"1.5.0", true}} {
		b := bundle(t, tc.version, []string{"sim"}, []byte("x"))
		_, err := u.Install(context.Background(), bytes.NewReader(b), int64(len(b)))
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "older than 1.5.0")) {
			t.Errorf("install %s with floor 1.5.0: %v", tc.version, err)
		}
	}
	// Lower than the daemon's: the daemon's holds.
	if err := u.SetFloor("0.5"); err != nil {
		t.Fatal(err)
	}
	if eff, stored := u.Floor(); eff != "1.0" || stored != "0.5" {
		t.Fatalf("floor 0.5 under --ota-floor 1.0: %s (stored %s)", eff, stored)
	}
	if err := u.SetFloor(""); err != nil {
		t.Fatal(err)
	}
	if st := u.Status(); st.Floor != "1.0" || st.FloorSetting != "" || st.Build != "2.0.0" {
		t.Fatalf("status: %+v", st)
	}
	// A damaged settings file leaves the box working on the daemon's floor.
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "ota", settingsFile), []byte("{"), 0o640); err != nil {
		t.Fatal(err)
	}
	if u = openSim(t, cfg); u.Status().Floor != "1.0" {
		t.Fatalf("with a damaged settings file: %+v", u.Status())
	}
}

// TestChecker: the scheduled check runs after its delay when enabled,
// again when kicked, never while disabled, and stops with its context.
func TestChecker(t *testing.T) {
	if testing.Short() {
		t.Skip("opens sockets")
	}
	u := openSim(t, Config{DataDir: t.TempDir(), Sim: true, Running: "1.0.0", KeyFile: keyFile(t)})
	bs := newBundleServer(t)
	bs.files["/latest.cbx"] = bundle(t, "1.1.0", []string{"sim"}, []byte("x"))
	var mu sync.Mutex
	s := CheckSettings{Enabled: false, URL: bs.srv.URL + "/latest.cbx", IntervalHours: 24}
	c := &Checker{Updater: u, Delay: time.Millisecond, Settings: func() (CheckSettings, error) {
		mu.Lock()
		defer mu.Unlock()
		return s, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	asked := func() int {
		bs.mu.Lock()
		defer bs.mu.Unlock()
		return len(bs.ranges)
	}
	wait := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for asked() < n || u.LastCheck().At.IsZero() {
			if time.Now().After(deadline) {
				t.Fatalf("%d checks, want %d", asked(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if asked() != 0 {
		t.Fatal("checked while disabled")
	}
	mu.Lock()
	s.Enabled = true
	mu.Unlock()
	c.Kick()
	wait(1)
	if r := u.LastCheck(); !r.Available || r.Manifest.Version != "1.1.0" {
		t.Fatalf("%+v", r)
	}
	c.Kick()
	wait(2)
	cancel()
	<-done
}
