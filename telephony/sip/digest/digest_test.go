package digest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
)

// Published vectors: RFC 2617 section 3.5 (MD5) and RFC 7616 section 3.9.1
// (MD5 and SHA-256 for the same request).
func TestResponseVectors(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"rfc2617", Input{Algorithm: MD5, Username: "Mufasa", Realm: "testrealm@host.com",
			Password: "Circle Of Life", Method: "GET", URI: "/dir/index.html",
			Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", QOP: "auth", NC: "00000001", CNonce: "0a4f113b"},
			"6629fae49393a05397450978507c4ef1"},
		{"rfc7616-md5", Input{Algorithm: MD5, Username: "Mufasa", Realm: "http-auth@example.org",
			Password: "Circle of Life", Method: "GET", URI: "/dir/index.html",
			Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", QOP: "auth", NC: "00000001",
			CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"},
			"8ca523f5e9506fed4657c9700eebdbec"},
		{"rfc7616-sha256", Input{Algorithm: SHA256, Username: "Mufasa", Realm: "http-auth@example.org",
			Password: "Circle of Life", Method: "GET", URI: "/dir/index.html",
			Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", QOP: "auth", NC: "00000001",
			CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"},
			"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Response(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("Response = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := Response(Input{Algorithm: "SHA-512-256"}); err == nil {
		t.Fatal("unsupported algorithm accepted")
	}
}

// TestAgainstIcholy checks the verifier accepts credentials computed by an
// independent implementation (github.com/icholy/digest, used by sipgo's client).
func TestAgainstIcholy(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	v := NewVerifier([]byte("k"), time.Minute)
	for _, alg := range []Algorithm{MD5, SHA256} {
		for _, qop := range []string{"auth", ""} {
			chal := Challenge{Realm: "callbox", Nonce: v.Nonce(now, "192.0.2.1"), Algorithm: alg, QOP: qop, Opaque: "op"}
			ic, err := icholy.ParseChallenge(chal.String())
			if err != nil {
				t.Fatal(err)
			}
			cred, err := icholy.Digest(ic, icholy.Options{Method: "REGISTER", URI: "sip:callbox", Username: "201", Password: "s3cret"})
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseCredentials(cred.String())
			if err != nil {
				t.Fatalf("%s: parse %q: %v", alg, cred.String(), err)
			}
			// Without qop nothing tells a replay from a new request: refused.
			want := OK
			if qop == "" {
				want = BadResponse
			}
			if r := v.Check(c, "REGISTER", "wrong", "192.0.2.1", now); r != BadResponse {
				t.Errorf("%s qop=%q wrong password: %v", alg, qop, r)
			}
			if r := v.Check(c, "REGISTER", "s3cret", "192.0.2.1", now); r != want {
				t.Errorf("%s qop=%q: %v, want %v", alg, qop, r, want)
			}
			if r := v.Check(c, "REGISTER", "s3cret", "192.0.2.2", now); r != BadNonce {
				t.Errorf("%s qop=%q wrong password: %v", alg, qop, r)
			}
			// And the other way: icholy parses what Answer produces and agrees.
			mine, err := Answer(chal, "201", "s3cret", "REGISTER", "sip:callbox", "abc", 1)
			if err != nil {
				t.Fatal(err)
			}
			ic2, err := icholy.Digest(ic, icholy.Options{Method: "REGISTER", URI: "sip:callbox", Username: "201", Password: "s3cret", Cnonce: "abc", Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			if ic2.Response != mine.Response {
				t.Errorf("%s qop=%q: Answer %s, icholy %s", alg, qop, mine.Response, ic2.Response)
			}
		}
	}
}

func TestVerifier(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	v := NewVerifier([]byte("key"), 30*time.Second)
	other := NewVerifier([]byte("other"), 30*time.Second)
	answer := func(nonce, pass string, nc uint32) Credentials {
		c, err := Answer(Challenge{Realm: "r", Nonce: nonce, Algorithm: SHA256, QOP: "auth"}, "u", pass, "REGISTER", "sip:r", "cn", nc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	n := v.Nonce(t0, "a")
	qopless := answer(n, "pw", 1)
	qopless.QOP, qopless.NC, qopless.CNonce = "", "", ""
	qopless.Response, _ = Response(Input{Algorithm: SHA256, Username: "u", Realm: "r", Password: "pw", Method: "REGISTER", URI: "sip:r", Nonce: n})
	zero := answer(n, "pw", 0)
	steps := []struct {
		name string
		c    Credentials
		at   time.Time
		want Result
	}{
		{"first", answer(n, "pw", 1), t0, OK},
		{"replayed nc", answer(n, "pw", 1), t0, Replay},
		{"next nc", answer(n, "pw", 2), t0.Add(time.Second), OK},
		{"older nc", answer(n, "pw", 1), t0.Add(time.Second), Replay},
		{"wrong password", answer(n, "pw2", 3), t0, BadResponse},
		{"expired", answer(n, "pw", 9), t0.Add(31 * time.Second), Stale},
		{"expired wrong password is not stale", answer(n, "x", 10), t0.Add(31 * time.Second), BadResponse},
		{"foreign nonce", answer(other.Nonce(t0, "a"), "pw", 1), t0, BadNonce},
		{"nonce issued to another address", answer(v.Nonce(t0, "b"), "pw", 1), t0, BadNonce},
		{"right response without qop", qopless, t0, BadResponse},
		{"nonce count zero", zero, t0, BadResponse},
		{"garbage nonce", answer("zz", "pw", 1), t0, BadNonce},
		{"tampered nonce", answer("0"+n[1:], "pw", 1), t0, BadNonce},
	}
	for _, s := range steps {
		if got := v.Check(s.c, "REGISTER", "pw", "a", s.at); got != s.want {
			t.Errorf("%s: %v, want %v", s.name, got, s.want)
		}
	}
	c := answer(v.Nonce(t0, "a"), "pw", 1)
	c.Username = "v"
	if got := v.Check(c, "REGISTER", "pw", "a", t0); got != BadResponse {
		t.Errorf("other user: %v", got)
	}
	c = answer(v.Nonce(t0, "a"), "pw", 1)
	if got := v.Check(c, "INVITE", "pw", "a", t0); got != BadResponse {
		t.Errorf("other method: %v", got)
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		user string
	}{
		{`Digest username="201", realm="callbox", nonce="n", uri="sip:callbox", response="abc", algorithm=MD5, qop=auth, nc=00000001, cnonce="x"`, true, "201"},
		{`digest username="a\"b",realm="r",nonce="n",uri="u",response="r"`, true, `a"b`},
		{`Digest  username = "u" , realm="r", nonce="n", uri="u", response="r"`, true, "u"},
		{`Basic dXNlcg==`, false, ""},
		{`Digestusername="u"`, false, ""},
		{`Digest username="u", realm="r", nonce="n", uri="u"`, false, ""},
		{`Digest username="u, realm="r", nonce="n", uri="u", response="r"`, false, ""},
		{`Digest username="u", realm="r", nonce="n", uri="u", response="r", qop=auth`, false, ""},
		{`Digest username="u", realm="r", nonce="n", uri="u", response="r", qop=auth, nc=1, cnonce="c"`, false, ""},
		{`Digest username="u", username="v", realm="r", nonce="n", uri="u", response="r"`, false, ""},
		{`Digest username="u" realm="r"`, false, ""},
	}
	for _, tt := range tests {
		c, err := ParseCredentials(tt.in)
		if (err == nil) != tt.ok || tt.ok && c.Username != tt.user {
			t.Errorf("ParseCredentials(%q) = %+v, %v", tt.in, c, err)
		}
	}
}

func TestChallengeRoundTrip(t *testing.T) {
	c := Challenge{Realm: `we "quote"`, Nonce: "abc", Opaque: "o", Algorithm: SHA256, QOP: "auth", Stale: true}
	got, err := ParseChallenge(c.String())
	if err != nil || got != c {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
}

func FuzzParseCredentials(f *testing.F) {
	f.Add(`Digest username="201", realm="callbox", nonce="n", uri="sip:callbox", response="abc", algorithm=MD5, qop=auth, nc=00000001, cnonce="x"`)
	f.Add(`Digest username="a\"b",realm="r",nonce="n",uri="u",response="r"`)
	f.Add(`Digest username="u", realm="r"`)
	f.Add("Digest ,,,=")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredentials(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "digest: ") {
				t.Fatalf("error not prefixed: %v", err)
			}
			return
		}
		// Whatever parses must render to a header that parses to the same thing.
		again, err := ParseCredentials(c.String())
		if err != nil {
			t.Fatalf("re-parse %q: %v", c.String(), err)
		}
		if again != c {
			t.Fatalf("round trip changed %+v into %+v", c, again)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	v := NewVerifier([]byte("k"), time.Hour)
	for _, alg := range []Algorithm{MD5, SHA256} {
		b.Run(string(alg), func(b *testing.B) {
			n := v.Nonce(now, "a")
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c, _ := Answer(Challenge{Realm: "r", Nonce: n, Algorithm: alg, QOP: "auth"}, "u", "p", "REGISTER", "sip:r", "c", uint32(i+1))
				if r := v.Check(c, "REGISTER", "p", "a", now); r != OK {
					b.Fatal(fmt.Sprint(r))
				}
			}
		})
	}
}

// TestVerifierForgets checks expired nonces do not pile up.
func TestVerifierForgets(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	v := NewVerifier([]byte("k"), time.Minute)
	check := func(at time.Time) {
		c, err := Answer(Challenge{Realm: "r", Nonce: v.Nonce(at, "a"), QOP: "auth"}, "u", "p", "REGISTER", "sip:r", "c", 1)
		if err != nil {
			t.Fatal(err)
		}
		if r := v.Check(c, "REGISTER", "p", "a", at); r != OK {
			t.Fatal(r)
		}
	}
	for range 1000 {
		check(t0)
	}
	if n := v.tracked(); n != 1000 {
		t.Fatalf("tracking %d", n)
	}
	for range 100 {
		check(t0.Add(2 * time.Minute))
	}
	if n := v.tracked(); n >= 1000 {
		t.Fatalf("expired nonces kept: %d", n)
	}
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(`Digest realm="callbox", nonce="abc", algorithm=SHA-256, qop="auth", stale=true`)
	f.Add(`Digest realm="a\"b", nonce="", opaque="o"`)
	f.Add(`Digest nonce=x`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseChallenge(s)
		if err != nil {
			return
		}
		if !isToken(string(c.Algorithm)) {
			return // rendered unquoted; not round-trippable by design
		}
		again, err := ParseChallenge(c.String())
		if err != nil || again != c {
			t.Fatalf("round trip %+v -> %+v, %v", c, again, err)
		}
	})
}

func TestFresh(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	v := NewVerifier([]byte("key"), 30*time.Second)
	n := v.Nonce(t0, "192.0.2.1")
	tests := []struct {
		name, nonce, bind string
		at                time.Time
		want              Result
	}{
		{"fresh", n, "192.0.2.1", t0.Add(29 * time.Second), OK},
		{"expired", n, "192.0.2.1", t0.Add(31 * time.Second), Stale},
		{"from the future", n, "192.0.2.1", t0.Add(-2 * time.Minute), Stale},
		{"other address", n, "192.0.2.2", t0, BadNonce},
		{"made up", "0123456789abcdef0123456789abcdef0123456789abcdef01234567", "192.0.2.1", t0, BadNonce},
		{"not hex", strings.Repeat("z", 56), "192.0.2.1", t0, BadNonce},
		{"empty", "", "192.0.2.1", t0, BadNonce},
	}
	for _, tt := range tests {
		if got := v.Fresh(tt.nonce, tt.bind, tt.at); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestVerifierOverflowKeepsReplaysOut fills the nonce-count table past its
// cap: the counts it forgets must not become usable again.
func TestVerifierOverflowKeepsReplaysOut(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	v := NewVerifier([]byte("k"), time.Hour)
	first, err := Answer(Challenge{Realm: "r", Nonce: v.Nonce(t0, "a"), QOP: "auth"}, "u", "p", "REGISTER", "sip:r", "c", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := v.Check(first, "REGISTER", "p", "a", t0); r != OK {
		t.Fatal(r)
	}
	for i := range maxTracked + 10 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		c, _ := Answer(Challenge{Realm: "r", Nonce: v.Nonce(at, "a"), QOP: "auth"}, "u", "p", "REGISTER", "sip:r", "c", 1)
		v.Check(c, "REGISTER", "p", "a", at)
	}
	if n := v.tracked(); n > maxTracked {
		t.Fatalf("tracking %d counts, cap %d", n, maxTracked)
	}
	if r := v.Check(first, "REGISTER", "p", "a", t0.Add(time.Minute)); r == OK {
		t.Fatal("a forgotten nonce count was accepted again")
	}
	// Clients then get a fresh nonce and go on.
	now := t0.Add(time.Minute)
	c, _ := Answer(Challenge{Realm: "r", Nonce: v.Nonce(now.Add(time.Millisecond), "a"), QOP: "auth"}, "u", "p", "REGISTER", "sip:r", "c", 1)
	if r := v.Check(c, "REGISTER", "p", "a", now.Add(time.Millisecond)); r != OK {
		t.Fatalf("fresh nonce after the overflow: %v", r)
	}
}
