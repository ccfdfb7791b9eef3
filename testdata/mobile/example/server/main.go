// server: a Go server holding sensor readings, with mobile code enabled
// for modules signed by a trusted key, which may read the readings.
//
//	go run ./server team.pub [RECORDS]
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/mobile"
)

// Readings holds the records: {"id", "sensor", "temp"} each.
type Readings struct{ rows []map[string]any }

// Count is the number of records.
func (r *Readings) Count() int { return len(r.rows) }

// Page returns at most n records from start.
func (r *Readings) Page(start, n int) []map[string]any {
	start = min(max(start, 0), len(r.rows))
	return r.rows[start:min(start+max(n, 0), len(r.rows))]
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: server TRUSTED.pub [RECORDS]")
	}
	n := 10_000
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	keyFile, err := os.ReadFile(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	keys, err := mobile.ParsePublicKeys(keyFile)
	if err != nil {
		log.Fatal(err)
	}
	readings := &Readings{}
	for i := range n {
		readings.rows = append(readings.rows, map[string]any{
			"id": i, "sensor": fmt.Sprintf("s%02d", i%16), "temp": float64(1500+i*7919%2000) / 100})
	}

	d, err := pyro.NewDaemon(pyro.BuiltinConfig(), pyro.WithHost("127.0.0.1"))
	if err != nil {
		log.Fatal(err)
	}
	d.Register(readings, "lab.readings")
	svc, err := mobile.Enable(d,
		mobile.WithValidator(mobile.SignedBy(keys...)), // only modules signed by team.pub
		mobile.WithGrants(mobile.Grant{Object: "lab.readings", Methods: []string{"count", "page"}}))
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close() // after the daemon stopped
	fmt.Println("readings:", d.URIFor("lab.readings"))
	fmt.Println("mobile code:", d.URIFor(mobile.ObjectID))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d.Serve(ctx) // until SIGINT or SIGTERM
}
