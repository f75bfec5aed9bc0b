package configcli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/firmware/store"
	"callbox/telephony/ccconf"
	"callbox/telephony/ivr"
)

// editJSON rewrites a JSON file through a generic map.
func editJSON(t *testing.T, src, dst string, edit func(doc map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(dst, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// storeState is everything an import may write: the PBX and call-centre
// documents and every flow version.
func storeState(t *testing.T, data string) string {
	t.Helper()
	db, err := store.Open(filepath.Join(data, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	err = db.View(func(tx *store.Tx) error {
		pbx, _ := tx.PBXConfig()
		cc, _ := tx.Get(store.ACDConfig, ccKey)
		b.Write(pbx)
		b.Write(cc)
		return EachFlowVersion(tx, func(id string, version int, data []byte) error {
			b.WriteString(id + "\n")
			b.Write(data)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func exportDoc(t *testing.T, data string) Document {
	t.Helper()
	code, out, errs := runCmd(t, "export", "--data", data, "-")
	if code != 0 {
		t.Fatalf("export: %d %s", code, errs)
	}
	d, err := ParseDocument([]byte(out))
	if err != nil {
		t.Fatalf("export unreadable: %v\n%s", err, out)
	}
	return d
}

// TestImportCallCentre: `callboxctl config import` of a file with both
// parts against a real store file: both stored, the PIN hashed, the flows
// saved as versions (a new one only when the content changed), the export
// carrying it all back; a bad call-centre part refuses the PBX part too.
func TestImportCallCentre(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "var")
	code, out, errs := runCmd(t, "import", "--data", data, "testdata/full.json")
	if code != 0 || !strings.Contains(out, "3 extensions, 1 trunks, 0 routes; call centre: 1 groups, 2 agents, 1 inbound routes, 2 flows (2 new versions)") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	d := exportDoc(t, data)
	if d.PBX == nil || d.CallCentre == nil || len(d.PBX.Extensions) != 3 {
		t.Fatalf("export %+v", d)
	}
	cc := d.CallCentre
	a := cc.Agents[0]
	if a.PIN != "" || !strings.HasPrefix(a.PINHash, "$argon2id$") || !a.CheckPIN("4321") {
		t.Fatalf("agent 1088 exported as %+v", a)
	}
	if len(cc.Flows) != 2 || cc.Flows[0].ID != "main" || cc.Flows[0].Version != 1 || cc.Flows[1].Version != 1 {
		t.Fatalf("flows %+v", cc.Flows)
	}
	// The same file again: nothing new, and the PIN hashed anew is still 4321.
	if code, out, _ := runCmd(t, "import", "--data", data, "testdata/full.json"); code != 0 || !strings.Contains(out, "2 flows (0 new versions)") {
		t.Fatalf("second import: %d %q", code, out)
	}
	// The export imported back keeps the PIN through its hash.
	backup := filepath.Join(dir, "backup.json")
	if code, _, errs := runCmd(t, "export", "--data", data, backup); code != 0 {
		t.Fatal(errs)
	}
	if code, out, errs := runCmd(t, "import", "--data", data, backup); code != 0 || !strings.Contains(out, "(0 new versions)") {
		t.Fatalf("restore of the backup: %d %q %q", code, out, errs)
	}
	if a := exportDoc(t, data).CallCentre.Agents[0]; !a.CheckPIN("4321") {
		t.Fatal("the restore lost the PIN")
	}
	// A changed flow becomes version 2; the file without pins keeps them.
	changed := editJSON(t, "testdata/full.json", filepath.Join(dir, "changed.json"), func(doc map[string]any) {
		cc := doc["call_centre"].(map[string]any)
		delete(cc["agents"].([]any)[0].(map[string]any), "pin")
		main := cc["flows"].([]any)[0].(map[string]any)
		main["name"] = "Office hours"
	})
	if code, out, errs := runCmd(t, "import", "--data", data, changed); code != 0 || !strings.Contains(out, "(1 new versions)") {
		t.Fatalf("changed flow: %d %q %q", code, out, errs)
	}
	d = exportDoc(t, data)
	if f := d.CallCentre.Flows[0]; f.Version != 2 || f.Name != "Office hours" || !d.CallCentre.Agents[0].CheckPIN("4321") {
		t.Fatalf("after the change: flow %+v, agent %+v", f, d.CallCentre.Agents[0])
	}
	db, err := store.Open(filepath.Join(data, DBName))
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *store.Tx) error {
		flows, err := LoadFlows(tx)
		if err != nil {
			return err
		}
		if v1, err := flows.Flow("main", 1); err != nil || v1.Name != "" {
			t.Errorf("version 1 of main: %+v %v", v1, err)
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	// Refusals change nothing, whichever part is at fault.
	before := storeState(t, data)
	for _, tt := range []struct {
		name string
		edit func(doc map[string]any)
		want string
	}{
		{"call-centre part invalid, PBX part fine", func(doc map[string]any) {
			doc["extensions"].([]any)[1].(map[string]any)["name"] = "Renamed"
			cc := doc["call_centre"].(map[string]any)
			cc["agents"].([]any)[1].(map[string]any)["device"] = "202"
		}, `ccconf: agent 1089: device: "202" is not a SIP extension`},
		{"PBX part takes away what the call centre uses", func(doc map[string]any) {
			delete(doc, "call_centre")
			doc["extensions"] = doc["extensions"].([]any)[:2]
		}, `ccconf: agent 1089: device: "301" is not a SIP extension`},
		{"PBX part takes away what the file's call centre uses", func(doc map[string]any) {
			doc["trunks"] = []any{}
		}, `ccconf: inbound route "main": trunk: "provider" is not a SIP trunk`},
		{"flow invalid", func(doc map[string]any) {
			cc := doc["call_centre"].(map[string]any)
			cc["flows"].([]any)[0].(map[string]any)["entry"] = "nowhere"
		}, `ccconf: flow "main": entry: node -: entry: entry "nowhere" is not a node`},
		{"flow queues to a group the file lacks", func(doc map[string]any) {
			cc := doc["call_centre"].(map[string]any)
			nodes := cc["flows"].([]any)[0].(map[string]any)["nodes"].([]any)
			nodes[1].(map[string]any)["group"] = 7
		}, `ccconf: flow "main": nodes.sales.group: unknown group 7`},
		{"bad PIN", func(doc map[string]any) {
			cc := doc["call_centre"].(map[string]any)
			cc["agents"].([]any)[0].(map[string]any)["pin"] = "12"
		}, `ccconf: agent 1088: pin: 4 to 8 digits`},
		{"unknown field in the call centre", func(doc map[string]any) {
			doc["call_centre"].(map[string]any)["queues"] = []any{}
		}, `ccconf: call-centre configuration: queues: unknown field`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := editJSON(t, "testdata/full.json", filepath.Join(dir, "bad.json"), tt.edit)
			code, _, errs := runCmd(t, "import", "--data", data, bad)
			if code != 1 || !strings.Contains(errs, tt.want) || !strings.Contains(errs, "nothing changed") {
				t.Fatalf("import: %d %q, want %q", code, errs, tt.want)
			}
			if after := storeState(t, data); after != before {
				t.Fatal("a refused import changed the store")
			}
		})
	}

	// A PBX-only file leaves the call centre as it is, and a call-centre
	// only file the PBX.
	pbxOnly := editJSON(t, "testdata/full.json", filepath.Join(dir, "pbx.json"), func(doc map[string]any) {
		delete(doc, "call_centre")
		doc["extensions"].([]any)[1].(map[string]any)["name"] = "Front desk"
	})
	if code, out, errs := runCmd(t, "import", "--data", data, pbxOnly); code != 0 || strings.Contains(out, "call centre") {
		t.Fatalf("PBX only: %d %q %q", code, out, errs)
	}
	d = exportDoc(t, data)
	if d.PBX.Extensions[1].Name != "Front desk" || len(d.CallCentre.Agents) != 2 || d.CallCentre.Flows[0].Version != 2 {
		t.Fatalf("after a PBX-only import: %+v", d.CallCentre)
	}
	ccOnly := editJSON(t, "testdata/full.json", filepath.Join(dir, "cc.json"), func(doc map[string]any) {
		for k := range doc {
			if k != "call_centre" {
				delete(doc, k)
			}
		}
		doc["call_centre"].(map[string]any)["blacklist"] = []any{}
	})
	if code, out, errs := runCmd(t, "import", "--data", data, ccOnly); code != 0 || strings.Contains(out, "extensions") {
		t.Fatalf("call centre only: %d %q %q", code, out, errs)
	}
	d = exportDoc(t, data)
	if d.PBX.Extensions[1].Name != "Front desk" || len(d.CallCentre.Blacklist) != 0 {
		t.Fatalf("after a call-centre-only import: %+v %+v", d.PBX.Extensions, d.CallCentre.Blacklist)
	}
}

// TestImportHooks: the daemon's Apply sees the checked configuration before
// it is stored, may refuse it (nothing stored), and is undone when storing
// fails.
func TestImportHooks(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "box.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	refused := errors.New("agent 1088 is talking")
	_, err = Import(db, "testdata/full.json", Hooks{Apply: func(c ccconf.Config) (func(*Imported), error) {
		if len(c.Agents) != 2 || c.Agents[0].PIN != "" || c.Agents[0].PINHash == "" {
			t.Errorf("applied %+v", c.Agents)
		}
		return nil, refused
	}})
	if !errors.Is(err, refused) {
		t.Fatalf("refused apply: %v", err)
	}
	if err := db.View(func(tx *store.Tx) error {
		_, ok, err := LoadCallCentre(tx)
		if ok || err != nil {
			t.Errorf("stored after a refusal: %v %v", ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var finished []*Imported
	finish := func(r *Imported) { finished = append(finished, r) }
	r, err := Import(db, "testdata/full.json", Hooks{Apply: func(c ccconf.Config) (func(*Imported), error) { return finish, nil }})
	if err != nil || len(finished) != 1 || finished[0] == nil || len(finished[0].NewFlows) != 2 || len(r.NewFlows) != 2 {
		t.Fatalf("stored import: %v, finished %v", err, finished)
	}
	finished = nil
	_, err = Import(db, "testdata/full.json", Hooks{Apply: func(c ccconf.Config) (func(*Imported), error) {
		db.Close() // the store fails under the import
		return finish, nil
	}})
	if err == nil || len(finished) != 1 || finished[0] != nil {
		t.Fatalf("store failure: %v, finished %v", err, finished)
	}
}

// TestDocument: the combined document round-trips, and its parts parse
// alone.
func TestDocument(t *testing.T) {
	data, err := os.ReadFile("testdata/full.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CallCentre.HashPINs(); err != nil {
		t.Fatal(err)
	}
	doc, err := MarshalDocument(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseDocument(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	again, _ := MarshalDocument(back)
	if string(again) != string(doc) || !strings.HasPrefix(string(doc), "{\n  \"version\": 1,\n  \"extensions\": [") ||
		!strings.Contains(string(doc), "\n  \"call_centre\": {\n    \"version\": 1,") {
		t.Fatalf("round trip:\n%s\n---\n%s", doc, again)
	}
	ccOnly, _ := MarshalDocument(Document{CallCentre: back.CallCentre})
	if d, err := ParseDocument(ccOnly); err != nil || d.PBX != nil || d.CallCentre == nil {
		t.Fatalf("call centre only: %+v %v\n%s", d, err, ccOnly)
	}
	if d, err := ParseDocument([]byte(`{"version": 1, "call_centre": {"version": 1}}`)); err != nil || d.PBX != nil {
		t.Fatalf("version and call centre: %+v %v", d, err)
	}
	for _, tt := range []struct{ doc, want string }{
		{`{"version": 1, "call_centre": {"version": 1}, "extensions": [], "emergency": []}`, "emergency"},
		{`{"version": 1,`, "pbxconf"},
		{`[]`, "pbxconf"},
		{`{"call_centre": {"version": 3}}`, "ccconf: call-centre configuration: version: 3 is not supported"},
	} {
		if _, err := ParseDocument([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// TestSaveFlowsKeepsHistory: a version once stored is never replaced, and
// a flow equal to its latest version adds none.
func TestSaveFlowsKeepsHistory(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "box.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := ivr.ParseFlow([]byte(`{"id": "f", "entry": "a", "nodes": [{"id": "a", "type": "hangup"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	save := func(f *ivr.Flow) (saved []*ivr.Flow) {
		t.Helper()
		err := db.Update(func(tx *store.Tx) error {
			stored, err := LoadFlows(tx)
			if err == nil {
				saved, err = SaveFlows(tx, stored, []*ivr.Flow{f})
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return saved
	}
	if s := save(f); len(s) != 1 || s[0].Version != 1 {
		t.Fatalf("first save %+v", s)
	}
	f.Version = 7 // what a file says its version is does not matter
	if s := save(f); len(s) != 0 {
		t.Fatalf("unchanged flow saved %+v", s)
	}
	f.Name = "renamed"
	if s := save(f); len(s) != 1 || s[0].Version != 2 {
		t.Fatalf("changed flow %+v", s)
	}
	err = db.Update(func(tx *store.Tx) error { return PutFlowVersion(tx, "f", 1, []byte(`{"id":"f"}`)) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("overwriting version 1: %v", err)
	}
}
