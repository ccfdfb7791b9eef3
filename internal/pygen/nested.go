package pygen

import "github.com/pyrogo/pyro/py"

// NestedList returns leaf inside n lists: [[...[leaf]...]]. Tests of
// depth limits use it.
func NestedList(n int, leaf any) any {
	v := leaf
	for range n {
		v = []any{v}
	}
	return v
}

// NestedDict returns leaf inside n dicts, each with the one key key:
// {key: {key: ... leaf}}.
func NestedDict(n int, key string, leaf any) any {
	v := leaf
	for range n {
		v = py.DictOf(key, v)
	}
	return v
}
