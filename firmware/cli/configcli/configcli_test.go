package configcli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"callbox/firmware/cli"
	"callbox/firmware/control"
	"callbox/firmware/store"
	"callbox/telephony/ccconf"
	"callbox/telephony/pbxconf"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Command.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func sampleConfig() pbxconf.Config {
	c := pbxconf.Default(4)
	c.Extensions = append(c.Extensions, pbxconf.Extension{Number: "301", Name: "Li", Kind: pbxconf.KindSIP, Secret: "agent-secret"})
	c.Trunks = []pbxconf.Trunk{{Name: "pstn1", Kind: pbxconf.KindFXO, Port: 1, Rings: 2, Default: "201"}}
	c.Routes = []pbxconf.Route{{Name: "out", Patterns: []string{"9."}, Strip: 1, Trunks: []string{"pstn1"}}}
	return c
}

func writeConfig(t *testing.T, dir, name string, c pbxconf.Config) string {
	t.Helper()
	doc, err := pbxconf.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedDoc reads the raw stored document ("" when none).
func storedDoc(t *testing.T, dataDir string) string {
	t.Helper()
	db, err := store.Open(filepath.Join(dataDir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var doc []byte
	db.View(func(tx *store.Tx) error { doc, _ = tx.PBXConfig(); return nil })
	return string(doc)
}

// TestStoreFile: with no daemon, import and export work on the store file;
// export --secrets then import gives the same configuration; a refused
// file changes nothing.
func TestStoreFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "var")
	if code, _, errs := runCmd(t, "export", "--data", data); code != 1 || !strings.Contains(errs, "store cannot be read") {
		t.Fatalf("export without a store: %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, DBName)); err == nil {
		t.Fatal("export created a store")
	}
	in := writeConfig(t, dir, "in.json", sampleConfig())
	code, out, errs := runCmd(t, "import", "--data", data, in)
	if code != 0 || !strings.Contains(out, "5 extensions, 1 trunks, 1 routes") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	backup := filepath.Join(dir, "backup.json")
	if code, _, errs := runCmd(t, "export", "--secrets", "--data", data, backup); code != 0 {
		t.Fatalf("export: %d %q", code, errs)
	}
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	got, err := ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	doc1, _ := pbxconf.Marshal(*got.PBX)
	doc2, _ := pbxconf.Marshal(sampleConfig())
	if !bytes.Equal(doc1, doc2) {
		t.Fatalf("export differs from what was imported:\n%s\n%s", doc1, doc2)
	}
	sample, def := sampleConfig(), ccconf.Default()
	whole, _ := MarshalDocument(Document{PBX: &sample, CallCentre: &def})
	code, stdout, _ := runCmd(t, "export", "--secrets", "--data", data, "-")
	if code != 0 || stdout != string(whole) {
		t.Fatalf("export to stdout: %d\n%s", code, stdout)
	}

	before := storedDoc(t, data)
	bad := sampleConfig()
	bad.Routes[0].Trunks = []string{"gone"}
	badPath := writeConfig(t, dir, "bad.json", bad)
	code, _, errs = runCmd(t, "import", "--data", data, badPath)
	if code != 1 || !strings.Contains(errs, `route "out" (routes[0].trunks)`) || !strings.Contains(errs, "nothing changed") {
		t.Fatalf("bad import: %d %q", code, errs)
	}
	if after := storedDoc(t, data); after != before {
		t.Fatal("a refused import changed the store")
	}
	os.WriteFile(badPath, []byte(`{"version":1,"emergency":["110"],"extensions":[{"number":"201","kind":"fxs","port":1,"pin":"1"}]}`), 0o600)
	if code, _, errs := runCmd(t, "import", "--data", data, badPath); code != 1 || !strings.Contains(errs, "pin: unknown field") {
		t.Fatalf("unknown field: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, "import", "--data", data, filepath.Join(dir, "missing.json")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Fatalf("missing file: %d %q", code, errs)
	}
	if after := storedDoc(t, data); after != before {
		t.Fatal("a refused import changed the store")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frob"}, {"import"}, {"export", "a", "b"}, {"import", "--bogus", "x"}} {
		if code, _, errs := runCmd(t, args...); code != 2 || errs == "" {
			t.Errorf("%q: %d %q", args, code, errs)
		}
	}
	if code, out, _ := runCmd(t, "help"); code != 0 || !strings.Contains(out, "config export") {
		t.Errorf("help: %d %q", code, out)
	}
}

// TestThroughDaemonSocket: with a daemon serving Live on the control
// socket, export and import go through it, and its Check refuses.
func TestThroughDaemonSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("unix socket")
	}
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "daemon.db")) // not DBName: the command must not open it
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *store.Tx) error { return Save(tx, pbxconf.Default(4)) }); err != nil {
		t.Fatal(err)
	}
	var imported []Imported
	d := Daemon{
		DB:       func() *store.DB { return db },
		Hooks:    Hooks{Check: func(c pbxconf.Config) error { return c.CheckPorts(4, 0) }},
		Imported: func(r Imported) { imported = append(imported, r) },
	}
	srv, err := control.Listen(control.Path(dir), []cli.Command{Live(d)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close(context.Background())

	code, out, errs := runCmd(t, "export", "--data", dir)
	defPBX, defCC := pbxconf.Default(4), ccconf.Default()
	def, _ := MarshalDocument(Document{PBX: &defPBX, CallCentre: &defCC})
	if code != 0 || out != string(def) {
		t.Fatalf("export through the daemon: %d %q\n%s", code, errs, out)
	}
	// Valid in itself, but the daemon's board has no FXO port.
	in := writeConfig(t, dir, "in.json", sampleConfig())
	code, _, errs = runCmd(t, "import", "--data", dir, in)
	if code != 1 || !strings.Contains(errs, `trunk "pstn1" (trunks[0].port)`) || len(imported) != 0 {
		t.Fatalf("import refused by the board check: %d %q", code, errs)
	}
	c := sampleConfig()
	c.Trunks, c.Routes = nil, nil
	in = writeConfig(t, dir, "in.json", c)
	rel, _ := filepath.Rel(mustGetwd(t), in)
	code, out, errs = runCmd(t, "import", "--data", dir, rel)
	if code != 0 || !strings.Contains(out, "5 extensions") || len(imported) != 1 {
		t.Fatalf("import through the daemon: %d %q %q", code, out, errs)
	}
	got, err := Export(db, true)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := MarshalDocument(Document{PBX: &c, CallCentre: &defCC})
	if !bytes.Equal(got, want) {
		t.Fatalf("daemon store after import:\n%s\nwant\n%s", got, want)
	}
	// The socket (as the console) masks the secrets unless asked.
	masked := wholeDoc(t, c.MaskSecrets())
	if code, out, errs := runCmd(t, "export", "--data", dir); code != 0 || out != masked || strings.Contains(out, "agent-secret") {
		t.Fatalf("masked export through the daemon: %d %q\n%s", code, errs, out)
	}
	if code, out, errs := runCmd(t, "export", "--secrets", "--data", dir); code != 0 || out != string(want) {
		t.Fatalf("export --secrets through the daemon: %d %q\n%s", code, errs, out)
	}
	// An explicitly empty blocked list is applied with a warning.
	c.Blocked = []string{}
	code, out, errs = runCmd(t, "import", "--data", dir, writeConfig(t, dir, "open.json", c))
	if code != 0 || !strings.Contains(out, `config: warning: "blocked" is empty`) {
		t.Fatalf("import of an empty blocked list: %d %q %q", code, out, errs)
	}
}

// TestLiveExport is the console's config export: secrets masked unless
// --secrets; other arguments get the usage.
func TestLiveExport(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := sampleConfig()
	if err := db.Update(func(tx *store.Tx) error { return Save(tx, c) }); err != nil {
		t.Fatal(err)
	}
	cmd := Live(Daemon{DB: func() *store.DB { return db }})
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"export"}, 0, wholeDoc(t, c.MaskSecrets())},
		{[]string{"export", "--secrets"}, 0, wholeDoc(t, c)},
		{[]string{"export", "--bogus"}, 2, ""},
		{[]string{"export", "--secrets", "x"}, 2, ""},
	} {
		var out, errb bytes.Buffer
		code := cmd.Run(context.Background(), tc.args, cli.IO{Out: &out, Err: &errb})
		if code != tc.code || out.String() != tc.out || (code == 2) != strings.Contains(errb.String(), "--secrets") {
			t.Errorf("%q: %d\n%s\n%s", tc.args, code, out.String(), errb.String())
		}
	}
}

