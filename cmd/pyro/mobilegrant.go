package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pyrogo/pyro/mobile"
)

// parseGrants turns --grant OBJECT.METHOD flags into the mobile option
// (one mobile.Grant per object, for any loaded module and any client)
// and lines for the start-up message. The object id is everything
// before the last dot, so ids with dots (test.echoserver) work.
func parseGrants(grants []string) (mobile.Option, []string, error) {
	if len(grants) == 0 {
		return nil, nil, nil
	}
	var order []string
	methods := map[string][]string{}
	for _, g := range grants {
		i := strings.LastIndexByte(g, '.')
		if i <= 0 || i == len(g)-1 {
			return nil, nil, fmt.Errorf("%q: want OBJECT.METHOD", g)
		}
		object, method := g[:i], g[i+1:]
		if object == mobile.ObjectID {
			return nil, nil, fmt.Errorf("%q: %s cannot be granted", g, mobile.ObjectID)
		}
		if _, seen := methods[object]; !seen {
			order = append(order, object)
		}
		if !slices.Contains(methods[object], method) {
			methods[object] = append(methods[object], method)
		}
	}
	gs := make([]mobile.Grant, 0, len(order))
	said := make([]string, 0, len(order))
	for _, object := range order {
		gs = append(gs, mobile.Grant{Object: object, Methods: methods[object]})
		said = append(said, object+": "+strings.Join(methods[object], ", "))
	}
	return mobile.WithGrants(gs...), said, nil
}
