package fax

import (
	"errors"
	"testing"
)

// The mail addresses of the settings are checked, and a received fax goes
// to its number's address, else its trunk's, else "*"'s.
func TestSettingsMail(t *testing.T) {
	base := Settings{Numbers: []string{"7001", "7002"}, Trunks: []string{"faxline"}}
	for _, tc := range []struct {
		name string
		mail map[string]string
		ok   bool
	}{
		{"none", nil, true},
		{"by number, trunk and the rest", map[string]string{"7001": "sales@example.com", "faxline": "ops@example.com", "*": "all@example.com"}, true},
		{"not a fax number", map[string]string{"7003": "sales@example.com"}, false},
		{"not an address", map[string]string{"7001": "sales at example.com"}, false},
		{"a display name", map[string]string{"7001": "Sales <sales@example.com>"}, false},
		{"empty", map[string]string{"7001": ""}, false},
	} {
		st := base
		st.Mail = tc.mail
		err := st.Validate()
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	st := base
	st.Mail = map[string]string{"7001": "sales@example.com", "faxline": "ops@example.com"}
	for _, tc := range []struct {
		r    Record
		want string
	}{
		{Record{To: "7001", Trunk: "faxline"}, "sales@example.com"},
		{Record{To: "7002", Trunk: "faxline"}, "ops@example.com"},
		{Record{To: "7002", Trunk: "other"}, ""},
		{Record{}, ""},
	} {
		if got := st.MailTo(tc.r); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
	st.Mail["*"] = "all@example.com"
	if got := st.MailTo(Record{To: "7002", Trunk: "other"}); got != "all@example.com" {
		t.Errorf("the rest: %q", got)
	}
}
