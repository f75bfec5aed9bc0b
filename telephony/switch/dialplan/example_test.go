package dialplan_test

import (
	"fmt"
	"strings"

	"callbox/telephony/switch/dialplan"
)

// A small office: four extensions, 9 for the PSTN on two lines, mobile
// numbers through a SIP carrier with the company's number as caller ID.
func ExamplePlan_Resolve() {
	p, err := dialplan.New(dialplan.Config{
		Extensions: []string{"201", "202", "203", "204"},
		Routes: []dialplan.Route{
			{Name: "mobile", Patterns: []string{"91[3-9]XXXXXXXXX"}, Strip: 1, CallerID: "01088886666", Trunks: []string{"carrier", "fxo1"}},
			{Name: "pstn", Patterns: []string{"9X."}, Strip: 1, Trunks: []string{"fxo1", "fxo2"}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range []string{"202", "*76", "*72913800138000", "913800138000", "955551234", "110", "900852123456", "91681234567"} {
		d := p.Resolve("201", n)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-16s %-9s %s %v %s %s", n, d.Kind, d.Number, d.Trunks, d.CallerID, d.Reason)))
	}
	// Output:
	// 202              extension 202 []
	// *76              feature    []
	// *72913800138000  feature   913800138000 []
	// 913800138000     outbound  13800138000 [carrier fxo1] 01088886666
	// 955551234        outbound  55551234 [fxo1 fxo2]
	// 110              emergency 110 [carrier fxo1 fxo2]
	// 900852123456     blocked   00852123456 []  blocked pattern 00.
	// 91681234567      blocked   1681234567 []  blocked pattern 168X.
}
