package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pyrogo/pyro/mobile"
)

// parseGrants turns --grant OBJECT.METHOD flags into the mobile option
// and lines for the start-up message.
func parseGrants(grants []string) (mobile.Option, []string, error) {
	if len(grants) == 0 {
		return nil, nil, nil
	}
	for _, g := range grants {
		if i := strings.LastIndexByte(g, '.'); i <= 0 || i == len(g)-1 {
			return nil, nil, fmt.Errorf("%q: want OBJECT.METHOD", g)
		}
	}
	return nil, nil, errors.New("granting objects to modules (agents) is not available in this build yet")
}
