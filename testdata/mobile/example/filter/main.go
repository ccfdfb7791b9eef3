// filter: a module that summarises the readings where they are, reading
// them page by page through the server's grant.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o filter.wasm ./filter
package main

import (
	"errors"
	"math"

	"github.com/pyrogo/pyro/mobile/guest"
)

func main() {}

//go:wasmexport pyro_fn_hot
func hot(ptr, n int32) int64 { return guest.Call(ptr, n, Hot) }

// Hot is hot(threshold): how many readings are above threshold, their
// mean, and the hottest reading.
func Hot(args []any) (any, error) {
	threshold, ok := args[0].(float64)
	if len(args) != 1 || !ok {
		return nil, errors.New("hot takes one float, the threshold")
	}
	total, err := guest.Invoke("lab.readings", "count")
	if err != nil {
		return nil, err
	}
	var count int64
	var sum float64
	var hottest map[string]any
	for start := int64(0); start < total.(int64); start += 1000 {
		page, err := guest.Invoke("lab.readings", "page", start, 1000)
		if err != nil {
			return nil, err
		}
		for _, r := range page.([]any) {
			rec := r.(map[string]any)
			if t := rec["temp"].(float64); t > threshold {
				count, sum = count+1, sum+t
				if hottest == nil || t > hottest["temp"].(float64) {
					hottest = rec
				}
			}
		}
	}
	mean := 0.0
	if count > 0 {
		mean = math.Round(sum/float64(count)*100) / 100
	}
	return map[string]any{"above": count, "mean": mean, "hottest": hottest}, nil
}
