package htmlpage

import (
	"fmt"
	"reflect"
	"text/template/parse"
)

// builtin is a function every template has; it evaluates its own
// arguments (and and or stop at the first that decides).
type builtin func(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error)

var builtins map[string]builtin

// builtinNames are the builtins, for the parser.
var builtinNames = []string{"and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index", "slice", "print", "printf", "println"}

func init() {
	builtins = map[string]builtin{
		"and": andOr(false), "or": andOr(true), "not": notFn, "len": lenFn, "index": indexFn, "slice": sliceFn,
		"print": printFn(fmt.Sprint), "println": printFn(fmt.Sprintln), "printf": printfFn,
		"eq": compare(func(c int, eq bool) bool { return eq }, true, false),
		"ne": compare(func(c int, eq bool) bool { return !eq }, false, false),
		"lt": compare(func(c int, eq bool) bool { return c < 0 }, false, true),
		"le": compare(func(c int, eq bool) bool { return c <= 0 }, false, true),
		"gt": compare(func(c int, eq bool) bool { return c > 0 }, false, true),
		"ge": compare(func(c int, eq bool) bool { return c >= 0 }, false, true),
	}
}

// values evaluates every argument.
func (s *exec) values(dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) ([]reflect.Value, error) {
	out := make([]reflect.Value, 0, len(args)+1)
	for _, a := range args {
		v, err := s.arg(dot, a)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if hasFinal {
		out = append(out, final)
	}
	return out, nil
}

// andOr returns the first falsy (and) or truthy (or) argument, or the last.
func andOr(or bool) builtin {
	return func(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
		n := len(args)
		if hasFinal {
			n++
		}
		if n == 0 {
			return reflect.Value{}, s.errorf("and/or: no arguments")
		}
		var v reflect.Value
		for i := range n {
			if i < len(args) {
				var err error
				if v, err = s.arg(dot, args[i]); err != nil {
					return v, err
				}
			} else {
				v = final
			}
			if truth(v) == or {
				return v, nil
			}
		}
		return v, nil
	}
}

func notFn(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	vs, err := s.values(dot, args, final, hasFinal)
	if err != nil {
		return reflect.Value{}, err
	}
	if len(vs) != 1 {
		return reflect.Value{}, s.errorf("not: want 1 argument, got %d", len(vs))
	}
	return reflect.ValueOf(!truth(vs[0])), nil
}

func lenFn(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	vs, err := s.values(dot, args, final, hasFinal)
	if err != nil {
		return reflect.Value{}, err
	}
	if len(vs) != 1 {
		return reflect.Value{}, s.errorf("len: want 1 argument, got %d", len(vs))
	}
	v := indirect(vs[0])
	switch v.Kind() {
	case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
		return reflect.ValueOf(v.Len()), nil
	}
	return reflect.Value{}, s.errorf("len of type %s", typeName(v))
}

func typeName(v reflect.Value) string {
	if !v.IsValid() {
		return "nil"
	}
	return v.Type().String()
}

// indirect follows pointers and interfaces.
func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return v
		}
		v = v.Elem()
	}
	return v
}

// intIndex reads an index argument.
func intIndex(v reflect.Value) (int, bool) {
	v = indirect(v)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int(v.Uint()), true
	}
	return 0, false
}

func indexFn(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	vs, err := s.values(dot, args, final, hasFinal)
	if err != nil {
		return reflect.Value{}, err
	}
	if len(vs) == 0 {
		return reflect.Value{}, s.errorf("index: no arguments")
	}
	v := indirect(vs[0])
	if !v.IsValid() {
		return reflect.Value{}, s.errorf("index of untyped nil")
	}
	for _, k := range vs[1:] {
		v = indirect(v)
		switch v.Kind() {
		case reflect.Array, reflect.Slice, reflect.String:
			i, ok := intIndex(k)
			if !ok {
				return reflect.Value{}, s.errorf("cannot index slice/array with type %s", typeName(k))
			}
			if i < 0 || i >= v.Len() {
				return reflect.Value{}, s.errorf("index out of range: %d", i)
			}
			v = v.Index(i)
		case reflect.Map:
			kv, err := s.validate(v.Type().Key(), indirectInterface(k))
			if err != nil {
				return reflect.Value{}, err
			}
			if r := v.MapIndex(kv); r.IsValid() {
				v = r
			} else {
				v = reflect.Zero(v.Type().Elem())
			}
		case reflect.Invalid:
			return reflect.Value{}, s.errorf("index of nil pointer")
		default:
			return reflect.Value{}, s.errorf("can't index item of type %s", v.Type())
		}
	}
	return v, nil
}

