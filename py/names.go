package py

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Snake returns the Python-style snake_case form of a Go identifier:
// "ListContents" → "list_contents", "getURI" → "get_uri", "HTTPServer" →
// "http_server", "ID" → "id", "Value2" → "value2". An underscore goes
// before an upper-case letter that follows a lower-case letter or digit,
// and before the last upper-case letter of a run that a lower-case letter
// follows (the end of an acronym), except when that lower-case letter is
// a lone plural "s" ("IDs" → "ids", "GetURIs" → "get_uris"); then
// everything is lower-cased. Existing underscores are kept.
func Snake(name string) string {
	rs := []rune(name)
	var b strings.Builder
	b.Grow(len(name) + 4)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1]) && !pluralS(rs, i+1)
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// pluralS reports whether rs[i] is an "s" that ends a word.
func pluralS(rs []rune, i int) bool {
	return rs[i] == 's' && (i+1 == len(rs) || !unicode.IsLower(rs[i+1]))
}

// Camel returns the exported Go form of a Python identifier: the parts
// between underscores, each with its first letter upper-cased, joined:
// "list_contents" → "ListContents", "getURI" → "GetURI", "get_uri" →
// "GetUri" (acronyms cannot be recovered; match with FoldName for that).
// Leading, trailing and repeated underscores disappear, so "__init__"
// becomes "Init": callers that must refuse private Python names check
// them before mapping.
func Camel(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for part := range strings.SplitSeq(name, "_") {
		if part == "" {
			continue
		}
		r, size := utf8.DecodeRuneInString(part)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(part[size:])
	}
	return b.String()
}

// FoldName returns the form in which names are compared when an exact match
// fails: lower-case, without underscores. Python and Go spellings of a name
// fold alike: FoldName("list_contents") == FoldName("ListContents") ==
// "listcontents", FoldName("get_uri") == FoldName("getURI").
func FoldName(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		return strings.ReplaceAll(strings.ToLower(name), "_", "")
	}
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}
