package accessrule

import (
	"fmt"
	"strings"
	"unicode"
)

// FormatRule writes r in the policy syntax of v, so that parsing the line
// gives r back (its Line aside). It fails for a rule the syntax cannot
// express: no operation or one v does not name, a value that is empty or
// holds a comma or white space, an invalid host range.
func (v *Vocabulary) FormatRule(r Rule) (string, error) {
	if r.Ops == 0 || r.Ops&^v.All() != 0 {
		return "", fmt.Errorf("rule has operations %#x, not a non-empty set of %s", uint32(r.Ops), v.opList())
	}
	var b strings.Builder
	if r.Allow {
		b.WriteString("allow ")
	} else {
		b.WriteString("deny ")
	}
	b.WriteString(v.Format(r.Ops))
	for _, c := range []struct {
		key  string
		vals []string
	}{{v.ObjectKey, r.Names}, {"prefix", r.Prefixes}, {"identity", r.Identities}, {"cn", r.CommonNames}} {
		if len(c.vals) == 0 {
			continue
		}
		for _, s := range c.vals {
			if s == "" || strings.ContainsRune(s, ',') || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
				return "", fmt.Errorf("%s value %q cannot be written in a policy file", c.key, s)
			}
		}
		b.WriteString(" " + c.key + "=" + strings.Join(c.vals, ","))
	}
	var hosts []string
	for _, h := range r.Hosts {
		if !h.IsValid() || h != h.Masked() {
			return "", fmt.Errorf("host range %v is not a valid masked prefix", h)
		}
		hosts = append(hosts, h.String())
	}
	if r.UnixHosts {
		hosts = append(hosts, "unix")
	}
	if len(hosts) > 0 {
		b.WriteString(" host=" + strings.Join(hosts, ","))
	}
	return b.String(), nil
}

// Format writes the policy in its syntax, one rule per line (see
// FormatRule).
func (p *Policy) Format() (string, error) {
	var b strings.Builder
	for i, r := range p.rules {
		line, err := p.vocab.FormatRule(r)
		if err != nil {
			return "", fmt.Errorf("rule %d: %w", i+1, err)
		}
		b.WriteString(line + "\n")
	}
	return b.String(), nil
}
