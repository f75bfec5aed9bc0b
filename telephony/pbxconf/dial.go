package pbxconf

// Outbound is the decision for a number an extension dials to the outside.
type Outbound struct {
	Route  *Route // nil when refused or unrouted
	Number string // the number sent to the trunks (after strip and prepend)
	// Emergency is set for emergency numbers: never refused.
	Emergency bool
	// Blocked is set when a blocked pattern (global or the route's) or the
	// route's allowed list refuses the call.
	Blocked bool
}

// RouteOutbound applies the dialling rules to a number dialled by the
// extension from: emergency numbers go to the first route that matches
// them, whoever dials and whatever is blocked (or to the first route when
// none matches, so an emergency call always gets a trunk); other numbers
// are refused when a global blocked pattern matches, otherwise the first
// matching route decides (its allowed list and blocked patterns).
func (c *Config) RouteOutbound(from, number string) Outbound {
	emergency := false
	for _, e := range c.Emergency {
		if e == number {
			emergency = true
		}
	}
	if !emergency && MatchAny(c.Blocked, number) {
		return Outbound{Blocked: true}
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		if !MatchAny(r.Patterns, number) {
			continue
		}
		if !emergency {
			if MatchAny(r.Blocked, number) || len(r.Allowed) > 0 && !contains(r.Allowed, from) {
				return Outbound{Blocked: true}
			}
		}
		n := number
		if !emergency {
			n = r.Prepend + n[min(r.Strip, len(n)):]
		}
		return Outbound{Route: r, Number: n, Emergency: emergency}
	}
	if emergency && len(c.Routes) > 0 {
		return Outbound{Route: &c.Routes[0], Number: number, Emergency: true}
	}
	return Outbound{Emergency: emergency}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
