// Package pytest runs real Python Pyro4 and Pyro5 peers for pyrogo's
// interop tests and benchmarks: it finds an interpreter that has Pyro4, serpent and
// msgpack, starts long-running Python servers and waits until they say
// they are ready, runs one-shot client scripts, and makes sure every
// process it started is gone when the test ends.
//
// Tests that need Python call Python (directly or through Start/Run). When
// no suitable interpreter exists the test is skipped, unless the
// environment variable CI is non-empty: then it fails, because CI must run
// the interop tests. PYROGO_PYTHON names an interpreter to use instead of
// /usr/bin/python3 or python3 on PATH.
//
// Every process runs as "python -u" (unbuffered, so readiness lines arrive
// at once) with an environment built by Env: the caller's environment
// without any PYRO_* variables (so a developer's settings cannot change
// what the tests exercise), plus PYTHONDONTWRITEBYTECODE=1 (no __pycache__
// in testdata), PYTHONHASHSEED=0 and PYTHONIOENCODING=utf-8, plus the
// PYRO_* settings the caller passes explicitly.
//
// The Pyro5 peer (protocol 502) is Pyro5's upstream source tree, found at
// ../shared/peers/Pyro5-src beside the module root or where PYROGO_PYRO5
// points; Pyro5 guards a test the same way (skip, or fail under CI) and
// Cmd.Pyro5 puts it on PYTHONPATH. StartEchoServer5, StartNameServer5 and
// StartServer5 run Pyro5's echo server, Pyro5's name server (with an
// optional broadcast responder on loopback) and the Pyro5 test server
// testdata/interop5/pyserver5.py; RunCalls5 runs the Pyro5 client runner
// testdata/interop5/pycall5.py with steps such as EchoSteps5 and
// TypedSteps5, and CheckGolden5 and NscSession5 compare with what Pyro5's
// own servers answered (testdata/interop5/golden, recorded by this
// package's tests with -update).
package pytest
