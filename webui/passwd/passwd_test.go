package passwd

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry the expected PHC prefix", h)
	}
	if ok, err := Verify(h, "correct horse"); !ok || err != nil {
		t.Fatalf("Verify(Hash(pw), pw) = %v, %v", ok, err)
	}
	// Mismatches and salt randomness with cheap parameters: under -race and
	// qemu a 19 MiB argon2id takes seconds.
	h, _ = HashParams("correct horse", 64, 1, 1)
	h2, _ := HashParams("correct horse", 64, 1, 1)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"correct horse", true},
		{"correct hors", false},
		{"correct horse ", false},
		{"", false},
		{"Correct horse", false},
		{strings.Repeat("x", MaxPasswordLen+1), false},
	} {
		ok, err := Verify(h, tc.pw)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
}

func TestHashParams(t *testing.T) {
	h, err := HashParams("pw", 64, 1, 2)
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=2$") {
		t.Fatalf("HashParams = %q, %v", h, err)
	}
	if ok, err := Verify(h, "pw"); !ok || err != nil {
		t.Fatalf("Verify(HashParams) = %v, %v", ok, err)
	}
	for _, p := range [][3]uint32{{8, 1, 2}, {64, 0, 1}, {64, 1, 0}, {1 << 30, 1, 1}, {64, 99, 1}} {
		if _, err := HashParams("pw", p[0], p[1], uint8(p[2])); err == nil {
			t.Errorf("HashParams accepted m=%d t=%d p=%d", p[0], p[1], p[2])
		}
	}
}

func TestHashTooLong(t *testing.T) {
	if _, err := Hash(strings.Repeat("x", MaxPasswordLen+1)); err == nil {
		t.Fatal("over-long password hashed")
	}
}

// TestKnownVector checks Verify and our parameters against hashes made by an
// independent implementation, the argon2 reference CLI (Debian package
// argon2), e.g.
//
//	echo -n password | argon2 somesalt -id -t 2 -k 19456 -p 1 -l 32
func TestKnownVector(t *testing.T) {
	for _, tc := range []struct {
		ref, pw string
		want    bool
	}{
		// Our production parameters.
		{"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E", "password", true},
		// Cheap ones, also exercising two lanes and a 16-byte key:
		// echo -n 'correct horse' | argon2 saltsaltsalt -id -t 1 -k 256 -p 2 -l 16
		{"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", "password", true},
		{"$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$FqGkmHNGCd0BRW2kBt6fPZ2pPmyGwwChL8FGUhTOSSI", "Password", false},
		{"$argon2id$v=19$m=256,t=1,p=2$c2FsdHNhbHRzYWx0$I8qlj0SN9CVjcxzGYAY89A", "correct horse", true},
		{"$argon2id$v=19$m=256,t=1,p=2$c2FsdHNhbHRzYWx0$I8qlj0SN9CVjcxzGYAY89A", "correct horse!", false},
	} {
		ok, err := Verify(tc.ref, tc.pw)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%s, %q) = %v, %v; want %v", tc.ref, tc.pw, ok, err, tc.want)
		}
	}
	p, err := parse("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E")
	if err != nil {
		t.Fatal(err)
	}
	if p.memory != memoryKiB || p.passes != passes || p.lanes != lanes || len(p.key) != keyLen {
		t.Errorf("reference parameters %+v differ from the ones Hash uses", p)
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, h := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=19$m=19456,t=2$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=19$m=19456,t=2,p=1$c2E$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E$",
	} {
		if ok, err := Verify(h, "password"); ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformed", h, ok, err)
		}
	}
}

// FuzzParse checks that the parser accepts only canonical strings within the
// bounds: whatever it accepts re-encodes to exactly the input.
func FuzzParse(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E")
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=+8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", err)
			}
			return
		}
		if got := p.encode(); got != s {
			t.Fatalf("parse accepted non-canonical %q (re-encodes as %q)", s, got)
		}
		if p.memory > maxMemoryKiB || p.passes > maxPasses || p.lanes > maxLanes || p.passes == 0 || p.lanes == 0 {
			t.Fatalf("parse accepted out-of-bounds parameters %+v", p)
		}
	})
}

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
