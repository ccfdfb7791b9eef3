package pyro

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file maps Config fields to Pyro's item names (the `pyro` struct
// tags) and converts item values from and to text the way Pyro4 does.

// itemKind is how an item's value is written as text.
type itemKind int

const (
	kindString itemKind = iota
	kindBool
	kindInt
	kindDuration // seconds, as a Python float
	kindList     // comma-separated, not trimmed
	kindBytes
)

// configItem describes one config item: its Pyro name and its field.
type configItem struct {
	name   string // Pyro name, e.g. "NS_PORT"
	field  int    // index in Config
	kind   itemKind
	secret bool // never printed
}

var durationType = reflect.TypeFor[time.Duration]()

// configItems lists the items in field order, from the `pyro` tags.
var configItems = func() []configItem {
	t := reflect.TypeFor[Config]()
	var items []configItem
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, ok := f.Tag.Lookup("pyro")
		if !ok || tag == "" {
			panic("pyro: Config." + f.Name + " has no pyro tag")
		}
		name, opt, _ := strings.Cut(tag, ",")
		it := configItem{name: name, field: i, secret: opt == "secret"}
		switch {
		case f.Type == durationType:
			it.kind = kindDuration
		case f.Type.Kind() == reflect.String:
			it.kind = kindString
		case f.Type.Kind() == reflect.Bool:
			it.kind = kindBool
		case f.Type.Kind() == reflect.Int:
			it.kind = kindInt
		case f.Type == reflect.TypeFor[[]string]():
			it.kind = kindList
		case f.Type == reflect.TypeFor[[]byte]():
			it.kind = kindBytes
		default:
			panic("pyro: Config." + f.Name + " has a type config items cannot have")
		}
		items = append(items, it)
	}
	return items
}()

// configItemNamed returns the item with Pyro name name.
func configItemNamed(name string) (configItem, bool) {
	for _, it := range configItems {
		if it.name == name {
			return it, true
		}
	}
	return configItem{}, false
}

// ApplyEnv applies PYRO_<ITEM> variables from env ("KEY=value" strings)
// with Pyro's conversion rules: booleans accept 0/off/no/false and
// 1/yes/on/true (any case), numbers must parse, durations are seconds
// ("0.5"), lists split on "," without trimming (Pyro's quirk, kept so
// behaviour matches). Variables of items pyrogo does not have are
// ignored.
func (c *Config) ApplyEnv(env []string) error {
	vals := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "PYRO_") {
			vals[k[len("PYRO_"):]] = v
		}
	}
	for _, it := range configItems {
		v, ok := vals[it.name]
		if !ok {
			continue
		}
		if err := c.setText(it, v); err != nil {
			return fmt.Errorf("invalid value PYRO_%s=%s: %w", it.name, v, err)
		}
		c.setSource(it.name, SourceEnv)
	}
	return nil
}

func (c *Config) setSource(name string, s Source) {
	if c.sources == nil {
		c.sources = map[string]Source{}
	}
	c.sources[name] = s
}

// setText sets an item from its text form.
func (c *Config) setText(it configItem, v string) error {
	f := reflect.ValueOf(c).Elem().Field(it.field)
	switch it.kind {
	case kindString:
		f.SetString(v)
	case kindBool:
		switch strings.ToLower(v) {
		case "0", "off", "no", "false":
			f.SetBool(false)
		case "1", "yes", "on", "true":
			f.SetBool(true)
		default:
			return errors.New("invalid boolean value")
		}
	case kindInt:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return errors.New("not an integer")
		}
		f.SetInt(int64(n))
	case kindDuration:
		d, err := parseSeconds(v)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
	case kindList:
		f.Set(reflect.ValueOf(strings.Split(v, ",")))
	case kindBytes:
		f.SetBytes([]byte(v))
	}
	return nil
}

// parseSeconds reads a duration in seconds, as Pyro reads its float
// items: "2", "0.5", " 1.5e1 ".
func parseSeconds(v string) (time.Duration, error) {
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, errors.New("not a number of seconds")
	}
	ns := math.Round(x * float64(time.Second))
	if math.IsNaN(ns) || ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return 0, errors.New("not a usable number of seconds")
	}
	return time.Duration(ns), nil
}

// formatSeconds writes a duration in seconds as Python writes a float
// (repr): "0.0", "2.0", "0.5", "1e-09", "1e+16".
func formatSeconds(d time.Duration) string {
	x := d.Seconds()
	if ax := math.Abs(x); ax != 0 && (ax < 1e-4 || ax >= 1e16) {
		return strconv.FormatFloat(x, 'e', -1, 64)
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// text returns an item's value as text (secrets included).
func (c *Config) text(it configItem) string {
	f := reflect.ValueOf(c).Elem().Field(it.field)
	switch it.kind {
	case kindDuration:
		return formatSeconds(time.Duration(f.Int()))
	case kindList:
		return strings.Join(f.Interface().([]string), ",")
	case kindBytes:
		return string(f.Bytes())
	}
	return fmt.Sprint(f.Interface())
}

// printable returns an item's value as Entries shows it: secrets as
// "<set>" or "".
func (c *Config) printable(it configItem) string {
	if it.secret {
		if reflect.ValueOf(c).Elem().Field(it.field).Len() > 0 {
			return "<set>"
		}
		return ""
	}
	return c.text(it)
}

// Set sets an item by its Pyro name from text, as the environment would,
// and records SourceCode. Setting struct fields directly works too but
// records no source.
func (c *Config) Set(name, value string) error {
	it, ok := configItemNamed(name)
	if !ok {
		return fmt.Errorf("config: unknown item %q", name)
	}
	if err := c.setText(it, value); err != nil {
		return fmt.Errorf("config %s=%s: %w", name, value, err)
	}
	c.setSource(name, SourceCode)
	return nil
}

// Source returns where the named item's value came from. A value changed
// by assigning the field directly reports SourceCode when it differs from
// both the builtin default and the environment value that was applied.
func (c *Config) Source(name string) Source {
	if s, ok := c.sources[name]; ok {
		return s
	}
	if it, ok := configItemNamed(name); ok {
		b := reflect.ValueOf(BuiltinConfig()).Elem().Field(it.field)
		v := reflect.ValueOf(c).Elem().Field(it.field)
		if !reflect.DeepEqual(b.Interface(), v.Interface()) {
			return SourceCode
		}
	}
	return SourceBuiltin
}

// ConfigEntry is one item of Config.Entries.
type ConfigEntry struct {
	Name   string // Pyro name
	Value  string // printable value (durations in seconds); secrets are masked
	Source Source
}

// Entries lists every item with its value and source, sorted by name.
// Secret values (HMAC key, key passwords) are shown as "<set>" or "".
// Durations are in seconds as Pyro prints them ("2.0").
func (c *Config) Entries() []ConfigEntry {
	out := make([]ConfigEntry, 0, len(configItems))
	for _, it := range configItems {
		out = append(out, ConfigEntry{Name: it.name, Value: c.printable(it), Source: c.Source(it.name)})
	}
	slices.SortFunc(out, func(a, b ConfigEntry) int { return strings.Compare(a.Name, b.Name) })
	return out
}
