package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"callbox/board"
	"callbox/firmware/cli/configcli"
	"callbox/firmware/store"
	"callbox/telephony/pbxconf"
	"callbox/telephony/switch/dialplan"
	"callbox/webui"
)

// newPBXApp is an App with the sim board and an open store, without the
// rest of the boot (no sockets).
func newPBXApp(t *testing.T, cfg Config) *App {
	t.Helper()
	a, _ := newApp(t, cfg)
	a.board = board.Sim()
	db, err := store.Open(filepath.Join(a.cfg.DataDir, "callbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a.db = db
	return a
}

func storedPBX(t *testing.T, a *App) string {
	t.Helper()
	var doc []byte
	err := a.db.View(func(tx *store.Tx) (err error) { doc, err = tx.PBXConfig(); return err })
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

func writePBX(t *testing.T, c pbxconf.Config) string {
	t.Helper()
	doc, err := pbxconf.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pbx.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPBXDefaultsOnSim(t *testing.T) {
	a := newPBXApp(t, Config{})
	if err := a.startPBXConf(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := pbxconf.Parse([]byte(storedPBX(t, a)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range c.Extensions {
		got = append(got, e.Number+"@"+e.Kind+string(rune('0'+e.Port)))
	}
	if strings.Join(got, " ") != "201@fxs1 202@fxs2 203@fxs3 204@fxs4" {
		t.Fatalf("sim defaults %v", got)
	}
	// A second boot keeps what is stored.
	sys := pbxStore{a}
	if err := sys.PBXDelete(context.Background(), webui.PBXExtensions, "204"); err != nil {
		t.Fatal(err)
	}
	before := storedPBX(t, a)
	if err := a.startPBXConf(context.Background()); err != nil || storedPBX(t, a) != before {
		t.Fatalf("second boot changed the configuration: %v", err)
	}
}

func TestBootImport(t *testing.T) {
	good := pbxconf.Default(2)
	good.Extensions = append(good.Extensions, pbxconf.Extension{Number: "301", Kind: pbxconf.KindSIP, Secret: "agent-secret"})
	a := newPBXApp(t, Config{Import: writePBX(t, good)})
	if err := a.startPBXConf(context.Background()); err != nil {
		t.Fatal(err)
	}
	want, _ := pbxconf.Marshal(good)
	if storedPBX(t, a) != string(want) {
		t.Fatalf("imported %s", storedPBX(t, a))
	}
	// A restart in the same process does not import again over changes.
	if err := (pbxStore{a}).PBXDelete(context.Background(), webui.PBXExtensions, "301"); err != nil {
		t.Fatal(err)
	}
	changed := storedPBX(t, a)
	if err := a.startPBXConf(context.Background()); err != nil || storedPBX(t, a) != changed {
		t.Fatalf("restart imported again: %v", err)
	}
	if err := a.db.Update(func(tx *store.Tx) error { return tx.SetPBXConfig(want) }); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		bad   func(c *pbxconf.Config)
		field string
	}{
		{"invalid secret", func(c *pbxconf.Config) { c.Extensions[2].Secret = "short" }, `extension "301" (extensions[2].secret)`},
		{"port the sim board lacks", func(c *pbxconf.Config) { c.Extensions[1].Port = 5 }, `extension "202" (extensions[1].port)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good.Clone()
			tc.bad(&c)
			a.cfg.Import = writePBX(t, c)
			err := a.startPBXConf(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("import of a bad file: %v, want %s named", err, tc.field)
			}
			if storedPBX(t, a) != string(want) {
				t.Fatal("a refused import changed the store")
			}
		})
	}
}

// TestBootRefusesBadImport boots the whole app with an invalid --import:
// the boot stops naming the component and the field.
func TestBootRefusesBadImport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, []byte(`{"version":1,"emergency":["110"],"extensions":[{"number":"201","kind":"fxs","port":1,"colour":"red"}]}`), 0o600)
	a, _ := newApp(t, Config{Import: path})
	err := a.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "start pbxconf") || !strings.Contains(err.Error(), "colour: unknown field") {
		t.Fatalf("boot with a bad import: %v", err)
	}
}

func jsonField(err error) string {
	var fe interface{ JSONField() string }
	if errors.As(err, &fe) {
		return fe.JSONField()
	}
	return ""
}

// TestPBXAdapter checks the webui.PBX contract on the store: sentinels and
// the field named.
func TestPBXAdapter(t *testing.T) {
	a := newPBXApp(t, Config{})
	ctx := context.Background()
	if err := a.startPBXConf(ctx); err != nil {
		t.Fatal(err)
	}
	var sys webui.PBX = pbxStore{a}
	must := func(raw json.RawMessage, err error) json.RawMessage {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	got := must(sys.PBXCreate(ctx, webui.PBXExtensions, json.RawMessage(`{"number":"301","kind":"sip","secret":"agent-secret"}`)))
	if !strings.Contains(string(got), `"secret":"agent-secret"`) { // webui masks it, the adapter does not
		t.Fatalf("created %s", got)
	}
	must(sys.PBXCreate(ctx, webui.PBXTrunks, json.RawMessage(`{"name":"pstn1","kind":"fxo","port":1,"default":"301"}`)))
	must(sys.PBXCreate(ctx, webui.PBXRoutes, json.RawMessage(`{"name":"out","patterns":["9."],"strip":1,"trunks":["pstn1"]}`)))
	list := must(json.Marshal(must2(t)(sys.PBXList(ctx, webui.PBXExtensions))))
	if n := strings.Count(string(list), `"number"`); n != 5 {
		t.Fatalf("list has %d extensions: %s", n, list)
	}
	upd := must(sys.PBXUpdate(ctx, webui.PBXExtensions, "301", json.RawMessage(`{"number":"301","name":"Li","kind":"sip","secret":"agent-secret","dnd":true}`)))
	if !strings.Contains(string(upd), `"dnd":true`) {
		t.Fatalf("updated %s", upd)
	}

	for _, tc := range []struct {
		name     string
		do       func() error
		sentinel error
		field    string
	}{
		{"duplicate", func() error {
			_, err := sys.PBXCreate(ctx, webui.PBXExtensions, json.RawMessage(`{"number":"201","kind":"fxs","port":1}`))
			return err
		}, webui.ErrConflict, "number"},
		{"port taken", func() error {
			_, err := sys.PBXCreate(ctx, webui.PBXExtensions, json.RawMessage(`{"number":"205","kind":"fxs","port":1}`))
			return err
		}, webui.ErrInvalid, "port"},
		{"port the board lacks", func() error {
			_, err := sys.PBXCreate(ctx, webui.PBXExtensions, json.RawMessage(`{"number":"205","kind":"fxs","port":7}`))
			return err
		}, webui.ErrInvalid, "port"},
		{"unknown field", func() error {
			_, err := sys.PBXCreate(ctx, webui.PBXTrunks, json.RawMessage(`{"name":"x","kind":"fxo","port":2,"hots":"y"}`))
			return err
		}, webui.ErrInvalid, "hots"},
		{"route to an unknown trunk", func() error {
			_, err := sys.PBXCreate(ctx, webui.PBXRoutes, json.RawMessage(`{"name":"r2","patterns":["8."],"trunks":["nope"]}`))
			return err
		}, webui.ErrInvalid, "trunks"},
		{"rename", func() error {
			_, err := sys.PBXUpdate(ctx, webui.PBXExtensions, "301", json.RawMessage(`{"number":"302","kind":"sip","secret":"agent-secret"}`))
			return err
		}, webui.ErrInvalid, "number"},
		{"update missing", func() error {
			_, err := sys.PBXUpdate(ctx, webui.PBXRoutes, "none", json.RawMessage(`{"name":"none"}`))
			return err
		}, webui.ErrNotFound, ""},
		{"delete a trunk a route uses", func() error { return sys.PBXDelete(ctx, webui.PBXTrunks, "pstn1") }, webui.ErrConflict, "trunks"},
		{"delete an extension a trunk rings", func() error { return sys.PBXDelete(ctx, webui.PBXExtensions, "301") }, webui.ErrConflict, "default"},
		{"get missing", func() error { _, err := sys.PBXGet(ctx, webui.PBXTrunks, "x"); return err }, webui.ErrNotFound, ""},
	} {
		before := storedPBX(t, a)
		err := tc.do()
		if !errors.Is(err, tc.sentinel) || jsonField(err) != tc.field {
			t.Errorf("%s: %v (field %q), want %v naming %q", tc.name, err, jsonField(err), tc.sentinel, tc.field)
		}
		if storedPBX(t, a) != before {
			t.Errorf("%s: the refused change was stored", tc.name)
		}
	}
	if err := sys.PBXDelete(ctx, webui.PBXRoutes, "out"); err != nil {
		t.Fatal(err)
	}
	if err := sys.PBXDelete(ctx, webui.PBXTrunks, "pstn1"); err != nil {
		t.Fatal(err)
	}
	c, err := func() (c pbxconf.Config, err error) {
		err = a.db.View(func(tx *store.Tx) (err error) { c, err = configcli.Load(tx); return err })
		return
	}()
	if err != nil || len(c.Trunks) != 0 || len(c.Routes) != 0 || !c.Extensions[4].DND {
		t.Fatalf("final configuration %+v %v", c, err)
	}
}

func must2(t *testing.T) func([]json.RawMessage, error) []json.RawMessage {
	return func(v []json.RawMessage, err error) []json.RawMessage {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestBootImportWithoutBlocked: `callboxd --import` of a file that leaves
// "blocked" out keeps the toll-fraud rules: international and premium-rate
// numbers do not reach the provider through a route that matches anything.
// Only an explicit "blocked": [] opens them, with a warning on the terminal
// and in the log.
func TestBootImportWithoutBlocked(t *testing.T) {
	doc := `{"version": 1,
  "extensions": [{"number": "201", "kind": "fxs", "port": 1}],
  "trunks": [{"name": "provider", "kind": "sip", "host": "sip.example.net"}],
  "routes": [{"name": "any", "patterns": ["X.", "+."], "trunks": ["provider"]}]%s}`
	tollFraud := []string{"0085212345678", "01144201234567", "+85212345678", "1601234567",
		"16812345", "19005551234", "9005551234", "19765551234"}
	for _, tc := range []struct {
		name, extra string
		want        dialplan.Kind
		warn        bool
	}{
		{"no blocked key", ``, dialplan.Blocked, false},
		{"explicitly none", `, "blocked": []`, dialplan.Outbound, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pbx.json")
			if err := os.WriteFile(path, fmt.Appendf(nil, doc, tc.extra), 0o600); err != nil {
				t.Fatal(err)
			}
			a := newPBXApp(t, Config{Import: path})
			var out, logs syncBuffer
			a.cfg.Out, a.log = &out, slog.New(slog.NewTextHandler(&logs, nil))
			if err := a.startPBXConf(context.Background()); err != nil {
				t.Fatal(err)
			}
			plan := storedPlan(t, a)
			reached := 0
			for _, n := range tollFraud {
				d := plan.Resolve("201", n)
				if d.Kind != tc.want {
					t.Errorf("201 dials %s: %v (%s), want %v", n, d.Kind, d.Reason, tc.want)
				}
				if d.Kind == dialplan.Outbound {
					reached++
				}
			}
			t.Logf("%d of %d international and premium-rate numbers reach the provider", reached, len(tollFraud))
			warned := strings.Contains(out.String(), `warning: `+path+`: "blocked" is empty`)
			logged := strings.Contains(logs.String(), `level=WARN msg="pbx configuration: \"blocked\" is empty`)
			if warned != tc.warn || logged != tc.warn {
				t.Errorf("warning on the terminal %v, in the log %v; want %v\n%s\n%s", warned, logged, tc.warn, out.String(), logs.String())
			}
		})
	}
}

// The web API and the configuration export mask secrets alike, so an
// object copied from one into the other keeps its stored secret.
func TestSecretMaskAgrees(t *testing.T) {
	if pbxconf.SecretMask != webui.SecretMask {
		t.Fatalf("pbxconf masks secrets as %q, the web API as %q", pbxconf.SecretMask, webui.SecretMask)
	}
}

// A route's caller_id_override set through the web API's objects is
// stored, shown back and reaches the switch's decision.
func TestRouteCallerIDOverrideThroughAPI(t *testing.T) {
	a := newPBXApp(t, Config{})
	ctx := context.Background()
	if err := a.startPBXConf(ctx); err != nil {
		t.Fatal(err)
	}
	sys := pbxStore{a}
	if _, err := sys.PBXCreate(ctx, webui.PBXTrunks, json.RawMessage(`{"name":"pstn1","kind":"fxo","port":1}`)); err != nil {
		t.Fatal(err)
	}
	_, err := sys.PBXCreate(ctx, webui.PBXRoutes, json.RawMessage(`{"name":"out","patterns":["9X."],"strip":1,"trunks":["pstn1"],"caller_id_override":true}`))
	if !errors.Is(err, webui.ErrInvalid) || jsonField(err) != "caller_id_override" {
		t.Fatalf("override without a caller ID: %v", err)
	}
	got, err := sys.PBXCreate(ctx, webui.PBXRoutes,
		json.RawMessage(`{"name":"out","patterns":["9X."],"strip":1,"trunks":["pstn1"],"caller_id":"02155550100","caller_id_override":true}`))
	if err != nil || !strings.Contains(string(got), `"caller_id_override":true`) {
		t.Fatalf("created %s, %v", got, err)
	}
	if d := storedPlan(t, a).Resolve("201", "955501234"); d.Kind != dialplan.Outbound || d.CallerID != "02155550100" || !d.CallerIDOverride {
		t.Fatalf("decision %+v", d)
	}
}

// storedPlan is the switch's dial plan for the stored configuration, built
// as startTelephony builds it.
func storedPlan(t *testing.T, a *App) *dialplan.Plan {
	t.Helper()
	c, err := a.loadPBX()
	if err != nil {
		t.Fatal(err)
	}
	return dialPBX(t, c)
}
