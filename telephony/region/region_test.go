package region

import (
	"strings"
	"testing"
)

// TestTable: the built-in table parses, has a few hundred areas in every
// province of the mainland, no code twice and no code that is the prefix
// of another (a number would then match two areas).
func TestTable(t *testing.T) {
	areas, err := parse(areacodesTxt)
	if err != nil {
		t.Fatal(err)
	}
	if len(areas) < 300 {
		t.Fatalf("only %d areas", len(areas))
	}
	seen := map[string]bool{}
	provinces := map[string]bool{}
	for _, a := range areas {
		if seen[a.Code] {
			t.Errorf("%s listed twice", a.Code)
		}
		seen[a.Code] = true
		provinces[a.Province+"/"+a.ProvinceEN] = true
		if (a.City == "") != (a.CityEN == "") {
			t.Errorf("%s: city %q / %q", a.Code, a.City, a.CityEN)
		}
		for _, s := range []string{a.City, a.CityEN, a.Province, a.ProvinceEN} {
			if strings.TrimSpace(s) != s {
				t.Errorf("%s: stray spaces in %q", a.Code, s)
			}
		}
	}
	for _, a := range areas {
		for _, b := range areas {
			if a.Code != b.Code && strings.HasPrefix(b.Code, a.Code) {
				t.Errorf("%s is a prefix of %s", a.Code, b.Code)
			}
		}
	}
	// 22 provinces, 5 autonomous regions, 4 municipalities.
	if len(provinces) != 31 {
		t.Errorf("%d provinces: %v", len(provinces), provinces)
	}
	if len(Areas()) != len(areas) {
		t.Errorf("Areas() has %d of %d", len(Areas()), len(areas))
	}
}

func TestParseRefuses(t *testing.T) {
	for _, bad := range []string{
		"025\t南京\tNanjing\n",                          // before a province
		"province\t江苏\tJiangsu\n25\t南京\tNanjing\n",    // no trunk prefix
		"province\t江苏\tJiangsu\n00025\t南京\tNanjing\n", // too long
		"province\t江苏\n",                              // two fields
		"province\t江苏\tJiangsu\n025 南京 Nanjing\n",     // spaces, not tabs
	} {
		if _, err := parse(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestByCode(t *testing.T) {
	tests := []struct{ code, city, cityEN, prov string }{
		{"025", "南京", "Nanjing", "江苏"},
		{"25", "南京", "Nanjing", "江苏"},
		{"010", "北京", "Beijing", "北京"},
		{"0512", "苏州", "Suzhou", "江苏"},
		{"0557", "宿州", "Suzhou", "安徽"},
		{"0755", "深圳", "Shenzhen", "广东"},
		{"0991", "乌鲁木齐", "Ürümqi", "新疆"},
		{"0898", "", "", "海南"},
	}
	for _, tt := range tests {
		a, ok := ByCode(tt.code)
		if !ok || a.City != tt.city || a.CityEN != tt.cityEN || a.Province != tt.prov {
			t.Errorf("%s: %+v %v", tt.code, a, ok)
		}
	}
	if _, ok := ByCode("0200"); ok {
		t.Error("0200 found")
	}
	a, _ := ByCode("025")
	b, _ := ByCode("0898")
	if a.Name("zh-CN") != "南京" || a.Name("en") != "Nanjing" || b.Name("zh") != "海南" || b.Name("en") != "Hainan" {
		t.Errorf("names %q %q %q %q", a.Name("zh-CN"), a.Name("en"), b.Name("zh"), b.Name("en"))
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		in       string
		kind     Kind
		national string
		code     string // "" when no known area
	}{
		{"02583201234", Landline, "02583201234", "025"},
		{"025-8320 1234", Landline, "02583201234", "025"},
		{"+86 25 8320 1234", Landline, "02583201234", "025"},
		{"0086-25-83201234", Landline, "02583201234", "025"},
		{"+86 (0)25 8320 1234", Landline, "02583201234", "025"},
		{"00860000000000", Unknown, "00860000000000", ""},
		{"+86", Unknown, "+86", ""},
		{"(010) 6552 9988", Landline, "01065529988", "010"},
		{"051265001234", Landline, "051265001234", "0512"},
		{"+86 512 6500 1234", Landline, "051265001234", "0512"},
		{"0851-8582 1234", Landline, "085185821234", "0851"},
		{"08528221234", Landline, "08528221234", ""}, // Zunyi's old code: a landline, area unknown
		{"13800138000", Mobile, "13800138000", ""},
		{"+86 138 0013 8000", Mobile, "13800138000", ""},
		{"008613800138000", Mobile, "13800138000", ""},
		{"8613800138000", Mobile, "13800138000", ""},
		{"19912345678", Mobile, "19912345678", ""},
		{"12345678901", Local, "12345678901", ""},
		{"4008123123", Service, "4008123123", ""},
		{"+86 400 812 3123", Service, "4008123123", ""},
		{"8008101234", Service, "8008101234", ""},
		{"+1 415 555 0100", International, "+14155550100", ""},
		{"0044 20 7946 0000", International, "+442079460000", ""},
		{"83201234", Local, "83201234", ""},
		{"201", Local, "201", ""},
		{"025", Unknown, "025", ""},
		{"", Unknown, "", ""},
		{"+", Unknown, "+", ""},
		{"abc", Unknown, "abc", ""},
		{"02+5", Unknown, "02+5", ""},
	}
	for _, tt := range tests {
		got := Lookup(tt.in)
		if got.Kind != tt.kind || got.National != tt.national || got.Known != (tt.code != "") || got.Area.Code != tt.code {
			t.Errorf("Lookup(%q) = %+v, want %s %q %q", tt.in, got, tt.kind, tt.national, tt.code)
		}
	}
	if National("+86 25 8320 1234") != National("025-83201234") {
		t.Error("National forms differ")
	}
}

func TestPrefixes(t *testing.T) {
	got := Prefixes("025")
	want := []string{"025", "+8625", "008625"}
	if strings.Join(got, ",") != strings.Join(want, ",") || strings.Join(Prefixes("25"), ",") != strings.Join(want, ",") {
		t.Fatalf("%q", got)
	}
	// Every form Lookup accepts for a Nanjing number starts with one of them.
	for _, n := range []string{"02583201234", "+862583201234", "00862583201234"} {
		ok := false
		for _, p := range got {
			ok = ok || strings.HasPrefix(n, p)
		}
		if !ok {
			t.Errorf("%s matches no prefix", n)
		}
	}
}

// FuzzLookup: any input gives an answer; the national form is stable
// (looking it up again gives the same kind, form and area).
func FuzzLookup(f *testing.F) {
	for _, s := range []string{"02583201234", "+86 25 8320 1234", "008613800138000", "4008123123", "+14155550100", "201", "", "+", "0086", "00", "+8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n string) {
		a := Lookup(n)
		if a.Kind == Unknown {
			return
		}
		b := Lookup(a.National)
		if b.Kind != a.Kind || b.National != a.National || b.Area != a.Area || b.Known != a.Known {
			t.Fatalf("Lookup(%q) = %+v, then Lookup(%q) = %+v", n, a, a.National, b)
		}
		if a.Known && (a.Kind != Landline || !strings.HasPrefix(a.National, a.Area.Code)) {
			t.Fatalf("Lookup(%q) = %+v", n, a)
		}
	})
}
