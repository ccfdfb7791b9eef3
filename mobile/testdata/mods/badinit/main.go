// Command badinit loops for ever in its package initialisation, which
// runs in _initialize when an instance starts.
package main

var n int

func init() {
	for {
		n++
	}
}

func main() {}

//go:wasmexport add
func add(a, b int32) int32 { return a + b + int32(n) }
