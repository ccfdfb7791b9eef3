package console

import "net/http"

// New returns the console's HTTP handler for b. It serves the page at
// "/pyro/" and its files and JSON API under "/console/".
//
// Placeholder until the console is built: it answers 404 to everything.
func New(b Backend) http.Handler {
	return http.NotFoundHandler()
}