// wholeDoc is the export of a store holding pbx and no call centre of its
// own (the default one).
func wholeDoc(t *testing.T, pbx pbxconf.Config) string {
	t.Helper()
	cc := ccconf.Default()
	doc, err := MarshalDocument(Document{PBX: &pbx, CallCentre: &cc})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestLiveWithoutStore(t *testing.T) {
	var errb bytes.Buffer
	cmd := Live(Daemon{DB: func() *store.DB { return nil }})
	if code := cmd.Run(context.Background(), []string{"export"}, cli.IO{Out: &errb, Err: &errb}); code != 1 || !strings.Contains(errb.String(), "not open") {
		t.Fatalf("%d %q", code, errb.String())
	}
}

// TestSecretsMasked: an export shows the secrets only when asked
// (--secrets), on standard output as in a file; the masked export imports
// again keeping the stored secrets, and a mask with no stored secret
// behind it is refused, naming the field, with the store unchanged.
func TestSecretsMasked(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "var")
	c := sampleConfig()
	c.Trunks = append(c.Trunks, pbxconf.Trunk{Name: "carrier", Kind: pbxconf.KindSIP, Host: "sip.example.net",
		Username: "0215550100", Secret: "trunk-secret", Register: true})
	if code, out, errs := runCmd(t, "import", "--data", data, writeConfig(t, dir, "in.json", c)); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	masked := wholeDoc(t, c.MaskSecrets())
	code, stdout, errs := runCmd(t, "export", "--data", data)
	if code != 0 || stdout != masked {
		t.Fatalf("export: %d %q\n%s", code, errs, stdout)
	}
	for _, secret := range []string{"agent-secret", "trunk-secret"} {
		if strings.Contains(stdout, secret) {
			t.Errorf("export shows %s", secret)
		}
	}
	file := filepath.Join(dir, "masked.json")
	if code, _, errs := runCmd(t, "export", "--data", data, file); code != 0 {
		t.Fatalf("export to a file: %d %q", code, errs)
	}
	if b, _ := os.ReadFile(file); string(b) != masked {
		t.Fatalf("file export:\n%s", b)
	}

	// Edit the masked export (rename an extension) and import it: the
	// secrets stay.
	edited := c.MaskSecrets()
	edited.Extensions[4].Name = "Li Na"
	code, out, errs := runCmd(t, "import", "--data", data, writeConfig(t, dir, "edited.json", edited))
	if code != 0 {
		t.Fatalf("import of the masked export: %d %q %q", code, out, errs)
	}
	want := c.Clone()
	want.Extensions[4].Name = "Li Na"
	wantDoc, _ := pbxconf.Marshal(want)
	if got := storedDoc(t, data); got != string(wantDoc) {
		t.Fatalf("stored after a masked import:\n%s\nwant\n%s", got, wantDoc)
	}

	// A new extension with the mask for its secret has nothing to keep.
	edited.Extensions = append(edited.Extensions, pbxconf.Extension{Number: "302", Kind: pbxconf.KindSIP, Secret: pbxconf.SecretMask})
	code, _, errs = runCmd(t, "import", "--data", data, writeConfig(t, dir, "new.json", edited))
	if code != 1 || !strings.Contains(errs, `extension "302" (extensions[5].secret)`) || !strings.Contains(errs, "--secrets") {
		t.Fatalf("import of a mask with nothing behind it: %d %q", code, errs)
	}
	if got := storedDoc(t, data); got != string(wantDoc) {
		t.Fatal("a refused import changed the store")
	}
}

