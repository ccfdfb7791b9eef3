package pytest

import (
	"strings"
)

// The step sets below are what Pyro5 clients are checked with. The
// peers' own tests (pyro5_peers_internal_test.go) run them against
// Pyro5's servers and record the answers in testdata/interop5/golden; the
// Pyro5 interop tests run the same sets against pyrogo's servers and
// compare with those answers.

// echoValue5 is one value of the echo corpus: a name and a Python
// expression.
type echoValue5 struct{ name, expr string }

var echoCorpus5 = []echoValue5{
	{"none", "None"}, {"true", "True"}, {"false", "False"},
	{"int_zero", "0"}, {"int_neg", "-42"}, {"int_max64", "2 ** 63 - 1"}, {"int_min64", "-2 ** 63"},
	{"uint64_max", "2 ** 64 - 1"}, {"bigint", "2 ** 100 + 12345"}, {"bigint_neg", "-(3 ** 70)"},
	{"bigint_huge", "2 ** 1000 + 1"}, {"bigint_huge_neg", "-(2 ** 999)"},
	{"float", "3.141592653589793"}, {"float_neg_zero", "-0.0"}, {"float_tiny", "5e-324"},
	{"float_huge", "1.7976931348623157e308"}, {"float_int_valued", "2.0"},
	{"nan", "float('nan')"}, {"inf", "float('inf')"}, {"neg_inf", "float('-inf')"},
	{"str", "'hello'"}, {"str_empty", "''"},
	{"unicode", `'h\u00e4\u00dflich \u20ac \u2603 \U0001d11e \u4e2d\u6587 \u0645\u0631\u062d\u0628\u0627'`},
	{"str_escapes", `'it\'s "quoted" \\ back\nnew\ttab\rcr \x7f \x01 \u2028'`},
	{"str_nul", `'a\x00b\x00'`},
	{"str_long", "'0123456789abcdef' * 256"},
	{"bytes", `b'\x00\x01\xff\xfeabc'`}, {"bytes_empty", "b''"}, {"bytearray", "bytearray(b'ab')"},
	{"list", "[1, 'a', 2.5, None, True]"}, {"list_empty", "[]"}, {"list_long", "list(range(300))"},
	{"tuple", "(1, 2, 'x')"}, {"tuple_empty", "()"},
	{"dict", "{'a': 1, 'b': [1, 2], 'c': {'d': None}}"}, {"dict_empty", "{}"},
	{"dict_int_keys", "{1: 'one', 2: 'two', -3: [3]}"},
	{"dict_mixed_keys", "{'s': 1, 2: 'i', 2.5: 'f', True: 'b'}"},
	{"dict_tuple_key", "{(1, 'a'): 'tk'}"},
	{"dict_unicode_keys", `{'\u00e9t\u00e9': 1, '\U0001f600': ['\u2603']}`},
	{"set", "{1, 2, 3}"}, {"set_str", "{'x', 'y'}"}, {"set_tuples", "{(1, 2), (3, 'x')}"},
	{"frozenset", "frozenset([1, 'a'])"},
	{"nested", "{'a': [1, {'b': (2, 3)}], 'c': {'d': {'e': [], 'f': ({'g': 1},)}}}"},
	{"deep", strings.Repeat("[", 40) + strings.Repeat("]", 40)},
	{"mixed_nesting", "[(), [], {}, set(), ((),), [[]], {'a': ()}]"},
	{"complex", "1.5 - 2j"},
	{"floats_nested", "[float('nan'), float('inf'), -float('inf'), -0.0, {'x': float('nan')}, (1e-300,)]"},
	{"datetime", "datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)"},
	{"date", "datetime.date(2024, 1, 2)"},
	{"uuid", "uuid.UUID('12345678-1234-4234-8234-123456789abc')"},
	{"uri", "Pyro5.api.URI('PYRO:obj@example.org:1234')"},
}

