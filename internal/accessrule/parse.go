package accessrule

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
)

// SyntaxError is a syntax error in a policy, at Line (from 1).
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("policy line %d: %s", e.Line, e.Msg) }

// Load reads a policy file in v's words.
func Load(v *Vocabulary, path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := Parse(v, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse parses a policy in v's words. A syntax error is a *SyntaxError
// naming the line; a line longer than bufio.MaxScanTokenSize is
// bufio.ErrTooLong.
func Parse(v *Vocabulary, r io.Reader) (*Policy, error) {
	sc := bufio.NewScanner(r)
	p := &Policy{vocab: v}
	line := 0
	for sc.Scan() {
		line++
		rule, ok, err := v.parseRule(sc.Text())
		if err != nil {
			return nil, &SyntaxError{Line: line, Msg: err.Error()}
		}
		if ok {
			rule.Line = line
			p.rules = append(p.rules, rule)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// ParseString parses a policy given as text.
func ParseString(v *Vocabulary, s string) (*Policy, error) { return Parse(v, strings.NewReader(s)) }

// parseRule parses one line; ok is false for a blank or comment line.
func (v *Vocabulary) parseRule(text string) (Rule, bool, error) {
	var fields []string
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "#") {
			break
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		return Rule{}, false, nil
	}
	var r Rule
	switch fields[0] {
	case "allow":
		r.Allow = true
	case "deny":
	default:
		return r, false, fmt.Errorf("rule must start with allow or deny, not %q", fields[0])
	}
	if len(fields) < 2 || strings.Contains(fields[1], "=") {
		return r, false, errors.New("missing operations (" + v.opList() + ")")
	}
	ops, err := v.parseOps(fields[1])
	if err != nil {
		return r, false, err
	}
	r.Ops = ops
	for _, f := range fields[2:] {
		key, val, ok := strings.Cut(f, "=")
		if !ok {
			return r, false, fmt.Errorf("condition %q is not key=value", f)
		}
		vals := strings.Split(val, ",")
		for _, v := range vals {
			if v == "" {
				return r, false, fmt.Errorf("empty value in %q", f)
			}
		}
		switch key {
		case v.ObjectKey:
			r.Names = append(r.Names, vals...)
		case "prefix":
			r.Prefixes = append(r.Prefixes, vals...)
		case "identity":
			r.Identities = append(r.Identities, vals...)
		case "cn":
			r.CommonNames = append(r.CommonNames, vals...)
		case "host":
			for _, v := range vals {
				if v == "unix" {
					r.UnixHosts = true
					continue
				}
				pfx, err := parseHost(v)
				if err != nil {
					return r, false, err
				}
				r.Hosts = append(r.Hosts, pfx)
			}
		default:
			return r, false, fmt.Errorf("unknown condition %q (want %s)", key, v.keyList())
		}
	}
	return r, true, nil
}

// parseHost parses an IP address or CIDR range.
func parseHost(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return p, fmt.Errorf("bad host range %q", v)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad host address %q", v)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
