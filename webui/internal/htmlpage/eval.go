package htmlpage

import (
	"errors"
	"fmt"
	"reflect"
	"text/template/parse"
)

var (
	errorType    = reflect.TypeFor[error]()
	reflectValue = reflect.TypeFor[reflect.Value]()
)

// command runs one command of a pipeline; final is the previous command's
// value (hasFinal), passed as the last argument.
func (s *exec) command(dot reflect.Value, cmd *parse.CommandNode, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	first := cmd.Args[0]
	switch n := first.(type) {
	case *parse.FieldNode:
		return s.fieldChain(dot, dot, n.Ident, cmd.Args, final, hasFinal)
	case *parse.ChainNode:
		recv, err := s.arg(dot, n.Node)
		if err != nil {
			return recv, err
		}
		return s.fieldChain(dot, recv, n.Field, cmd.Args, final, hasFinal)
	case *parse.IdentifierNode:
		return s.function(dot, n.Ident, cmd.Args, final, hasFinal)
	case *parse.VariableNode:
		v, err := s.varValue(n.Ident[0])
		if err != nil || len(n.Ident) == 1 {
			if hasFinal || len(cmd.Args) > 1 {
				return v, s.errorf("can't give arguments to variable %s", n.Ident[0])
			}
			return v, err
		}
		return s.fieldChain(dot, v, n.Ident[1:], cmd.Args, final, hasFinal)
	}
	if hasFinal || len(cmd.Args) > 1 {
		return reflect.Value{}, s.errorf("can't give arguments to %s", first)
	}
	return s.arg(dot, first)
}

// arg evaluates one argument with no type to aim for.
func (s *exec) arg(dot reflect.Value, n parse.Node) (reflect.Value, error) {
	s.node = n
	switch n := n.(type) {
	case *parse.DotNode:
		return dot, nil
	case *parse.NilNode:
		return reflect.Value{}, s.errorf("nil is not a command")
	case *parse.FieldNode:
		return s.fieldChain(dot, dot, n.Ident, []parse.Node{n}, reflect.Value{}, false)
	case *parse.VariableNode:
		v, err := s.varValue(n.Ident[0])
		if err != nil || len(n.Ident) == 1 {
			return v, err
		}
		return s.fieldChain(dot, v, n.Ident[1:], []parse.Node{n}, reflect.Value{}, false)
	case *parse.ChainNode:
		recv, err := s.arg(dot, n.Node)
		if err != nil {
			return recv, err
		}
		return s.fieldChain(dot, recv, n.Field, []parse.Node{n}, reflect.Value{}, false)
	case *parse.PipeNode:
		mark := len(s.vars)
		v, err := s.pipeline(dot, n)
		s.vars = s.vars[:mark]
		return v, err
	case *parse.IdentifierNode:
		return s.function(dot, n.Ident, []parse.Node{n}, reflect.Value{}, false)
	case *parse.StringNode:
		return reflect.ValueOf(n.Text), nil
	case *parse.BoolNode:
		return reflect.ValueOf(n.True), nil
	case *parse.NumberNode:
		return idealConstant(n), nil
	}
	return reflect.Value{}, s.errorf("can't evaluate %s", n)
}

// idealConstant is a number literal as an untyped constant would be.
func idealConstant(n *parse.NumberNode) reflect.Value {
	switch {
	case n.IsComplex:
		return reflect.ValueOf(n.Complex128)
	case n.IsInt:
		return reflect.ValueOf(int(n.Int64))
	case n.IsFloat:
		return reflect.ValueOf(n.Float64)
	case n.IsUint:
		return reflect.ValueOf(n.Uint64)
	}
	return reflect.ValueOf(n.Text)
}

// fieldChain evaluates .A.B.C from recv; the last one gets args[1:] and final.
func (s *exec) fieldChain(dot, recv reflect.Value, idents []string, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	for i, id := range idents {
		last := i == len(idents)-1
		var a []parse.Node
		if last {
			a = args[1:]
		}
		var err error
		if recv, err = s.field(dot, recv, id, a, final, last && hasFinal); err != nil {
			return recv, err
		}
	}
	return recv, nil
}