// TestBlockedDefaults: a file without "blocked" (or "emergency") gets the
// safe defaults, silently; an explicitly empty blocked list is taken, with
// a warning in the import's output.
func TestBlockedDefaults(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "var")
	doc := `{"version": 1, "extensions": [{"number": "201", "kind": "fxs", "port": 1}]%s}`
	for _, tc := range []struct {
		name, extra string
		blocked     []string
		warn        bool
	}{
		{"no keys", ``, pbxconf.DefaultBlocked, false},
		{"null", `, "blocked": null, "emergency": null`, pbxconf.DefaultBlocked, false},
		{"own list", `, "blocked": ["00."]`, []string{"00."}, false},
		{"explicitly none", `, "blocked": []`, []string{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "in.json")
			if err := os.WriteFile(path, fmt.Appendf(nil, doc, tc.extra), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCmd(t, "import", "--data", data, path)
			if code != 0 {
				t.Fatalf("import: %d %q %q", code, out, errs)
			}
			if got := strings.Contains(out, `config: warning: "blocked" is empty`); got != tc.warn {
				t.Errorf("warning shown %v, want %v:\n%s", got, tc.warn, out)
			}
			stored, err := pbxconf.Parse([]byte(storedDoc(t, data)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(stored.Blocked, tc.blocked) || !slices.Equal(stored.Emergency, pbxconf.DefaultEmergency) {
				t.Errorf("stored blocked %q emergency %q, want blocked %q", stored.Blocked, stored.Emergency, tc.blocked)
			}
		})
	}
	// An explicitly empty emergency list is still refused.
	path := filepath.Join(dir, "none.json")
	os.WriteFile(path, fmt.Appendf(nil, doc, `, "emergency": []`), 0o600)
	if code, _, errs := runCmd(t, "import", "--data", data, path); code != 1 || !strings.Contains(errs, "emergency") {
		t.Fatalf("empty emergency list: %d %q", code, errs)
	}
}

// TestImportWeakSecrets: a file that sets a weak SIP secret is refused with
// the extension and reason named, and nothing changes; one the store
// already holds is imported again with a warning, so a backup restore
// never cuts a phone off.
func TestImportWeakSecrets(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "var")
	weak := sampleConfig()
	weak.Extensions[4].Secret = "password1"
	in := writeConfig(t, dir, "weak.json", weak)
	code, _, errs := runCmd(t, "import", "--data", data, in)
	if code != 1 || !strings.Contains(errs, `extension "301" (extensions[4].secret): secret: too short`) {
		t.Fatalf("weak secret imported: %d %q", code, errs)
	}
	if doc := storedDoc(t, data); doc != "" {
		t.Fatalf("a refused import stored %s", doc)
	}
	// The same weak secret, already stored (from before the rule).
	db, err := store.Open(filepath.Join(data, DBName))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *store.Tx) error { return Save(tx, weak) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	weak.Extensions[4].Name = "Li Wei"
	in = writeConfig(t, dir, "weak2.json", weak)
	code, out, errs := runCmd(t, "import", "--data", data, in)
	if code != 0 || !strings.Contains(out, `config: warning: extension "301": secret: too short (at least 10 characters) (it keeps working`) {
		t.Fatalf("re-import of a stored weak secret: %d %q %q", code, out, errs)
	}
	// Changing it to another weak one is refused.
	weak.Extensions[4].Secret = "qwertyuiop"
	in = writeConfig(t, dir, "weak3.json", weak)
	if code, _, errs := runCmd(t, "import", "--data", data, in); code != 1 || !strings.Contains(errs, "common password") {
		t.Fatalf("changed to another weak secret: %d %q", code, errs)
	}
}
