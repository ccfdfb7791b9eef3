package mobile

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// Bounds of the module decoder that runs before any validator (see
// Inspect): a hostile import or export section costs at most this much.
const (
	MaxImports = 1024
	MaxExports = 4096
	MaxNameLen = 1024  // bytes of one import, export or custom section name
	MaxTypes   = 65536 // function types
	MaxCustom  = 256   // custom sections
	// Bounds on what the compiler and instantiation would allocate in
	// proportion to a number rather than to bytes: wazero reserves a
	// function's declared locals, a table's minimum size (8 bytes per
	// element, in every instance) and per-function and per-global state.
	MaxFunctions     = 200_000 // defined functions (a large Go program has some 50,000)
	MaxLocals        = 50_000  // declared locals of one function
	MaxTableElements = 1 << 20 // minimum sizes of all tables together
	MaxGlobals       = 100_000
	maxParamsResult  = 1000 // parameters or results of one function type
)

// ExternKind is the kind of an import or export.
type ExternKind byte

// The kinds of WebAssembly 1.0.
const (
	KindFunc   ExternKind = 0
	KindTable  ExternKind = 1
	KindMemory ExternKind = 2
	KindGlobal ExternKind = 3
)

func (k ExternKind) String() string {
	switch k {
	case KindFunc:
		return "func"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// ValueType is a WebAssembly value type.
type ValueType byte

// The value types a module function may take or return.
const (
	I32       ValueType = 0x7f
	I64       ValueType = 0x7e
	F32       ValueType = 0x7d
	F64       ValueType = 0x7c
	V128      ValueType = 0x7b
	FuncRef   ValueType = 0x70
	ExternRef ValueType = 0x6f
)

func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("type(0x%02x)", byte(t))
}

func (t ValueType) number() bool { return t == I32 || t == I64 || t == F32 || t == F64 }

// Import is one import of a module.
type Import struct {
	Module, Name string
	Kind         ExternKind
}

func (i Import) String() string { return i.Module + "." + i.Name + " (" + i.Kind.String() + ")" }

// Export is one export of a module; Params and Results are set for
// functions.
type Export struct {
	Name            string
	Kind            ExternKind
	Params, Results []ValueType
}

// Info is what Inspect learns of a module without compiling it.
type Info struct {
	Imports []Import
	Exports []Export
	// MemoryMin is the initial size of the module's memory in 64 KiB
	// pages (defined or imported); HasMemory is false without one.
	MemoryMin uint32
	HasMemory bool
	// Custom lists the names of the custom sections.
	Custom []string
}

// Export returns the export named name.
func (in *Info) Export(name string) (Export, bool) {
	for _, e := range in.Exports {
		if e.Name == name {
			return e, true
		}
	}
	return Export{}, false
}

type funcType struct{ params, results []ValueType }

type reader struct {
	b   []byte
	off int // offset of b[0] in the module, for messages
}

func (r *reader) fail(format string, a ...any) error {
	return invalidf("malformed module at byte %d: %s", r.off, fmt.Sprintf(format, a...))
}

func (r *reader) byte() (byte, error) {
	if len(r.b) == 0 {
		return 0, r.fail("unexpected end")
	}
	c := r.b[0]
	r.b = r.b[1:]
	r.off++
	return c, nil
}

// u32 reads an unsigned LEB128 of at most 5 bytes.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c > 0x0f {
			return 0, r.fail("integer too large")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, r.fail("integer representation too long")
}

func (r *reader) take(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)) {
		return nil, r.fail("length %d past the end", n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	r.off += int(n)
	return p, nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if n > MaxNameLen {
		return "", r.fail("name of %d bytes (at most %d)", n, MaxNameLen)
	}
	p, err := r.take(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(p) {
		return "", r.fail("name is not UTF-8")
	}
	return string(p), nil
}

// count reads a vector length, at most max and at most one element per
// minSize remaining bytes.
func (r *reader) count(what string, max, minSize int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n) > uint64(max) {
		return 0, limitf("module has %d %s (at most %d)", n, what, max)
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)) {
		return 0, r.fail("%d %s do not fit in %d bytes", n, what, len(r.b))
	}
	return int(n), nil
}

func (r *reader) limits() (uint32, error) {
	flag, err := r.byte()
	if err != nil {
		return 0, err
	}
	if flag > 1 {
		return 0, r.fail("unsupported limits flag 0x%02x (shared or 64-bit memory)", flag)
	}
	min, err := r.u32()
	if err != nil {
		return 0, err
	}
	if flag == 1 {
		if _, err := r.u32(); err != nil {
			return 0, err
		}
	}
	return min, nil
}

