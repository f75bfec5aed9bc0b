package pin

import (
	"strings"
	"testing"
)

func init() { Params.Memory, Params.Passes = 64, 1 }

func TestHashCheck(t *testing.T) {
	h, err := Hash("1234")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "1234") || !Check(h, "1234") || Check(h, "1235") || Check(h, "12345") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := Hash("1234")
	if h2 == h {
		t.Fatal("two hashes of one PIN are equal: no salt")
	}
	for _, bad := range []string{"", "123", "123456789", "12a4", "１２３４"} {
		if _, err := Hash(bad); err == nil || Valid(bad) {
			t.Errorf("%q taken", bad)
		}
	}
}

// FuzzCheck: a stored hash is data from the store: whatever it holds,
// Check does not panic, and a hash that matches a PIN matches no other.
func FuzzCheck(f *testing.F) {
	h, _ := Hash("2468")
	f.Add(h, "2468")
	f.Add("$argon2id$v=19$m=999999999,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "0000")
	f.Add("", "1234")
	f.Fuzz(func(t *testing.T, hash, p string) {
		if !Check(hash, p) {
			return
		}
		other := p[:len(p)-1] + string('0'+(p[len(p)-1]-'0'+1)%10)
		if Check(hash, other) {
			t.Fatalf("%q matches %q and %q", hash, p, other)
		}
	})
}
