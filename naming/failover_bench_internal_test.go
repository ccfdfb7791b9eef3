package naming

import (
	"testing"
	"time"
)

// BenchmarkLocateList measures Locate over a list of two name servers
// whose first one is alive, refuses connections, or accepts them and
// never answers, with the head start Locate uses (staggered), with none
// (all at once: every Locate connects to every name server of the list)
// and with an unbounded one (in sequence: the next is tried only after
// the previous failed, here with a COMMTIMEOUT of 1 s).
//
//	go test -run '^$' -bench BenchmarkLocateList -benchtime 20x ./naming
func BenchmarkLocateList(b *testing.B) {
	s1, s2 := startNS(b, nil), startNS(b, nil)
	hung := startHungNS(b).addr
	firsts := map[string]string{"alive": nsLoc(s1.URI()), "dead": deadAddr(b), "hung": hung}
	for _, mode := range []struct {
		name    string
		stagger time.Duration
	}{{"staggered", nsStagger}, {"all-at-once", 0}, {"in-sequence", time.Hour}} {
		for _, first := range []string{"alive", "dead", "hung"} {
			b.Run(mode.name+"/first-"+first, func(b *testing.B) {
				old := nsStagger
				nsStagger = mode.stagger
				defer func() { nsStagger = old }()
				cfg := testConfig()
				cfg.CommTimeout = time.Second
				cfg.NSHost = firsts[first] + "," + nsLoc(s2.URI())
				ctx := ctxT(b)
				b.ReportAllocs()
				for b.Loop() {
					p, err := Locate(ctx, WithConfig(cfg), WithoutBroadcast())
					if err != nil {
						b.Fatal(err)
					}
					p.Close()
				}
			})
		}
	}
}