func sliceFn(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	vs, err := s.values(dot, args, final, hasFinal)
	if err != nil {
		return reflect.Value{}, err
	}
	if len(vs) == 0 || len(vs) > 4 {
		return reflect.Value{}, s.errorf("slice: want 1 to 4 arguments, got %d", len(vs))
	}
	v := indirect(vs[0])
	switch v.Kind() {
	case reflect.Array, reflect.Slice, reflect.String:
	default:
		return reflect.Value{}, s.errorf("can't slice item of type %s", typeName(v))
	}
	idx := []int{0, v.Len()}
	for i, a := range vs[1:] {
		n, ok := intIndex(a)
		if !ok || n < 0 {
			return reflect.Value{}, s.errorf("slice: bad index %v", a)
		}
		if i < 2 {
			idx[i] = n
		} else {
			idx = append(idx, n)
		}
	}
	if idx[0] > idx[1] || idx[1] > v.Len() && v.Kind() == reflect.String || v.Kind() != reflect.String && idx[1] > v.Cap() {
		return reflect.Value{}, s.errorf("slice: index out of range")
	}
	if len(idx) == 3 {
		if v.Kind() == reflect.String || idx[2] < idx[1] || idx[2] > v.Cap() {
			return reflect.Value{}, s.errorf("slice: bad 3-index slice")
		}
		return v.Slice3(idx[0], idx[1], idx[2]), nil
	}
	return v.Slice(idx[0], idx[1]), nil
}

// interfaces is the arguments as values for fmt.
func interfaces(vs []reflect.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i], _ = interfaceOf(v)
	}
	return out
}

func printFn(f func(...any) string) builtin {
	return func(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
		vs, err := s.values(dot, args, final, hasFinal)
		if err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(f(interfaces(vs)...)), nil
	}
}

func printfFn(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	vs, err := s.values(dot, args, final, hasFinal)
	if err != nil {
		return reflect.Value{}, err
	}
	if len(vs) == 0 {
		return reflect.Value{}, s.errorf("printf: no format")
	}
	f := indirectInterface(vs[0])
	if f.Kind() != reflect.String {
		return reflect.Value{}, s.errorf("printf: format is %s, not a string", typeName(f))
	}
	return reflect.ValueOf(fmt.Sprintf(f.String(), interfaces(vs[1:])...)), nil
}

// kind classes for comparison.
const (
	kInvalid = iota
	kBool
	kInt
	kUint
	kFloat
	kComplex
	kString
	kOther
)

func classOf(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Invalid:
		return kInvalid
	case reflect.Bool:
		return kBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return kUint
	case reflect.Float32, reflect.Float64:
		return kFloat
	case reflect.Complex64, reflect.Complex128:
		return kComplex
	case reflect.String:
		return kString
	}
	return kOther
}

// cmp compares two values as text/template's eq and lt do: c is their
// order (for ordered kinds), eq their equality.
func cmp(a, b reflect.Value) (c int, eq bool, ordered bool, err error) {
	a, b = indirectInterface(a), indirectInterface(b)
	ka, kb := classOf(a), classOf(b)
	switch {
	case ka == kInt && kb == kUint:
		if a.Int() < 0 {
			return -1, false, true, nil
		}
		c = cmpOrdered(uint64(a.Int()), b.Uint())
		return c, c == 0, true, nil
	case ka == kUint && kb == kInt:
		if b.Int() < 0 {
			return 1, false, true, nil
		}
		c = cmpOrdered(a.Uint(), uint64(b.Int()))
		return c, c == 0, true, nil
	case ka != kb:
		if ka == kInvalid || kb == kInvalid {
			// nil against a nilable value
			other := a
			if ka == kInvalid {
				other = b
			}
			if other.IsValid() {
				switch other.Kind() {
				case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
					return 0, other.IsNil(), false, nil
				}
			}
			return 0, ka == kb, false, nil
		}
		return 0, false, false, errBadComparison
	}
	switch ka {
	case kInvalid:
		return 0, true, false, nil
	case kBool:
		return 0, a.Bool() == b.Bool(), false, nil
	case kInt:
		c = cmpOrdered(a.Int(), b.Int())
	case kUint:
		c = cmpOrdered(a.Uint(), b.Uint())
	case kFloat:
		c = cmpOrdered(a.Float(), b.Float())
	case kString:
		c = cmpString(a.String(), b.String())
	case kComplex:
		return 0, a.Complex() == b.Complex(), false, nil
	default:
		if !a.Type().Comparable() || !b.Type().Comparable() || !a.CanInterface() || !b.CanInterface() {
			return 0, false, false, fmt.Errorf("non-comparable types %s and %s", a.Type(), b.Type())
		}
		return 0, a.Interface() == b.Interface(), false, nil
	}
	return c, c == 0, true, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare builds eq, ne, lt, le, gt, ge; eq (multi) compares its first
// argument with each of the others.
func compare(ok func(c int, eq bool) bool, multi, order bool) builtin {
	return func(s *exec, dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
		vs, err := s.values(dot, args, final, hasFinal)
		if err != nil {
			return reflect.Value{}, err
		}
		if len(vs) < 2 || !multi && len(vs) != 2 {
			return reflect.Value{}, s.errorf("comparison: wrong number of arguments: %d", len(vs))
		}
		for _, b := range vs[1:] {
			c, eq, isOrdered, err := cmp(vs[0], b)
			if err != nil {
				return reflect.Value{}, s.errorf("%v", err)
			}
			if multi && eq {
				return reflect.ValueOf(true), nil
			}
			if !multi {
				if order && !isOrdered {
					return reflect.Value{}, s.errorf("invalid type for comparison")
				}
				return reflect.ValueOf(ok(c, eq)), nil
			}
		}
		return reflect.ValueOf(false), nil
	}
}
