package webui

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthedRequest measures one logged-in API request through the
// whole middleware chain (session lookup, user reload, headers, logging,
// JSON), the per-request overhead every page and API call pays.
func BenchmarkAuthedRequest(b *testing.B) {
	e := newEnv(b, Config{})
	e.users.add(b, "root", RoleAdmin, "root-password")
	ss := e.s.sess.create("root")
	h := e.s.Handler()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/system", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: ss.ID})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/request")
}

// BenchmarkPage measures rendering the dashboard, the heaviest page so far.
func BenchmarkPage(b *testing.B) {
	e := newEnv(b, Config{})
	e.users.add(b, "root", RoleAdmin, "root-password")
	ss := e.s.sess.create("root")
	h := e.s.Handler()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: ss.ID})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/page")
}