func (r *reader) valueTypes() ([]ValueType, error) {
	n, err := r.count("parameters or results", maxParamsResult, 1)
	if err != nil {
		return nil, err
	}
	out := make([]ValueType, n)
	for i := range out {
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		out[i] = ValueType(c)
	}
	return out, nil
}

// Inspect decodes the imports, exports, memory and custom section names
// of a WebAssembly 1.0 binary module, within fixed bounds (MaxImports,
// MaxExports, MaxNameLen, MaxTypes, MaxCustom) and in time linear in its
// size, without compiling it: this is what validators see. It checks the
// section framing only; code and data are left to the compiler.
func Inspect(module []byte) (*Info, error) {
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil, invalidf("not a WebAssembly module (no \\0asm magic)")
	}
	if v := binary.LittleEndian.Uint32(module[4:8]); v != 1 {
		return nil, invalidf("unsupported WebAssembly binary version %d (want 1; components are not modules)", v)
	}
	r := &reader{b: module[8:], off: 8}
	info := &Info{}
	var types []funcType
	var funcSection *reader
	var importedFuncTypes []uint32
	var funcExports []funcExport
	var tableElems uint64
	last := byte(0)
	for len(r.b) > 0 {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		start := r.off
		body, err := r.take(size)
		if err != nil {
			return nil, err
		}
		if id != 0 {
			if id > 12 {
				return nil, r.fail("unknown section id %d", id)
			}
			if order(id) <= order(last) {
				return nil, r.fail("section %d out of order or repeated", id)
			}
			last = id
		}
		s := &reader{b: body, off: start}
		switch id {
		case 0:
			if len(info.Custom) >= MaxCustom {
				return nil, limitf("module has more than %d custom sections", MaxCustom)
			}
			name, err := s.name()
			if err != nil {
				return nil, err
			}
			info.Custom = append(info.Custom, name)
			if name == "name" {
				if err := checkNames(s); err != nil {
					return nil, err
				}
			}
			continue // other custom contents are opaque
		case 1:
			n, err := s.count("function types", MaxTypes, 3)
			if err != nil {
				return nil, err
			}
			types = make([]funcType, n)
			for i := range types {
				form, err := s.byte()
				if err != nil {
					return nil, err
				}
				if form != 0x60 {
					return nil, s.fail("function type form 0x%02x", form)
				}
				if types[i].params, err = s.valueTypes(); err != nil {
					return nil, err
				}
				if types[i].results, err = s.valueTypes(); err != nil {
					return nil, err
				}
			}
		case 2:
			n, err := s.count("imports", MaxImports, 4)
			if err != nil {
				return nil, err
			}
			for range n {
				var im Import
				if im.Module, err = s.name(); err != nil {
					return nil, err
				}
				if im.Name, err = s.name(); err != nil {
					return nil, err
				}
				k, err := s.byte()
				if err != nil {
					return nil, err
				}
				im.Kind = ExternKind(k)
				switch im.Kind {
				case KindFunc:
					t, err := s.u32()
					if err != nil {
						return nil, err
					}
					importedFuncTypes = append(importedFuncTypes, t)
				case KindTable:
					if _, err := s.byte(); err != nil {
						return nil, err
					}
					min, err := s.limits()
					if err != nil {
						return nil, err
					}
					if tableElems += uint64(min); tableElems > MaxTableElements {
						return nil, limitf("module's tables have %d elements at start (at most %d)", tableElems, MaxTableElements)
					}
				case KindMemory:
					min, err := s.limits()
					if err != nil {
						return nil, err
					}
					info.MemoryMin, info.HasMemory = max(info.MemoryMin, min), true
				case KindGlobal:
					if _, err := s.take(2); err != nil {
						return nil, err
					}
				default:
					return nil, s.fail("import kind %d", k)
				}
				info.Imports = append(info.Imports, im)
			}
		case 3:
			if _, err := (&reader{b: s.b, off: s.off}).count("functions", MaxFunctions, 1); err != nil {
				return nil, err
			}
			funcSection = s
			continue
		case 4:
			n, err := s.count("tables", 100, 3)
			if err != nil {
				return nil, err
			}
			for range n {
				if _, err := s.byte(); err != nil {
					return nil, err
				}
				min, err := s.limits()
				if err != nil {
					return nil, err
				}
				if tableElems += uint64(min); tableElems > MaxTableElements {
					return nil, limitf("module's tables have %d elements at start (at most %d)", tableElems, MaxTableElements)
				}
			}
		case 6:
			if _, err := s.count("globals", MaxGlobals, 3); err != nil {
				return nil, err
			}
			continue
		case 9:
			if err := checkElements(s); err != nil {
				return nil, err
			}
		case 10:
			if err := checkLocals(s); err != nil {
				return nil, err
			}
		case 11:
			if err := checkData(s); err != nil {
				return nil, err
			}
		case 5:
			n, err := s.count("memories", 1, 2)
			if err != nil {
				return nil, err
			}
			for range n {
				min, err := s.limits()
				if err != nil {
					return nil, err
				}
				info.MemoryMin, info.HasMemory = max(info.MemoryMin, min), true
			}
		case 7:
			n, err := s.count("exports", MaxExports, 3)
			if err != nil {
				return nil, err
			}
			seen := make(map[string]bool, n)
			for range n {
				var ex Export
				if ex.Name, err = s.name(); err != nil {
					return nil, err
				}
				if seen[ex.Name] {
					return nil, s.fail("duplicate export %q", ex.Name)
				}
				seen[ex.Name] = true
				k, err := s.byte()
				if err != nil {
					return nil, err
				}
				ex.Kind = ExternKind(k)
				if ex.Kind > KindGlobal {
					return nil, s.fail("export kind %d", k)
				}
				idx, err := s.u32()
				if err != nil {
					return nil, err
				}
				if ex.Kind == KindFunc {
					funcExports = append(funcExports, funcExport{pos: len(info.Exports), idx: idx})
				}
				info.Exports = append(info.Exports, ex)
			}
		default:
			continue
		}
		if len(s.b) != 0 && id != 3 {
			return nil, s.fail("%d bytes left over in section %d", len(s.b), id)
		}
	}
	if err := resolveExportTypes(info, types, importedFuncTypes, funcSection, funcExports); err != nil {
		return nil, err
	}
	return info, nil
}