// EchoSteps5 are the echo server checks for a Pyro5 client: every value
// of the corpus echoed (name "echo/<value>"), then the echo server's
// features (errors, oneway, generator, the verbose attribute, metadata,
// keyword arguments, Pyro.Daemon). uri is the echo server's URI
// (object test.echoserver), daemonURI its daemon's (object Pyro.Daemon).
// Pyro5's echo server sleeps in slow and oneway_slow, in a multiplexed
// server, so they are not called.
func EchoSteps5(uri, daemonURI string) []Step5 {
	var steps []Step5
	for _, v := range echoCorpus5 {
		steps = append(steps, Step5{Name: "echo/" + v.name, URI: uri, Method: "echo", Args: "(" + v.expr + ",)"})
	}
	return append(steps,
		Step5{Name: "echo/kwargs", URI: uri, Method: "echo", Kwargs: "{'message': 'by keyword'}"},
		Step5{Name: "echo/error", URI: uri, Method: "error"},
		Step5{Name: "echo/error_with_text", URI: uri, Method: "error_with_text"},
		Step5{Name: "echo/oneway_echo", URI: uri, Method: "oneway_echo", Args: "('fire and forget',)"},
		Step5{Name: "echo/after_oneway", URI: uri, Method: "echo", Args: "(1,)"},
		Step5{Name: "echo/generator", URI: uri, Op: "stream", Method: "generator"},
		Step5{Name: "echo/generator_closed", URI: uri, Op: "stream", Method: "generator", Take: 1, CheckClosed: true},
		Step5{Name: "echo/verbose", URI: uri, Proxy: "echo", Op: "getattr", Attr: "verbose"},
		Step5{Name: "echo/verbose_set", URI: uri, Proxy: "echo", Op: "setattr", Attr: "verbose", Value: "False"},
		Step5{Name: "echo/verbose_after_set", URI: uri, Proxy: "echo", Op: "getattr", Attr: "verbose"},
		Step5{Name: "echo/dunder", URI: uri, Method: "__dunder__"},
		Step5{Name: "echo/private", URI: uri, Method: "_private"},
		Step5{Name: "echo/unknown_method", URI: uri, Method: "nosuchmethod"},
		Step5{Name: "echo/nan_method", URI: uri, Method: "nan"},
		Step5{Name: "echo/inf_method", URI: uri, Method: "inf"},
		Step5{Name: "echo/metadata", URI: uri, Op: "metadata"},
		Step5{Name: "echo/batch", URI: uri, Op: "batch", Batch: []Step5{
			{Method: "echo", Args: "(1,)"}, {Method: "echo", Args: "('two',)"}, {Method: "error"}, {Method: "echo", Args: "(4,)"}}},
		Step5{Name: "daemon/ping", URI: daemonURI, Method: "ping"},
		Step5{Name: "daemon/get_metadata", URI: daemonURI, Method: "get_metadata", Args: "('test.echoserver',)"},
		Step5{Name: "daemon/get_metadata_unknown", URI: daemonURI, Method: "get_metadata", Args: "('nope',)"},
		Step5{Name: "daemon/next_item_unknown_stream", URI: daemonURI, Method: "get_next_stream_item", Args: "('no-such-stream',)"},
		Step5{Name: "daemon/metadata", URI: daemonURI, Op: "metadata"},
	)
}

