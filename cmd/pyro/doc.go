/*
Pyro is the pyrogo tool: Pyro4-compatible servers and clients that speak
the Pyro4 wire protocol 48, so they work with Python's Pyro4 in both
directions.

Install it with

	go install github.com/pyrogo/pyro/cmd/pyro@latest

Usage:

	pyro <command> [arguments]

The commands are:

	call        call a method of a remote object and print the result
	config      print the configuration and where each value comes from
	echoserver  run the test echo server (like pyro4-test-echoserver)

"pyro help <command>" or "pyro <command> -h" prints a command's flags.
Flags come before positional arguments; a flag may be written with one
dash or two (-kw, --kw).

Every command reads Pyro's configuration like Pyro4 does: the built-in
defaults, overridden by PYRO_<ITEM> environment variables (PYRO_HOST,
PYRO_SERIALIZER, PYRO_COMMTIMEOUT, ...). A PYRO_ variable whose value does
not parse is an error (exit status 2). The HMAC key that signs messages
comes from PYRO_HMAC_KEY, or from -k; -k prints a warning, because other
local users can read command lines in the process list, and -k together
with PYRO_HMAC_KEY is an error.

# pyro echoserver

	pyro echoserver [-H host] [-p port] [-u unixsocket] [-n] [-N] [-v] [-q] [-k key]

Runs the test echo server, the Go twin of pyro4-test-echoserver (python -m
Pyro4.test.echoserver): object "test.echoserver" with the methods echo,
error, error_with_text, oneway_echo, slow, generator, nan, inf,
oneway_slow, __dunder__ and shutdown, and the attribute verbose. It
prints

	Starting Pyro's built-in test echo server.
	Warning: HMAC key not set. Anyone can connect to this server!
	object name: test.echoserver
	echo uri: PYRO:test.echoserver@localhost:39017
	echoserver running.

(the warning only without a key; nothing with -q) and serves until a
client calls shutdown() or the process gets SIGINT or SIGTERM; then it
lets calls in progress finish (for at most 5 seconds) and exits with
status 0. A second signal kills it at once. It exits with status 1 when
it cannot serve (for example when the port is taken) and 2 for usage
errors, -k together with PYRO_HMAC_KEY, or an invalid PYRO_* value.

	-H host        bind to host (default: config HOST, localhost)
	-p port        bind to port (default 0: any free port)
	-u name        bind to a unix domain socket (@name: Linux abstract socket)
	-n, -N         register with / start a name server: not available yet
	               (the command fails with status 2)
	-v             verbose: print every call to stdout (overrides -q);
	               daemon log messages go to stderr
	-q             print nothing
	-k key         HMAC key (prefer PYRO_HMAC_KEY)

# pyro call

	pyro call [-k key] [--serializer NAME] [--kw name=LITERAL]... [--timeout SECONDS] [--traceback] URI METHOD [ARG...]

Calls METHOD of the remote object at URI (PYRO:id@host:port or
PYRO:id@./u:socketpath) and prints the result as Python's repr of it on
stdout. Each ARG, and the value of each --kw, is a Python literal as
ast.literal_eval reads it: 42, 1.5, 'text', b'bytes', None, True,
[1, (2, 3)], {'a': 1}. Quote strings twice, once for Python and once for
the shell:

	pyro call PYRO:test.echoserver@localhost:39017 echo "'hello'"
	'hello'
	pyro call --kw "message=[1,(2,3)]" PYRO:test.echoserver@localhost:39017 echo
	[1, (2, 3)]

A method that returns an iterator (a Python generator) prints one item per
line. Giving the name of a remote attribute as METHOD reads the attribute.
Bytes may print as serpent's {'data': ..., 'encoding': 'base64'} dict, as
they do in Python with the serpent serializer.

	-k key              HMAC key (prefer PYRO_HMAC_KEY)
	--serializer NAME   serpent, json, marshal or msgpack (default: config SERIALIZER)
	--kw name=LITERAL   a keyword argument; repeat for more
	--timeout SECONDS   timeout of each network operation (default: config
	                    COMMTIMEOUT; 0 = none)
	--traceback         print the remote traceback of a remote exception

Exit status: 0 on success. 1 when the remote method raised an exception,
which is printed on stderr as

	Error: ValueError: expected error from echoserver error() method

2 for usage errors (including an ARG that is not a literal) and for local
and transport errors, printed as "Error: <text>".

# pyro config

	pyro config

Prints every configuration item, its value and where the value comes from
(builtin, environment or code), sorted by name like pyro4-check-config:

	HOST = localhost  (builtin)
	HMAC_KEY = <set>  (environment)

Secret values (HMAC_KEY, SSL_*KEYPASSWD) are never printed.
*/
package main
