package py

import (
	"encoding"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// structField describes one exported (or promoted) field of a struct type.
type structField struct {
	name      string // key in the Python dict: tag name or Go name
	key       any    // name, boxed once for Dict entries
	goName    string // Go field name
	fold      string // FoldName(name)
	index     []int  // reflect index path, through embedded structs
	typ       reflect.Type
	tagged    bool // name comes from a tag
	omitEmpty bool
	omitZero  bool
}

// structInfo is the cached field table of a struct type.
type structInfo struct {
	fields []structField
	byName map[string]int // Python name -> field
	byGo   map[string]int // Go name -> field (first one in order)
	byFold map[string]int // FoldName of Python and Go names -> field (first one)
}

var structInfoCache sync.Map // reflect.Type -> *structInfo

// cachedStructInfo returns the field table of struct type t.
func cachedStructInfo(t reflect.Type) *structInfo {
	if si, ok := structInfoCache.Load(t); ok {
		return si.(*structInfo)
	}
	si, _ := structInfoCache.LoadOrStore(t, buildStructInfo(t))
	return si.(*structInfo)
}

// parseTag splits a `pyro:"name,opt,opt"` tag.
func parseTag(tag string) (name string, omitEmpty, omitZero bool) {
	name, opts, _ := strings.Cut(tag, ",")
	for opt := range strings.SplitSeq(opts, ",") {
		switch opt {
		case "omitempty":
			omitEmpty = true
		case "omitzero":
			omitZero = true
		}
	}
	return name, omitEmpty, omitZero
}

// ownConversion reports whether values of t are converted as a whole rather
// than field by field, so that an embedded t is a named field, not
// promoted fields.
func ownConversion(t reflect.Type) bool {
	switch t {
	case timeType, bigIntType, bigFloatType, dictType, setType, exceptionType:
		return true
	}
	pt := reflect.PointerTo(t)
	for _, it := range []reflect.Type{marshalerType, unmarshalerType, classDicterType, textMarshalerType, textUnmarshalerType} {
		if t.Implements(it) || pt.Implements(it) {
			return true
		}
	}
	return false
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	durationType        = reflect.TypeFor[time.Duration]()
	bigIntType          = reflect.TypeFor[big.Int]()
	bigFloatType        = reflect.TypeFor[big.Float]()
	dictType            = reflect.TypeFor[Dict]()
	setType             = reflect.TypeFor[Set]()
	exceptionType       = reflect.TypeFor[Exception]()
	tupleType           = reflect.TypeFor[Tuple]()
	anySliceType        = reflect.TypeFor[[]any]()
	marshalerType       = reflect.TypeFor[Marshaler]()
	unmarshalerType     = reflect.TypeFor[Unmarshaler]()
	classDicterType     = reflect.TypeFor[ClassDicter]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// buildStructInfo collects the fields of t breadth-first through embedded
// structs, resolving name conflicts the way encoding/json does.
func buildStructInfo(t reflect.Type) *structInfo {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	var all []structField
	seen := map[string]bool{} // names settled at a shallower depth
	visited := map[reflect.Type]bool{}
	next := []queued{{typ: t}}
	for len(next) > 0 {
		current := next
		next = nil
		var level []structField
		levelTypes := map[reflect.Type]bool{}
		for _, q := range current {
			if visited[q.typ] {
				continue // already expanded at a shallower depth
			}
			levelTypes[q.typ] = true
			for i := range q.typ.NumField() {
				sf := q.typ.Field(i)
				tag := sf.Tag.Get("pyro")
				if tag == "-" {
					continue
				}
				name, omitEmpty, omitZero := parseTag(tag)
				index := append(slices.Clone(q.index), i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer && ft.Name() == "" {
						ft = ft.Elem()
					}
					if name == "" && ft.Kind() == reflect.Struct && !ownConversion(ft) {
						next = append(next, queued{typ: ft, index: index})
						continue
					}
				}
				if !sf.IsExported() {
					continue
				}
				f := structField{name: name, goName: sf.Name, index: index, typ: sf.Type,
					tagged: name != "", omitEmpty: omitEmpty, omitZero: omitZero}
				if f.name == "" {
					f.name = sf.Name
				}
				f.fold = FoldName(f.name)
				f.key = f.name
				level = append(level, f)
			}
		}
		// Resolve conflicts within this depth; names seen shallower win.
		byName := map[string][]int{}
		for i, f := range level {
			byName[f.name] = append(byName[f.name], i)
		}
		for i, f := range level {
			if seen[f.name] {
				continue
			}
			idxs := byName[f.name]
			if len(idxs) == 1 {
				all = append(all, f)
				continue
			}
			if idxs[0] != i {
				continue // handled with the first of the group
			}
			var tagged []int
			for _, j := range idxs {
				if level[j].tagged {
					tagged = append(tagged, j)
				}
			}
			if len(tagged) == 1 {
				all = append(all, level[tagged[0]])
			}
		}
		for _, f := range level {
			seen[f.name] = true
		}
		for typ := range levelTypes {
			visited[typ] = true
		}
	}
	slices.SortFunc(all, func(a, b structField) int { return slices.Compare(a.index, b.index) })
	si := &structInfo{fields: all, byName: map[string]int{}, byGo: map[string]int{}, byFold: map[string]int{}}
	for i, f := range all {
		si.byName[f.name] = i
		if _, ok := si.byGo[f.goName]; !ok {
			si.byGo[f.goName] = i
		}
		for _, k := range []string{f.fold, FoldName(f.goName)} {
			if _, ok := si.byFold[k]; !ok {
				si.byFold[k] = i
			}
		}
	}
	return si
}

// lookup finds the field for a dict key: by Python name, then Go name,
// then folded name. It returns the field's position in si.fields.
func (si *structInfo) lookup(key string) (int, bool) {
	if i, ok := si.byName[key]; ok {
		return i, true
	}
	if i, ok := si.byGo[key]; ok {
		return i, true
	}
	i, ok := si.byFold[FoldName(key)]
	return i, ok
}
