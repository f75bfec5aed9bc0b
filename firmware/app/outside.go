package app

import (
	"strings"

	"callbox/telephony/pbxconf"
	"callbox/telephony/switch/dialplan"
)

// outsideDialling is what the call centre needs of the PBX configuration
// to reach the world: which trunk an FXO port is (line routes name the
// trunk), and how an outside number is dialled through the outbound routes
// (with a route's access code in front, as an extension would dial it).
type outsideDialling struct {
	lines  map[string]string // "fxo1" -> the trunk's name
	routes []outsideRoute
}

// outsideRoute is an outbound route as the call centre dials through it.
type outsideRoute struct {
	name     string
	patterns []dialplan.Pattern
	// prefix is what the route strips: its access code ("9" of "9X."
	// with strip 1), "" when it takes numbers as they are.
	prefix string
}

func newOutsideDialling(c pbxconf.Config) *outsideDialling {
	o := &outsideDialling{lines: map[string]string{}}
	for _, t := range c.Trunks {
		if t.Kind == pbxconf.KindFXO {
			o.lines[fxoName(t.Port)] = t.Name
		}
	}
	for _, r := range c.Routes {
		or := outsideRoute{name: r.Name}
		for _, p := range r.Patterns {
			pat, err := dialplan.ParsePattern(p)
			if err != nil {
				continue // the PBX configuration's validation names it
			}
			or.patterns = append(or.patterns, pat)
			if r.Strip > 0 && len(p) >= r.Strip && or.prefix == "" && strings.Trim(p[:r.Strip], "0123456789*#") == "" {
				or.prefix = p[:r.Strip]
			}
		}
		o.routes = append(o.routes, or)
	}
	return o
}

// matches reports whether the route takes digits as dialled.
func (r *outsideRoute) matches(digits string) bool {
	for _, p := range r.patterns {
		if full, _ := p.Match(digits); full {
			return true
		}
	}
	return false
}

// dial returns what to dial for number through the route named (any
// route when ""): the number itself when a route takes it so, else with
// the first route's access code that makes it match; the number as it is
// when no route takes it (the switch then says why).
func (o *outsideDialling) dial(number, route string) string {
	for _, withPrefix := range []bool{false, true} {
		for i := range o.routes {
			r := &o.routes[i]
			if route != "" && r.name != route {
				continue
			}
			d := number
			if withPrefix {
				if r.prefix == "" {
					continue
				}
				d = r.prefix + number
			} else if r.prefix != "" {
				continue // the route strips an access code the number lacks
			}
			if r.matches(d) {
				return d
			}
		}
	}
	return number
}

// lineTrunk is cc.Options.LineTrunk: the PBX trunk of an FXO port.
func (t *telephonyRun) lineTrunk(port string) string {
	if o := t.outside.Load(); o != nil {
		if name, ok := o.lines[port]; ok {
			return name
		}
	}
	return port
}

// dialOut is cc.Options.DialOut over the PBX configuration in force.
func (t *telephonyRun) dialOut(number, route string) string {
	if o := t.outside.Load(); o != nil {
		return o.dial(number, route)
	}
	return number
}
