// Package console is pyrogo's web console: a page, served from the
// binary, that lists the names a gateway exposes with their metadata,
// shows each object's methods and attributes, calls a method with
// literal arguments, and shows the gateway's live counters. It talks to
// the name server and to daemons only through a Backend (the HTTP
// gateway of package gateway).
package console