// field evaluates .name on recv: a method the value offers through
// MethodCaller, a struct field or a map key.
func (s *exec) field(dot, recv reflect.Value, name string, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	if !recv.IsValid() {
		return recv, nil
	}
	if r, ok, err := s.method(dot, recv, name, args, final, hasFinal); ok || err != nil {
		return r, err
	}
	v := recv
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}, s.errorf("nil pointer evaluating %s.%s", recv.Type(), name)
		}
		v = v.Elem()
	}
	if len(args) > 0 || hasFinal {
		return reflect.Value{}, s.errorf("%s has arguments but %s.%s is not a method", name, v.Type(), name)
	}
	switch v.Kind() {
	case reflect.Struct:
		f, ok := v.Type().FieldByName(name)
		if ok && f.IsExported() {
			fv, err := v.FieldByIndexErr(f.Index)
			if err != nil {
				return reflect.Value{}, s.errorf("%s: %v", name, err)
			}
			return fv, nil
		}
	case reflect.Map:
		k := reflect.ValueOf(name)
		if k.Type().ConvertibleTo(v.Type().Key()) && v.Type().Key().Kind() == reflect.String {
			return v.MapIndex(k.Convert(v.Type().Key())), nil
		}
	}
	return reflect.Value{}, s.errorf("can't evaluate field %s in type %s", name, recv.Type())
}

// method calls name on recv if the value offers it: through MethodCaller
// (on the value or its address), or the few standard methods templates
// use (IsZero of times, String, Error) by their interfaces.
func (s *exec) method(dot, recv reflect.Value, name string, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, bool, error) {
	var cands []any
	if recv.CanInterface() {
		cands = append(cands, recv.Interface())
	}
	if recv.Kind() != reflect.Pointer && recv.CanAddr() && recv.Addr().CanInterface() {
		cands = append(cands, recv.Addr().Interface())
	}
	for _, c := range cands {
		var res any
		var ok bool
		var err error
		switch x := c.(type) {
		case MethodCaller:
			var in []any
			if in, err = s.anyArgs(dot, args, final, hasFinal); err != nil {
				return reflect.Value{}, true, err
			}
			res, ok, err = x.CallMethod(name, in)
		case interface{ IsZero() bool }:
			if ok = name == "IsZero" && len(args) == 0 && !hasFinal; ok {
				res = x.IsZero()
			}
		}
		if !ok && err == nil && len(args) == 0 && !hasFinal {
			switch x := c.(type) {
			case fmt.Stringer:
				if ok = name == "String"; ok {
					res = x.String()
				}
			case error:
				if ok = name == "Error"; ok {
					res = x.Error()
				}
			}
		}
		if err != nil {
			return reflect.Value{}, true, s.errorf("calling %s: %v", name, err)
		}
		if ok {
			return reflect.ValueOf(res), true, nil
		}
	}
	return reflect.Value{}, false, nil
}

// anyArgs evaluates arguments for a MethodCaller.
func (s *exec) anyArgs(dot reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) ([]any, error) {
	out := make([]any, 0, len(args)+1)
	for _, a := range args {
		v, err := s.arg(dot, a)
		if err != nil {
			return nil, err
		}
		x, _ := interfaceOf(v)
		out = append(out, x)
	}
	if hasFinal {
		x, _ := interfaceOf(final)
		out = append(out, x)
	}
	return out, nil
}

// function calls a builtin or one of the set's functions.
func (s *exec) function(dot reflect.Value, name string, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	if b, ok := builtins[name]; ok {
		return b(s, dot, args[1:], final, hasFinal)
	}
	fn, ok := s.set.funcs[name]
	if !ok {
		return reflect.Value{}, s.errorf("%q is not a defined function", name)
	}
	return s.call(dot, name, fn, args[1:], final, hasFinal)
}

