package py_test

import (
	"testing"

	"github.com/pyrogo/pyro/py"
)

func TestSnake(t *testing.T) {
	cases := map[string]string{
		"ListContents":  "list_contents",
		"listContents":  "list_contents",
		"getURI":        "get_uri",
		"GetURIs":       "get_uris",
		"HTTPServer":    "http_server",
		"ID":            "id",
		"Value2":        "value2",
		"Value2Go":      "value2_go",
		"already_snake": "already_snake",
		"X":             "x",
		"":              "",
		"ÄrgerÖl":       "ärger_öl",
	}
	for in, want := range cases {
		if got := py.Snake(in); got != want {
			t.Errorf("Snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCamel(t *testing.T) {
	cases := map[string]string{
		"list_contents": "ListContents",
		"getURI":        "GetURI",
		"get_uri":       "GetUri",
		"x":             "X",
		"__init__":      "Init",
		"a__b_":         "AB",
		"":              "",
		"ärger":         "Ärger",
	}
	for in, want := range cases {
		if got := py.Camel(in); got != want {
			t.Errorf("Camel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFoldName(t *testing.T) {
	groups := [][]string{
		{"list_contents", "ListContents", "listContents", "LIST_CONTENTS"},
		{"get_uri", "getURI", "GetUri"},
		{"Ärger", "ärger"},
	}
	for _, g := range groups {
		for _, n := range g[1:] {
			if py.FoldName(n) != py.FoldName(g[0]) {
				t.Errorf("FoldName(%q) = %q != FoldName(%q) = %q", n, py.FoldName(n), g[0], py.FoldName(g[0]))
			}
		}
	}
	if py.FoldName("ab") == py.FoldName("a_c") {
		t.Error("different names fold alike")
	}
	if got := py.FoldName("List_Contents"); got != "listcontents" {
		t.Errorf("FoldName = %q", got)
	}
}
