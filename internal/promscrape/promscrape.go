// Package promscrape reads a Prometheus /metrics endpoint in tests: it
// parses the text format (with the Prometheus expfmt parser) into samples
// that tests compare with exact numbers.
package promscrape

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples maps a series, written as Key writes it, to its value. A
// histogram gives NAME_count and NAME_sum series.
type Samples map[string]float64

// Key is the series key of name with the label pairs (name, value, name,
// value, ...), its labels sorted: pyro_calls_total{a="x",b="y"}.
func Key(name string, labels ...string) string {
	if len(labels)%2 != 0 {
		panic("promscrape.Key: odd label list")
	}
	type kv struct{ k, v string }
	var ls []kv
	for i := 0; i < len(labels); i += 2 {
		ls = append(ls, kv{labels[i], labels[i+1]})
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].k < ls[j].k })
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l.k, l.v)
	}
	b.WriteByte('}')
	return b.String()
}

// Get returns the value of a series and whether it is there.
func (s Samples) Get(name string, labels ...string) (float64, bool) {
	v, ok := s[Key(name, labels...)]
	return v, ok
}

// Value returns the value of a series, 0 when it is not there.
func (s Samples) Value(name string, labels ...string) float64 {
	v, _ := s.Get(name, labels...)
	return v
}

// Count returns the number of series of the metric name (NAME_count
// series for a histogram).
func (s Samples) Count(name string) int {
	n := 0
	for k := range s {
		if strings.HasPrefix(k, name+"{") {
			n++
		}
	}
	return n
}

// Parse parses the Prometheus text format.
func Parse(r io.Reader) (Samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	out := Samples{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[Key(name, labels...)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[Key(name, labels...)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[Key(name+"_count", labels...)] = float64(m.GetHistogram().GetSampleCount())
				out[Key(name+"_sum", labels...)] = m.GetHistogram().GetSampleSum()
			case dto.MetricType_UNTYPED:
				out[Key(name, labels...)] = m.GetUntyped().GetValue()
			case dto.MetricType_SUMMARY:
				out[Key(name+"_count", labels...)] = float64(m.GetSummary().GetSampleCount())
				out[Key(name+"_sum", labels...)] = m.GetSummary().GetSampleSum()
			}
		}
	}
	return out, nil
}

// Scrape GETs url (a /metrics endpoint) and parses the answer; a failure
// fails the test.
func Scrape(t testing.TB, url string) Samples {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s", url, resp.Status)
	}
	s, err := Parse(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	return s
}

// Want is a series and the value a test expects of it.
type Want struct {
	Name   string
	Labels []string
	Value  float64
}

// W makes a Want: W(value, name, label pairs...).
func W(value float64, name string, labels ...string) Want {
	return Want{Name: name, Labels: labels, Value: value}
}

// Await scrapes url until every series has its wanted value (what a
// server counts after it answered, such as a connection's end, may lag
// the client by a moment), or fails the test after bound, listing the
// differences. It returns the last scrape.
func Await(t testing.TB, url string, bound time.Duration, wants ...Want) Samples {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		s := Scrape(t, url)
		var diffs []string
		for _, w := range wants {
			if got, ok := s.Get(w.Name, w.Labels...); !ok || got != w.Value {
				diffs = append(diffs, fmt.Sprintf("%s = %v (present %v), want %v", Key(w.Name, w.Labels...), got, ok, w.Value))
			}
		}
		if len(diffs) == 0 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics at %s after %v:\n%s", url, bound, strings.Join(diffs, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
