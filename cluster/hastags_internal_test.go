package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pyrogo/pyro/naming"
)

// hasTagsNaive is the definition hasTags implements: count the query's
// tags that the entry holds.
func hasTagsNaive(have, tags []string, all bool) bool {
	n := 0
	for _, t := range tags {
		if slices.Contains(have, t) {
			n++
		}
	}
	if all {
		return n == len(tags)
	}
	return n > 0
}

func TestHasTags(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	set := func(max int) []string {
		var s []string
		for range r.IntN(max + 1) {
			s = append(s, fmt.Sprint("t", r.IntN(8)))
		}
		return naming.NormalizeTags(s)
	}
	for range 5000 {
		have, tags := set(6), set(6)
		for _, all := range []bool{true, false} {
			if got, want := hasTags(have, tags, all), hasTagsNaive(have, tags, all); got != want {
				t.Fatalf("hasTags(%q, %q, all=%v) = %v, want %v", have, tags, all, got, want)
			}
		}
	}
}

// BenchmarkHasTagsHugeQuery is a client's list(metadata_any=...) or
// list(metadata_all=...) with 100,000 tags against one entry of 3 tags:
// the cost per entry follows the entry's tags, not the query's.
func BenchmarkHasTagsHugeQuery(b *testing.B) {
	var q []string
	for i := range 100000 {
		q = append(q, fmt.Sprint("q", i))
	}
	q = naming.NormalizeTags(q)
	have := []string{"a", "b", "c"}
	for _, all := range []bool{false, true} {
		b.Run(fmt.Sprint("all=", all), func(b *testing.B) {
			for b.Loop() {
				hasTags(have, q, all)
			}
		})
	}
}