// The compiler allocates some vectors at the length a module states before
// it reads their elements: a data section announcing 2^32 segments in 18
// bytes makes it ask for hundreds of gigabytes and the Go runtime abort
// the process. So every vector the compiler decodes is checked here first
// against the bytes that remain: element and data segments, the
// constant expressions in them, and the names of the "name" section.

// skipLEB skips a LEB128 number of at most n bytes.
func (r *reader) skipLEB(n int) error {
	for i := 0; i < n; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return r.fail("integer representation too long")
}

// constExpr skips a constant expression up to its end opcode.
func (r *reader) constExpr() error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		switch op {
		case 0x0b: // end
			return nil
		case 0x41: // i32.const
			err = r.skipLEB(5)
		case 0x42: // i64.const
			err = r.skipLEB(10)
		case 0x43: // f32.const
			_, err = r.take(4)
		case 0x44: // f64.const
			_, err = r.take(8)
		case 0x23, 0xd2: // global.get, ref.func
			_, err = r.u32()
		case 0xd0: // ref.null
			_, err = r.byte()
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constant arithmetic
		case 0xfd: // v128.const
			if _, err = r.u32(); err == nil {
				_, err = r.take(16)
			}
		default:
			return r.fail("opcode 0x%02x in a constant expression", op)
		}
		if err != nil {
			return err
		}
	}
}

// bytesVec skips a byte vector whose length must fit.
func (r *reader) bytesVec() error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	_, err = r.take(n)
	return err
}

// checkData checks the data section's vectors.
func checkData(s *reader) error {
	n, err := s.count("data segments", 1<<20, 2)
	if err != nil {
		return err
	}
	for range n {
		flag, err := s.u32()
		if err != nil {
			return err
		}
		switch flag {
		case 0:
			err = s.constExpr()
		case 1:
		case 2:
			if _, err = s.u32(); err == nil {
				err = s.constExpr()
			}
		default:
			return s.fail("data segment flag %d", flag)
		}
		if err != nil {
			return err
		}
		if err := s.bytesVec(); err != nil {
			return err
		}
	}
	return nil
}

