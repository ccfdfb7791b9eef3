package mobile

import "sort"

// Callable is a function of a module that callers may call, as the
// service offers it (spec.md, "Calling convention").
type Callable struct {
	// Name is the name callers use: the export name of a numeric
	// function, NAME for the value function exported as pyro_fn_NAME.
	Name string
	// Export is the export's name.
	Export string
	// Value reports the value convention (msgpack through linear memory);
	// false for a numeric function.
	Value bool
	// Params and Results are the export's WebAssembly types.
	Params, Results []ValueType
}

// Callables lists the functions of the module that callers may call,
// sorted by name: exactly those the service would offer after loading it.
func (in *Info) Callables() []Callable {
	fs := functions(in)
	out := make([]Callable, 0, len(fs))
	for _, f := range fs {
		e, _ := in.Export(f.export)
		out = append(out, Callable{Name: f.name, Export: f.export, Value: f.value, Params: e.Params, Results: e.Results})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SandboxProvides reports whether the sandbox provides im to every
// module: a function of the WASI allow-list (spec.md, "The sandbox").
// Host modules a daemon grants (agents) are not included.
func SandboxProvides(im Import) bool {
	return im.Kind == KindFunc && im.Module == wasiModule && allowedWASI[im.Name]
}
