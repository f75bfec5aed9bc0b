package pbxconf

import "strings"

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

// Plan is a configuration's outbound dialling rules with every pattern
// compiled, for deciding calls without parsing.
type Plan struct {
	cfg     *Config
	blocked []Pattern
	routes  []planRoute
}

type planRoute struct {
	patterns, blocked []Pattern
}

// Plan compiles c's dialling rules. c must have passed Validate (patterns
// that do not parse are left out). The Plan refers to c's routes: do not
// change c while using it.
func (c *Config) Plan() *Plan {
	p := &Plan{cfg: c, blocked: compile(c.Blocked), routes: make([]planRoute, len(c.Routes))}
	for i, r := range c.Routes {
		p.routes[i] = planRoute{patterns: compile(r.Patterns), blocked: compile(r.Blocked)}
	}
	return p
}

func compile(list []string) []Pattern {
	out := make([]Pattern, 0, len(list))
	for _, s := range list {
		if p, err := ParsePattern(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func matchAny(ps []Pattern, number string) bool {
	for _, p := range ps {
		if p.Match(number) {
			return true
		}
	}
	return false
}

// Route applies the dialling rules to a number dialled by the extension
// from: emergency numbers go to the first route that matches them, whoever
// dials and whatever is blocked (or to the first route when none matches,
// so an emergency call always gets a trunk); other numbers are refused when
// a global blocked pattern matches, otherwise the first matching route
// decides (its allowed list and blocked patterns).
func (p *Plan) Route(from, number string) Outbound {
	c := p.cfg
	emergency := contains(c.Emergency, number)
	if !emergency && matchAny(p.blocked, number) {
		return Outbound{Blocked: true}
	}
	for i := range p.routes {
		pr, r := &p.routes[i], &c.Routes[i]
		if !matchAny(pr.patterns, number) {
			continue
		}
		if !emergency {
			if matchAny(pr.blocked, number) || len(r.Allowed) > 0 && !contains(r.Allowed, from) {
				return Outbound{Blocked: true}
			}
		}
		n := number
		if !emergency {
			n = rewrite(r.Prepend, n[min(r.Strip, len(n)):])
		}
		return Outbound{Route: r, Number: n, Emergency: emergency}
	}
	if emergency && len(c.Routes) > 0 {
		return Outbound{Route: &c.Routes[0], Number: number, Emergency: true}
	}
	return Outbound{Emergency: emergency}
}

// rewrite joins prefix and rest, allocating only when there is a prefix.
func rewrite(prefix, rest string) string {
	if prefix == "" {
		return rest
	}
	var b strings.Builder
	b.Grow(len(prefix) + len(rest))
	b.WriteString(prefix)
	b.WriteString(rest)
	return b.String()
}

// RouteOutbound is c.Plan().Route(from, number): convenient for one
// decision; keep a Plan for many.
func (c *Config) RouteOutbound(from, number string) Outbound {
	return c.Plan().Route(from, number)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