// TypedSteps5 are the checks of a typed object for a Pyro5 client,
// mirroring the Pyro4 suite's typed/* cases (testdata/interop/pyclient.py):
// uri is the object's URI (the Go interop suite's typed object, or
// pyserver5.py's Typed), daemonURI its daemon's Pyro.Daemon. The steps
// share proxies where the order matters (attribute, oneway), and expect
// the object in its initial state (label "initial", no oneway calls yet).
func TypedSteps5(uri, daemonURI string) []Step5 {
	s := func(name, method, args string) Step5 {
		return Step5{Name: "typed/" + name, URI: uri, Method: method, Args: args}
	}
	kw := func(name, method, args, kwargs string) Step5 {
		return Step5{Name: "typed/" + name, URI: uri, Method: method, Args: args, Kwargs: kwargs}
	}
	return []Step5{
		s("ints", "add_ints", "(2 ** 40, 3)"),
		s("ints_neg", "add_ints", "(-5, 2)"),
		s("ints_overflow", "add_ints", "(2 ** 70, 1)"),
		s("arity_missing", "add_ints", "(1,)"),
		s("arity_too_many", "add_ints", "(1, 2, 3)"),
		s("floats", "mul_float", "(1.5, 2)"),
		s("floats_overflow", "mul_float", "(1e308, 10)"),
		s("strings", "concat", `('\u00e4', '\U0001d11e')`),
		s("bytes", "reverse_bytes", `(b'\x00abc\xff',)`),
		s("sum_list", "sum_list", "([1, 2, 3],)"),
		s("sum_list_tuple", "sum_list", "((4, 5),)"),
		s("sum_list_empty", "sum_list", "([],)"),
		s("sum_list_bad_element", "sum_list", "([1, 'x'],)"),
		s("sorted_keys", "sorted_keys", "({'b': 1, 'a': [2], 'c': None},)"),
		s("invert", "invert", "({'x': 1, 'y': 2},)"),
		s("struct", "scale", "({'x': 1.5, 'y': -2.0}, 2)"),
		kw("struct_keywords", "scale", "", "{'p': {'x': 1, 'y': 1}, 'factor': 0.5}"),
		s("people", "people", ""),
		s("greet_positional", "greet", "('Ann', 'hi', '.')"),
		kw("greet_keywords", "greet", "", "{'name': 'Ann', 'greeting': 'hey', 'punct': '!'}"),
		kw("greet_mixed", "greet", "('Bob',)", "{'punct': '?', 'greeting': 'yo'}"),
		kw("greet_bogus_keyword", "greet", "('Ann',)", "{'bogus': 1}"),
		kw("greet_multiple_values", "greet", "('Ann',)", "{'name': 'x', 'greeting': 'a', 'punct': 'b'}"),
		kw("opts", "opts", "(1,)", "{'x': 2, 'y': 'z'}"),
		s("is_none", "is_none", "(None,)"),
		s("is_none_zero", "is_none", "(0,)"),
		s("return_none", "return_none", ""),
		s("opt_name_none", "opt_name", "(None,)"),
		s("opt_name", "opt_name", "('x',)"),
		s("sum", "sum", "(1, 2.5, 3)"),
		s("sum_empty", "sum", ""),
		s("lookup", "lookup", "('a',)"),
		s("key_error", "lookup", "('nope',)"),
		s("panic", "panic", ""),
		s("after_panic", "add_ints", "(1, 1)"),
		s("size_str", "size", "('x' * 3000000,)"),
		s("size_bad", "size", "(1,)"),
		{Name: "typed/label", URI: uri, Proxy: "typed", Op: "getattr", Attr: "label"},
		{Name: "typed/label_set", URI: uri, Proxy: "typed", Op: "setattr", Attr: "label", Value: `'n\u00e9w'`},
		{Name: "typed/label_after_set", URI: uri, Proxy: "typed", Op: "getattr", Attr: "label"},
		{Name: "typed/label_reset", URI: uri, Proxy: "typed", Op: "setattr", Attr: "label", Value: "'initial'"},
		{Name: "typed/oneway", URI: uri, Proxy: "typed", Method: "oneway_note", Args: "('x',)"},
		{Name: "typed/oneway_done", URI: uri, Proxy: "typed", Op: "wait", Method: "oneways", Equals: "1"},
		{Name: "typed/batch", URI: uri, Op: "batch", Batch: []Step5{
			{Method: "add_ints", Args: "(1, 2)"}, {Method: "concat", Args: "('a', 'b')"},
			{Method: "lookup", Args: "('nope',)"}, {Method: "add_ints", Args: "(3, 4)"}}},
		{Name: "typed/batch_all_good", URI: uri, Op: "batch", Batch: []Step5{
			{Method: "add_ints", Args: "(5, 5)"}, {Method: "sum_list", Args: "([1, 2],)"}}},
		{Name: "typed/batch_oneway", URI: uri, Op: "batch", Oneway: true, Batch: []Step5{
			{Method: "oneway_note", Args: "('a',)"}, {Method: "oneway_note", Args: "('b',)"}}},
		{Name: "typed/batch_oneway_done", URI: uri, Op: "wait", Method: "oneways", Equals: "3"},
		{Name: "typed/autoproxy", URI: uri, Method: "child", Follow: &Step5{Method: "name"}},
		{Name: "typed/autoproxy_list", URI: uri, Method: "children", Follow: &Step5{Method: "name"}},
		{Name: "typed/autoproxy_nested", URI: uri, Method: "child_map", Follow: &Step5{Method: "name"}},
		s("uri_result", "obj_uri", "('thing',)"),
		s("uri_argument", "uri_text", "(Pyro5.api.URI('PYRO:x@./u:/tmp/s'),)"),
		{Name: "typed/context", URI: uri, Method: "context_info", Annotations: map[string]string{"XTRA": "hello"},
			CorrelationID: "12345678-1234-4234-8234-123456789abc"},
		{Name: "typed/stream", URI: uri, Op: "stream", Method: "countdown", Args: "(3,)"},
		{Name: "typed/stream_closed", URI: uri, Op: "stream", Method: "countdown", Args: "(5,)", Take: 2, CheckClosed: true},
		{Name: "typed/metadata", URI: uri, Op: "metadata"},
		{Name: "typed/unknown_method", URI: uri, Method: "no_such"},
		{Name: "daemon/ping", URI: daemonURI, Method: "ping"},
		{Name: "daemon/get_metadata", URI: daemonURI, Method: "get_metadata", Args: "('typed',)"},
		{Name: "daemon/get_metadata_unknown", URI: daemonURI, Method: "get_metadata", Args: "('nope',)"},
	}
}
