//go:build !race

package codec_test

// raceEnabled scales time bounds: the race detector slows decoding down
// by an order of magnitude.
const raceEnabled = false
