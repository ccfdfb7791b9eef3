package py_test

import (
	"testing"

	"github.com/pyrogo/pyro/py"
)

type benchArgs struct {
	Name  string             `pyro:"name"`
	Count int                `pyro:"count"`
	Tags  []string           `pyro:"tags"`
	Attrs map[string]float64 `pyro:"attrs"`
	Where *Point
}

var benchValue = benchArgs{Name: "n", Count: 3, Tags: []string{"a", "b"}, Attrs: map[string]float64{"x": 1, "y": 2}, Where: &Point{1, 2}}

func BenchmarkFromGoStruct(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := py.FromGo(benchValue); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromGoModel(b *testing.B) {
	var v any = []any{int64(1), "two", py.DictOf("k", []any{3.0})}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := py.FromGo(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvertStruct(b *testing.B) {
	m, _ := py.FromGo(benchValue)
	b.ReportAllocs()
	for b.Loop() {
		var out benchArgs
		if err := py.Convert(&out, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvertInt(b *testing.B) {
	var src any = int64(42)
	var out int
	b.ReportAllocs()
	for b.Loop() {
		if err := py.Convert(&out, src); err != nil {
			b.Fatal(err)
		}
	}
}