// checkElements checks the element section's vectors.
func checkElements(s *reader) error {
	n, err := s.count("element segments", 1<<20, 2)
	if err != nil {
		return err
	}
	for range n {
		flag, err := s.u32()
		if err != nil {
			return err
		}
		if flag > 7 {
			return s.fail("element segment flag %d", flag)
		}
		if flag == 2 || flag == 6 {
			if _, err := s.u32(); err != nil { // table index
				return err
			}
		}
		if flag&1 == 0 { // active: an offset
			if err := s.constExpr(); err != nil {
				return err
			}
		}
		if flag&3 != 0 { // element kind or reference type
			if _, err := s.byte(); err != nil {
				return err
			}
		}
		if flag&4 == 0 {
			k, err := s.count("function indexes", MaxTableElements, 1)
			if err != nil {
				return err
			}
			for range k {
				if _, err := s.u32(); err != nil {
					return err
				}
			}
			continue
		}
		k, err := s.count("element expressions", MaxTableElements, 2)
		if err != nil {
			return err
		}
		for range k {
			if err := s.constExpr(); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkNames checks the vectors of the "name" custom section that the
// compiler decodes: the module name, function names and local names.
func checkNames(s *reader) error {
	name := func(r *reader) error {
		n, err := r.u32()
		if err != nil {
			return err
		}
		_, err = r.take(n)
		return err
	}
	nameMap := func(r *reader) error {
		n, err := r.count("names", MaxFunctions, 2)
		if err != nil {
			return err
		}
		for range n {
			if _, err := r.u32(); err != nil {
				return err
			}
			if err := name(r); err != nil {
				return err
			}
		}
		return nil
	}
	for len(s.b) > 0 {
		id, err := s.byte()
		if err != nil {
			return err
		}
		size, err := s.u32()
		if err != nil {
			return err
		}
		start := s.off
		body, err := s.take(size)
		if err != nil {
			return err
		}
		sub := &reader{b: body, off: start}
		switch id {
		case 0:
			err = name(sub)
		case 1:
			err = nameMap(sub)
		case 2:
			var n int
			if n, err = sub.count("local name maps", MaxFunctions, 2); err == nil {
				for range n {
					if _, err = sub.u32(); err != nil {
						break
					}
					if err = nameMap(sub); err != nil {
						break
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkLocals reads the local declarations of every function body and
// refuses more than MaxLocals in one function; the instructions are left
// to the compiler.
func checkLocals(s *reader) error {
	n, err := s.count("function bodies", MaxFunctions, 2)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		size, err := s.u32()
		if err != nil {
			return err
		}
		body, err := s.take(size)
		if err != nil {
			return err
		}
		b := &reader{b: body, off: s.off - int(size)}
		groups, err := b.count("local declarations", MaxLocals, 2)
		if err != nil {
			return err
		}
		var sum uint64
		for range groups {
			k, err := b.u32()
			if err != nil {
				return err
			}
			if _, err := b.byte(); err != nil {
				return err
			}
			if sum += uint64(k); sum > MaxLocals {
				return limitf("function %d declares more than %d locals", i, MaxLocals)
			}
		}
	}
	return nil
}

// order is the rank of a non-custom section in the required order (the
// data count section, 12, comes between element and code).
func order(id byte) int {
	switch id {
	case 0:
		return 0
	case 12:
		return 10
	case 10:
		return 11
	case 11:
		return 12
	}
	return int(id)
}

type funcExport struct {
	pos int    // in Info.Exports
	idx uint32 // function index
}

// resolveExportTypes fills the signatures of the exported functions:
// imported ones from the import section, defined ones through one pass
// over the function section (nothing is kept of it but what is needed).
func resolveExportTypes(info *Info, types []funcType, imported []uint32, fs *reader, exports []funcExport) error {
	if len(exports) == 0 {
		return nil
	}
	set := func(e funcExport, t uint32) error {
		if uint64(t) >= uint64(len(types)) {
			return invalidf("malformed module: export %q has type index %d of %d", info.Exports[e.pos].Name, t, len(types))
		}
		info.Exports[e.pos].Params = types[t].params
		info.Exports[e.pos].Results = types[t].results
		return nil
	}
	need := map[uint32][]funcExport{}
	for _, e := range exports {
		if uint64(e.idx) < uint64(len(imported)) {
			if err := set(e, imported[e.idx]); err != nil {
				return err
			}
			continue
		}
		d := e.idx - uint32(len(imported))
		need[d] = append(need[d], e)
	}
	if len(need) == 0 {
		return nil
	}
	if fs == nil {
		return invalidf("malformed module: exported functions but no function section")
	}
	n, err := fs.count("functions", 1<<30, 1)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		t, err := fs.u32()
		if err != nil {
			return err
		}
		for _, e := range need[uint32(i)] {
			if err := set(e, t); err != nil {
				return err
			}
		}
	}
	if len(fs.b) != 0 {
		return fs.fail("%d bytes left over in the function section", len(fs.b))
	}
	for d, es := range need {
		if uint64(d) >= uint64(n) {
			return invalidf("malformed module: export %q names function %d, which does not exist", info.Exports[es[0].pos].Name, es[0].idx)
		}
	}
	return nil
}
