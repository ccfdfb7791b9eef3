package pyro_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// TestWarehouseSharedProxy runs the README's first example object with its
// proxy shared by many goroutines: the daemon calls the methods of one
// object concurrently, so under -race an unguarded Warehouse fails here.
func TestWarehouseSharedProxy(t *testing.T) {
	u := pyrotest.Serve(t, pyrotest.Config(), "obj", &Warehouse{}).String()
	p, err := pyro.NewProxy(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	const workers, each = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := p.Call(ctx, "store", fmt.Sprintf("item %d.%d", w, i)); err != nil {
					errs <- err
					return
				}
				if _, err := pyro.CallT[[]string](ctx, p, "contents"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	items, err := pyro.CallT[[]string](ctx, p, "contents")
	if err != nil || len(items) != workers*each {
		t.Fatalf("%d items, %v; want %d", len(items), err, workers*each)
	}
}
