package main

import (
	"errors"

	"github.com/pyrogo/pyro/mobile"
)

// parseGrants turns --grant OBJECT.METHOD flags into the mobile option
// and lines for the start-up message.
func parseGrants(grants []string) (mobile.Option, []string, error) {
	if len(grants) == 0 {
		return nil, nil, nil
	}
	return nil, nil, errors.New("granting objects to modules (agents) is not available in this build yet")
}