// call calls fn with the arguments converted to its parameters' types.
func (s *exec) call(dot reflect.Value, name string, fn reflect.Value, args []parse.Node, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	typ := fn.Type()
	n := len(args)
	if hasFinal {
		n++
	}
	if typ.IsVariadic() {
		if n < typ.NumIn()-1 {
			return reflect.Value{}, s.errorf("wrong number of args for %s: want at least %d got %d", name, typ.NumIn()-1, n)
		}
	} else if n != typ.NumIn() {
		return reflect.Value{}, s.errorf("wrong number of args for %s: want %d got %d", name, typ.NumIn(), n)
	}
	paramType := func(i int) reflect.Type {
		if typ.IsVariadic() && i >= typ.NumIn()-1 {
			return typ.In(typ.NumIn() - 1).Elem()
		}
		return typ.In(i)
	}
	in := make([]reflect.Value, 0, n)
	for i, a := range args {
		v, err := s.typedArg(dot, a, paramType(i))
		if err != nil {
			return v, err
		}
		in = append(in, v)
	}
	if hasFinal {
		v, err := s.validate(paramType(len(args)), final)
		if err != nil {
			return v, err
		}
		in = append(in, v)
	}
	out := fn.Call(in)
	if len(out) == 2 && out[1].Type() == errorType && !out[1].IsNil() {
		return out[0], s.errorf("error calling %s: %v", name, out[1].Interface())
	}
	if len(out) == 0 {
		return reflect.Value{}, nil
	}
	return out[0], nil
}

// typedArg evaluates an argument for a parameter of type typ.
func (s *exec) typedArg(dot reflect.Value, n parse.Node, typ reflect.Type) (reflect.Value, error) {
	s.node = n
	switch n := n.(type) {
	case *parse.NilNode:
		switch typ.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
			return reflect.Zero(typ), nil
		}
		return reflect.Value{}, s.errorf("cannot assign nil to %s", typ)
	case *parse.NumberNode:
		v := idealConstant(n)
		switch typ.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if n.IsInt {
				return reflect.ValueOf(n.Int64).Convert(typ), nil
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if n.IsUint {
				return reflect.ValueOf(n.Uint64).Convert(typ), nil
			}
		case reflect.Float32, reflect.Float64:
			if n.IsFloat {
				return reflect.ValueOf(n.Float64).Convert(typ), nil
			}
		}
		return s.validate(typ, v)
	case *parse.StringNode:
		if typ.Kind() == reflect.String {
			return reflect.ValueOf(n.Text).Convert(typ), nil
		}
	case *parse.BoolNode:
		if typ.Kind() == reflect.Bool {
			return reflect.ValueOf(n.True).Convert(typ), nil
		}
	}
	v, err := s.arg(dot, n)
	if err != nil {
		return v, err
	}
	return s.validate(typ, v)
}

// validate makes v fit a parameter of type typ, as text/template does.
func (s *exec) validate(typ reflect.Type, v reflect.Value) (reflect.Value, error) {
	if !v.IsValid() {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
			return reflect.Zero(typ), nil
		}
		return reflect.Value{}, s.errorf("invalid value; expected %s", typ)
	}
	if typ == reflectValue && v.Type() != typ {
		return reflect.ValueOf(v), nil
	}
	if v.Type().AssignableTo(typ) {
		return v, nil
	}
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
		if v.Type().AssignableTo(typ) {
			return v, nil
		}
	}
	switch {
	case v.Kind() == reflect.Pointer && v.Type().Elem().AssignableTo(typ):
		if v.IsNil() {
			return reflect.Value{}, s.errorf("dereference of nil pointer of type %s", typ)
		}
		return v.Elem(), nil
	case reflect.PointerTo(v.Type()).AssignableTo(typ) && v.CanAddr():
		return v.Addr(), nil
	}
	return reflect.Value{}, s.errorf("wrong type for value; expected %s; got %s", typ, v.Type())
}

var errBadComparison = errors.New("incompatible types for comparison")
