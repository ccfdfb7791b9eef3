// Package guest is the module side of pyrogo's mobile code calling
// convention (spec.md, "Mobile code"), for Go programs built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o m.wasm
//
// Importing it exports the allocator pyro_alloc. A value function is one
// line: an export named pyro_fn_NAME that hands its (ptr, len) to Call
// with a Go function of the decoded arguments:
//
//	//go:wasmexport pyro_fn_summary
//	func summary(ptr, n int32) int64 { return guest.Call(ptr, n, Summary) }
//
//	func Summary(args []any) (any, error) { ... }
//
// Arguments arrive as nil, bool, int64 (uint64 above MaxInt64), float64,
// string, []byte, []any and map[string]any (maps with other keys arrive
// as [][2]any); a result may be any of those, or int, int32, uint32,
// float32, []string, []int64, []float64 or map[string]int64. An error
// reaches the caller as a RuntimeError with its text. Numeric functions
// need nothing from this package: export them as they are.
//
// An agent (a module run by a service with mobile.WithGrants) calls the
// daemon's objects with Invoke, which imports pyro.invoke:
//
//	n, err := guest.Invoke("lab.records", "count")
//	recs, err := guest.Invoke("lab.records", "slice", start, 1000)
//
// The package builds only for wasip1 (and a host build of its codec for
// tests).
package guest
