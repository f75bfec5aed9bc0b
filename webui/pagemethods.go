package webui

import (
	"fmt"
	"reflect"

	"callbox/webui/internal/htmlpage"
)

// The templates' method calls. The page renderer calls no method by name
// (that would keep every exported method of the binary linked), so each
// type a template calls methods on lists them here, in a switch.

// CallMethod offers pageData's methods to the templates.
func (p *pageData) CallMethod(name string, args []any) (any, bool, error) {
	switch name {
	case "T":
		key, err := stringArg(name, args, 0)
		if err != nil {
			return nil, true, err
		}
		return p.T(key, args[1:]...), true, nil
	case "IsAdmin", "IsSupervisor", "HasRecords", "HasFax", "HasSim", "Pending", "Nav", "JSMessages", "Live":
		if len(args) != 0 {
			return nil, true, fmt.Errorf("webui: %s takes no arguments", name)
		}
		return p.noArgMethod(name), true, nil
	case "Static", "PortName", "PortKind", "PortState", "AgentState", "BreakReason":
		if len(args) != 1 {
			return nil, true, fmt.Errorf("webui: %s takes one argument", name)
		}
		s, err := stringArg(name, args, 0)
		if err != nil {
			return nil, true, err
		}
		return p.stringMethod(name, s), true, nil
	case "Region":
		c, ok := argAt(args, 0).(*DeskCall)
		if !ok || len(args) != 1 {
			return nil, true, fmt.Errorf("webui: Region takes a *DeskCall")
		}
		return p.Region(c), true, nil
	}
	return nil, false, nil
}

func (p *pageData) noArgMethod(name string) any {
	switch name {
	case "IsAdmin":
		return p.IsAdmin()
	case "IsSupervisor":
		return p.IsSupervisor()
	case "HasRecords":
		return p.HasRecords()
	case "HasFax":
		return p.HasFax()
	case "HasSim":
		return p.HasSim()
	case "Pending":
		return p.Pending()
	case "Nav":
		return p.Nav()
	case "JSMessages":
		return p.JSMessages()
	}
	return p.Live()
}

func (p *pageData) stringMethod(name, s string) string {
	switch name {
	case "Static":
		return p.Static(s)
	case "PortName":
		return p.PortName(s)
	case "PortKind":
		return p.PortKind(s)
	case "PortState":
		return p.PortState(s)
	case "AgentState":
		return p.AgentState(s)
	}
	return p.BreakReason(s)
}

// CallMethod offers CommTypeName to the desk's template.
func (d *deskCustomer) CallMethod(name string, args []any) (any, bool, error) {
	if name != "CommTypeName" {
		return nil, false, nil
	}
	v := reflect.ValueOf(argAt(args, 0))
	if !v.CanUint() || len(args) != 1 {
		return nil, true, fmt.Errorf("webui: CommTypeName takes an unsigned id")
	}
	return d.CommTypeName(v.Uint()), true, nil
}

// CallMethod offers HasPages and PageNumbers to the fax page.
func (f faxView) CallMethod(name string, args []any) (any, bool, error) {
	switch name {
	case "HasPages":
		return f.HasPages(), true, nil
	case "PageNumbers":
		return f.PageNumbers(), true, nil
	}
	return nil, false, nil
}

var _ = []htmlpage.MethodCaller{(*pageData)(nil), (*deskCustomer)(nil), faxView{}}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

// stringArg reads argument i as a string (of any string type).
func stringArg(method string, args []any, i int) (string, error) {
	a := argAt(args, i)
	if s, ok := a.(string); ok {
		return s, nil
	}
	if v := reflect.ValueOf(a); v.Kind() == reflect.String {
		return v.String(), nil
	}
	return "", fmt.Errorf("webui: %s: argument %d is %T, not a string", method, i+1, a)
}
