package sqlstore

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pyrogo/pyro/naming"
)

// benchN is the number of registrations in the benchmarks' database.
const benchN = 100_000

// benchEntry is registration i of the benchmark database: 100 groups of
// 1000 names ("svc.g42.obj004242"), each with a class tag (10 classes)
// and a group tag.
func benchEntry(i int) naming.Entry {
	return naming.Entry{
		Name:     fmt.Sprintf("svc.g%02d.obj%06d", i%100, i),
		URI:      fmt.Sprintf("PYRO:obj_%06d@10.0.%d.%d:9999", i, i/250%250, i%250),
		Metadata: []string{fmt.Sprintf("class:C%d", i%10), fmt.Sprintf("group:%02d", i%100)},
	}
}

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// benchTemplate returns a closed database file holding benchN entries,
// made once per test binary run (in one transaction: a durable Put for
// each would take minutes) and removed by TestMain.
func benchTemplate(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "sqlstore-bench")
		if benchErr != nil {
			return
		}
		benchErr = bulkLoad(filepath.Join(benchDir, "template.db"), benchN)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "template.db")
}

// bulkLoad creates a store in path with entries 0..n-1 of benchEntry.
func bulkLoad(path string, n int) error {
	s, err := Open(path)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.write(func(tx *sql.Tx) error {
		st := s.txStmts(tx)
		for i := range n {
			e := benchEntry(i)
			res, err := st.insName.Exec(e.Name, e.URI)
			if err != nil {
				return err
			}
			id, _ := res.LastInsertId()
			for _, t := range e.Metadata {
				if _, err := st.insMeta.Exec(id, t); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func removeBenchTemplate() {
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
}

// benchStore opens a private copy of the benchmark database.
func benchStore(b *testing.B) *Store {
	b.Helper()
	src := benchTemplate(b)
	dst := filepath.Join(b.TempDir(), "bench.db")
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	out.Close()
	s, err := Open(dst)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	b.ResetTimer()
	return s
}

// BenchmarkPut is one durable registration (a transaction with an fsync)
// in a database of 100,000.
func BenchmarkPut(b *testing.B) {
	s := benchStore(b)
	b.Run("new", func(b *testing.B) {
		for i := range b.N {
			e := benchEntry(benchN + i)
			e.Name = fmt.Sprintf("new.%d.%d", b.N, i)
			if err := s.Put(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replace", func(b *testing.B) {
		for i := range b.N {
			if err := s.Put(benchEntry(i * 7919 % benchN)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGet looks up one name (with its tags) among 100,000.
func BenchmarkGet(b *testing.B) {
	s := benchStore(b)
	b.Run("serial", func(b *testing.B) {
		for i := range b.N {
			name := benchEntry(i * 7919 % benchN).Name
			if _, ok, err := s.Get(name); !ok || err != nil {
				b.Fatal(name, ok, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				name := benchEntry(int(next.Add(7919) % benchN)).Name
				if _, ok, err := s.Get(name); !ok || err != nil {
					b.Fatal(name, ok, err)
				}
			}
		})
	})
}

// BenchmarkListPrefix lists the 1000 names of one group, and one name,
// among 100,000.
func BenchmarkListPrefix(b *testing.B) {
	s := benchStore(b)
	for _, c := range []struct {
		prefix string
		n      int
	}{{"svc.g42.", 1000}, {"svc.g42.obj004242", 1}} {
		b.Run(fmt.Sprintf("%d_results", c.n), func(b *testing.B) {
			for range b.N {
				got, err := s.ListPrefix(c.prefix)
				if err != nil || len(got) != c.n {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// BenchmarkListMetadata runs metadata_all and metadata_any queries over
// 100,000 names with 200,000 tags.
func BenchmarkListMetadata(b *testing.B) {
	s := benchStore(b)
	for _, c := range []struct {
		name string
		tags []string
		all  bool
		n    int
	}{
		{"all_1000_results", []string{"class:C3", "group:13"}, true, 1000},
		{"all_0_results", []string{"class:C3", "group:14"}, true, 0},
		{"any_2000_results", []string{"group:01", "group:02"}, false, 2000},
		{"any_10000_results", []string{"class:C7"}, false, 10000},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				got, err := s.ListMetadata(c.tags, c.all)
				if err != nil || len(got) != c.n {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// BenchmarkAll iterates over all 100,000 entries (what list() without a
// filter, and regex listing, cost).
func BenchmarkAll(b *testing.B) {
	s := benchStore(b)
	for range b.N {
		n := 0
		for _, err := range s.All() {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchN {
			b.Fatal(n)
		}
	}
}

// BenchmarkDelete removes 1000 names (one group, as remove(prefix=...)
// would) in one durable transaction from a database of 100,000, and puts
// them back outside the timer.
func BenchmarkDelete(b *testing.B) {
	s := benchStore(b)
	group := make([]string, 0, 1000)
	for i := 42; i < benchN; i += 100 {
		group = append(group, benchEntry(i).Name)
	}
	for range b.N {
		if n, err := s.Delete(group...); err != nil || n != len(group) {
			b.Fatal(n, err)
		}
		b.StopTimer()
		if err := s.write(func(tx *sql.Tx) error {
			st := s.txStmts(tx)
			for i := 42; i < benchN; i += 100 {
				e := benchEntry(i)
				res, err := st.insName.Exec(e.Name, e.URI)
				if err != nil {
					return err
				}
				id, _ := res.LastInsertId()
				for _, t := range e.Metadata {
					if _, err := st.insMeta.Exec(id, t); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkLen counts 100,000 entries.
func BenchmarkLen(b *testing.B) {
	s := benchStore(b)
	for range b.N {
		if n, err := s.Len(); err != nil || n != benchN {
			b.Fatal(n, err)
		}
	}
}
