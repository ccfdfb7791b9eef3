// Package testbound scales the time bounds of pyrogo's hang detectors in
// tests. Those bounds exist to catch hangs and quadratic blow-ups (which
// take minutes), not to measure speed, so they are generous and grow
// tenfold under the race detector, which slows decoding down that much.
package testbound
