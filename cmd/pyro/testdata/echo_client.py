"""Pyro4 client for the Go echo server: python3 echo_client.py URI SERIALIZER,... [shutdown]

Prints "OK <serializer>" per serializer, "SKIP <serializer>: why" when this
Python lacks it, and exits non-zero on the first failed check. The HMAC key
comes from ECHO_TEST_KEY when set.
"""
import math
import os
import sys

import Pyro4
import Pyro4.errors


def check(ser, uri, key):
    with Pyro4.Proxy(uri) as p:
        p._pyroSerializer = ser
        if key:
            p._pyroHmacKey = key.encode("utf-8")
        assert p.echo("hi") == "hi", "echo str"
        assert p.echo(42) == 42, "echo int"
        assert p.echo({"a": [1, 2]}) == {"a": [1, 2]}, "echo dict"
        assert p.echo(message="kw") == "kw", "echo keyword"
        try:
            p.error()
        except ValueError as e:
            assert type(e) is ValueError, "error type %r" % type(e)
            assert str(e) == "expected error from echoserver error() method", "error text %r" % str(e)
            assert "".join(Pyro4.util.getPyroTraceback()), "no traceback"
        else:
            raise AssertionError("error() raised nothing")
        try:
            p.error_with_text()
        except ValueError as e:
            assert str(e) == "the message of the error", "error_with_text %r" % str(e)
        else:
            raise AssertionError("error_with_text() raised nothing")
        assert list(p.generator()) == ["one", "two", "three"], "generator"
        if ser != "marshal":
            # Pyro4 4.82's marshal serializer cannot send remote attribute
            # access (dumpsCall fails on kwargs None), whatever the server
            assert p.verbose is False, "verbose initially %r" % p.verbose
            p.verbose = True
            assert p.verbose is True, "verbose after set"
            p.echo("logged by " + ser)
            p.verbose = False
        assert p.__dunder__() == "should be allowed (dunder)", "dunder"
        assert p.oneway_echo("one way") is None, "oneway_echo"
        assert math.isnan(p.nan()), "nan"
        inf = p.inf()
        assert math.isinf(inf) and inf > 0, "inf %r" % inf
        try:
            p.nosuch()
        except AttributeError:
            pass
        else:
            raise AssertionError("nosuch() did not raise AttributeError")


def main():
    uri, sers = sys.argv[1], sys.argv[2].split(",")
    key = os.environ.get("ECHO_TEST_KEY")
    for ser in sers:
        if ser == "msgpack":
            try:
                import msgpack  # noqa: F401
            except ImportError:
                print("SKIP msgpack: python3-msgpack is not installed")
                continue
        check(ser, uri, key)
        print("OK", ser)
    if len(sys.argv) > 3 and sys.argv[3] == "shutdown":
        with Pyro4.Proxy(uri) as p:
            if key:
                p._pyroHmacKey = key.encode("utf-8")
            p.shutdown()
        print("OK shutdown")


if __name__ == "__main__":
    main()
