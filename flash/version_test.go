package flash

import "testing"

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.2.3", "1.2.3", 0},
		{"v1.2", "1.2.0", 0},
		{"1.2.3", "1.10.0", -1},
		{"2.0", "1.99.99", 1},
		{"v1.2.0-3-gabc123", "1.2.0", 1},
		{"v1.2.0-3-gabc123-dirty", "v1.2.0-4-gdef", -1},
		{"1.2.1", "v1.2.0-30-gabc", 1},
	}
	for _, tc := range tests {
		a, err := ParseVersion(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseVersion(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Compare(b); got != tc.want {
			t.Errorf("%s vs %s: %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for _, bad := range []string{"", "v", "dev", "dc04686", "1..2", "1.2.3.4.5", "01.2", "1.-2", "1.2-x", "1.2-3-gXYZ"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

func TestPolicyDevelopmentBuild(t *testing.T) {
	m := testManifest("1.0.0")
	if err := (Policy{Board: "qemu-armv7", Running: "dev"}).Check(m); err != nil {
		t.Fatalf("a development build refuses a bundle without min_version: %v", err)
	}
	m.MinVersion = "0.1"
	if err := (Policy{Board: "qemu-armv7", Running: "dc04686"}).Check(m); err == nil {
		t.Fatal("a development build installed a bundle that needs 0.1")
	}
}
