package ivr

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestNetHTTPLookup runs http nodes through NetHTTP against a real HTTP
// server on loopback: the query escaping, the POST body, the timeout, a
// failing status and an oversized answer.
func TestNetHTTPLookup(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a loopback socket")
	}
	var gotPost map[string]string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customer", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("phone") != "+86 138&x=1" {
			http.Error(w, "bad phone "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"customer":{"level":"vip","name":"李四","balance":12.5}}`)
	})
	mux.HandleFunc("POST /ticket", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "not json", http.StatusUnsupportedMediaType)
			return
		}
		json.NewDecoder(r.Body).Decode(&gotPost)
		io.WriteString(w, `{"ticket":{"id":"T-42"}}`)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /huge", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"a":"`+strings.Repeat("x", 2048)+`"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	flow := func(path, method, body string, timeout string) string {
		b := ""
		if body != "" {
			b = `,"body":` + body
		}
		return `{"id":"f","entry":"h","nodes":[
			{"id":"h","type":"http","method":"` + method + `","url":"` + srv.URL + path + `"` + b + `,
			 "timeout":"` + timeout + `","results":{"level":"customer.level","name":"customer.name",
			 "balance":"customer.balance","ticket":"ticket.id"},"next":"ok","error":"bad"},
			{"id":"ok","type":"hangup","prompt":"ok"},
			{"id":"bad","type":"hangup","prompt":"bad"}]}`
	}
	tests := []struct {
		name   string
		flow   string
		prompt string
		vars   map[string]string
	}{
		{"GET with escaped variable", flow("/customer?phone=${caller}", "GET", "", "2s"), "ok",
			map[string]string{"level": "vip", "name": "李四", "balance": "12.5", "ticket": ""}},
		{"POST with JSON body", flow("/ticket", "POST", `{"from":"${caller}"}`, "2s"), "ok",
			map[string]string{"ticket": "T-42"}},
		{"timeout", flow("/slow", "GET", "", "200ms"), "bad", nil},
		{"status 500", flow("/broken", "GET", "", "2s"), "bad", nil},
		{"answer too large", flow("/huge", "GET", "", "2s"), "bad", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := repoOf(t, tt.flow)
			e := &Engine{Flows: repo, HTTP: NetHTTP{MaxBody: 1024}}
			call := &scriptedCall{}
			start := time.Now()
			res, err := e.Run(context.Background(), call, Request{Flow: "f", Caller: "+86 138&x=1"})
			if err != nil {
				t.Fatal(err)
			}
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if want := []string{"play " + tt.prompt, "hangup"}; !reflect.DeepEqual(call.log, want) {
				t.Errorf("actions %q, want %q (failures %v)", call.log, want, res.Failures)
			}
			for k, v := range tt.vars {
				if res.Vars[k] != v {
					t.Errorf("var %s = %q, want %q", k, res.Vars[k], v)
				}
			}
		})
	}
	if gotPost["from"] != "+86 138&x=1" {
		t.Errorf("POST body %v", gotPost)
	}
}

func TestJSONPath(t *testing.T) {
	var doc any
	dec := json.NewDecoder(strings.NewReader(`{"a":{"b":[10,{"c":"x"},true,null,{"d":1}]},"n":1e3}`))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"a.b.0", "10", true},
		{"a.b.1.c", "x", true},
		{"a.b.2", "true", true},
		{"a.b.3", "", true},
		{"a.b.4", `{"d":1}`, true},
		{"n", "1e3", true},
		{"a.b.5", "", false},
		{"a.b.x", "", false},
		{"a.b.-1", "", false},
		{"a.c", "", false},
		{"n.x", "", false},
	}
	for _, tt := range tests {
		got, ok := jsonPath(doc, tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: %q %v, want %q %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTemplate(t *testing.T) {
	vars := map[string]string{"a": "1", "b.c": "two words"}
	look := func(k string) string { return vars[k] }
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${a}", "1"},
		{"x${a}y${b.c}z", "x1ytwo wordsz"},
		{"${missing}", ""},
		{"$$${a}", "$1"},
		{"cost $5", "cost $5"},
		{"end$", "end$"},
		{"${a", "${a"},
	}
	for _, tt := range tests {
		if got := expand(tt.in, look, nil); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := expand("?q=${b.c}", look, strings.ToUpper); got != "?q=TWO WORDS" {
		t.Errorf("escape not applied: %q", got)
	}
	for _, bad := range []string{"${a", "${}", "${a b}", "${9}"} {
		if checkTemplate(bad) == nil {
			t.Errorf("checkTemplate(%q) accepted", bad)
		}
	}
	for _, good := range []string{"", "$", "$$", "${a}${b.c}", "a$b"} {
		if err := checkTemplate(good); err != nil {
			t.Errorf("checkTemplate(%q): %v", good, err)
		}
	}
}

func TestClip(t *testing.T) {
	s := strings.Repeat("张", 400) // 1200 bytes
	c := clip(s)
	if len(c) > maxVarLen || !strings.HasPrefix(s, c) || len(c)%3 != 0 {
		t.Fatalf("clip gave %d bytes", len(c))
	}
}
