package sms_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"callbox/telephony/sms"
)

// refCase is one input of testdata/refpdu.py.
type refCase struct {
	Number string `json:"number"`
	Text   string `json:"text"`
	Ref    int    `json:"ref"`
	Report bool   `json:"report"`
	Time   string `json:"time"`
}

type refOut struct {
	Coding string   `json:"coding"`
	Parts  []string `json:"parts"`
	Submit []struct {
		Hex string `json:"hex"`
		Len int    `json:"len"`
	} `json:"submit"`
	Deliver []string `json:"deliver"`
}

// referencePDUs runs the independent Python encoder on cases.
func referencePDUs(t testing.TB, cases []refCase) []refOut {
	t.Helper()
	if testing.Short() {
		t.Skip("starts python3")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed for the reference encoder (Debian package python3)")
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(py, "testdata/refpdu.py")
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("refpdu.py: %v", err)
	}
	var res []refOut
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("refpdu.py output: %v", err)
	}
	return res
}

func TestAgainstReferenceEncoder(t *testing.T) {
	texts := []string{
		"hellohello", "", "@£$¥ {braces} [brackets] €uro ~tilde~ |pipe| \\back\\ ^caret^",
		strings.Repeat("a", 160), strings.Repeat("a", 161), strings.Repeat("b", 152) + "€" + strings.Repeat("c", 20),
		"您好", strings.Repeat("客", 70), strings.Repeat("服", 71), strings.Repeat("x", 66) + "😀yz",
		strings.Repeat("尊敬的客户：您报修的故障已派工，抢修人员预计30分钟内到达现场。", 6),
		strings.Repeat("Your work order 1024 was dispatched; the crew will arrive within 30 minutes. ", 5),
	}
	var cases []refCase
	for i, text := range texts {
		num := "+8613800138000"
		if i%2 == 1 {
			num = "10086"
		}
		cases = append(cases, refCase{Number: num, Text: text, Ref: 7 + i, Report: i%3 == 0, Time: "2026-03-01T09:30:15+08:00"})
	}
	ref := referencePDUs(t, cases)
	at := time.Date(2026, 3, 1, 9, 30, 15, 0, time.FixedZone("", 8*3600))
	for i, c := range cases {
		pdus, err := sms.Encode(c.Number, c.Text, sms.Options{Ref: uint8(c.Ref), StatusReport: c.Report})
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if len(pdus) != len(ref[i].Submit) {
			t.Fatalf("case %d: %d parts, reference %d", i, len(pdus), len(ref[i].Submit))
		}
		for k, p := range pdus {
			if p.Hex != ref[i].Submit[k].Hex || p.TPDULen != ref[i].Submit[k].Len {
				t.Errorf("case %d part %d:\n ours %s (%d)\n  ref %s (%d)", i, k, p.Hex, p.TPDULen, ref[i].Submit[k].Hex, ref[i].Submit[k].Len)
			}
		}
		// Our decoder on the reference's deliver PDUs, and our deliver
		// encoder against the reference's.
		ours, err := sms.EncodeDeliver(c.Number, c.Text, at, uint8(c.Ref))
		if err != nil {
			t.Fatal(err)
		}
		var j sms.Joiner
		for k, h := range ref[i].Deliver {
			if ours[k] != h {
				t.Errorf("case %d deliver part %d:\n ours %s\n  ref %s", i, k, ours[k], h)
			}
			m, err := sms.Decode(h)
			if err != nil {
				t.Fatalf("case %d: decode reference deliver: %v", i, err)
			}
			if m.Number != c.Number || !m.Time.Equal(at) || m.Coding.String() != ref[i].Coding {
				t.Errorf("case %d: decoded %+v", i, m)
			}
			if got, done := j.Add(m, k); done && got.Text != c.Text {
				t.Errorf("case %d: joined %q", i, got.Text)
			}
		}
	}
}
