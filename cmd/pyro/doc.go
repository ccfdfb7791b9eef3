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
	es          run an event server (like Pyro3's pyro-es)
	mobile      mobile code: keys, signing, a server that runs it, client calls

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

# Keys, passphrases and connection limits

The HMAC key may also come from a file: --key-file FILE, or the
environment variable PYRO_HMAC_KEY_FILE (ns, nsc, echoserver, call). The
key is the file's text without the line end; "pyro genkey -o FILE" writes
a new random key to a new file with mode 0600. At most one of -k,
PYRO_HMAC_KEY and a key file may be given.

Passphrases (pyro.Daemon.SetAllowedIdentifications) come from a file
too: --passphrase-file FILE, or PYRO_PASSPHRASE_FILE, one passphrase per
line (empty lines and lines starting with # are skipped). The servers (ns,
echoserver) then refuse clients that do not prove one of them; the
clients (nsc, call) prove the first one. Key and passphrase files must be
accessible by their owner only (chmod 600), or the command refuses them
(exit status 2). Passphrases never travel over the wire, and a client
with one refuses a server that cannot prove it knows it too: see the
README for the scheme and the Python Pyro4 client that speaks it.

PYRO_MAXCONNECTIONS limits how many connections a server command (ns,
echoserver) serves at the same time; the limit is exact, and a client over
it gets "server too busy: MAXCONNECTIONS (N) reached". Servers bound to a
non-loopback address without TLS, HMAC key or passphrases log a warning.

# Metrics

--metrics ADDR (ns, es, echoserver, httpgateway) serves Prometheus
metrics on http://ADDR/metrics: connections open, accepted and refused
(by reason), bytes in and out, calls by object, method and outcome with
their latency, and the name server's lookups, registrations and names,
the event server's published, delivered and dropped events, or the
gateway's HTTP requests by method and status (package metrics). It is off by default; an ADDR that is not loopback gets a
warning in the log, since the metrics tell which objects, methods and
errors the server has. The command prints "Metrics on http://ADDR/metrics".

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

	pyro call [-k key] [--serializer NAME] [--protocol 4|5|auto] [--kw name=LITERAL]... [--timeout SECONDS] [--traceback] URI METHOD [ARG...]

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
	--protocol P        4 (Pyro4's 48), 5 (Pyro5's 502) or auto: detected per
	                    server (default: config PROTOCOL, auto)
	--kw name=LITERAL   a keyword argument; repeat for more
	--timeout SECONDS   time the whole call may take (default 30; 0 = no
	                    limit; COMMTIMEOUT also bounds each network operation)
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
	POLLTIMEOUT = 2.0  (builtin)

Secret values (HMAC_KEY, SSL_*KEYPASSWD) are never printed. Times are
in seconds, as Pyro prints them. Only the items pyrogo gives a meaning
are listed; the PYRO_ variables of Pyro4's other items (SERVERTYPE,
THREADPOOL_SIZE, THREADPOOL_SIZE_MIN, REQUIRE_EXPOSE, SOCK_NODELAY,
FLAME_ENABLED, PICKLE_PROTOCOL_VERSION, DILL_PROTOCOL_VERSION,
JSON_MODULE, USE_MSG_WAITALL) are ignored.

# TLS and mutual TLS

Every server command (echoserver, ns) and client command (call, nsc)
speaks TLS like Pyro4 with SSL=True, so Python peers interoperate. The
settings are Pyro's SSL_* config items, taken from the PYRO_SSL*
environment variables and from flags; a flag --ssl-ITEM sets the item
SSL_ITEM and wins over the environment, and any --ssl-* flag implies
--ssl:

	--ssl                      use TLS (SSL)
	--ssl-servercert FILE      server certificate, PEM (servers)
	--ssl-serverkey FILE       its private key (default: in the certificate file)
	--ssl-requireclientcert    demand client certificates: mutual TLS (servers)
	--ssl-cacerts FILE|DIR     CA certificates that verify the other side
	--ssl-clientcert FILE      client certificate, PEM (clients; echoserver -n)
	--ssl-clientkey FILE       its private key (default: in the certificate file)

The passwords of encrypted keys come only from PYRO_SSL_SERVERKEYPASSWD
and PYRO_SSL_CLIENTKEYPASSWD, never from a flag (other local users can
read command lines). TLS 1.2 is the minimum. A client checks that the
server certificate names the host of the URI (an IP address URI needs an
IP address in the certificate). With SSL_CACERTS set it trusts only those
CAs, otherwise the system's; a server requiring client certificates
trusts only SSL_CACERTS.

"pyro certs DIR" makes a development CA with a server and a client
certificate and prints the environment for both sides; mutual TLS then
takes two commands:

	pyro certs ./certs
	pyro echoserver --ssl-servercert certs/server.crt --ssl-serverkey certs/server.key \
		--ssl-cacerts certs/ca.crt --ssl-requireclientcert
	pyro call --ssl-cacerts certs/ca.crt --ssl-clientcert certs/client.crt \
		--ssl-clientkey certs/client.key PYRO:test.echoserver@localhost:PORT echo "'hi'"

A name server started with TLS flags (pyro ns) serves lookups over TLS;
pyro nsc, pyro call PYRONAME:... and pyro echoserver -n reach it with the
client flags.

# Several name servers

PYRO_NS_HOST (and pyro nsc -n) may list name servers, tried in order
with a 250 ms head start each, then broadcast discovery:
PYRO_NS_HOST=host1,host2:9095,[::1]:9090 (see naming.ParseNSHosts). pyro
nsc, pyro call PYRONAME:..., pyro echoserver -n and pyro es use the first
that answers. Several pyro ns on one host may share the broadcast port
(SOCK_REUSE, on by default): each answers broadcast discovery. Python
clients take one NS_HOST only; they fail over through discovery.

# Event server

	pyro es [-n host] [-p port] [-u unixsocket] [-N] [-s storage] [--policy FILE] [TLS, key and passphrase flags]

runs Pyro3's event service (package events) as Pyro.EventService:
publish(subjects, message), subscribe(subjects, subscriber),
subscribeMatch(patterns, subscriber) and unsubscribe(subjects, subscriber),
for Python Pyro4 and Pyro5 and Go programs. It prints Pyro3's lines, the
name server's warning when anyone can connect, and the URI:

	*** Pyro Event Server ***
	ES running on localhost:37017 (127.0.0.1)
	Warning: HMAC key not set. Anyone can connect to this server!
	URI = PYRO:Pyro.EventService@localhost:37017
	Registered Pyro.EventService in the name server at PYRO:Pyro.NameServer@localhost:9090
	Event Server started.

The port is a free one unless -p gives one (Pyro3's event server used the
daemon's default port; clients find it by name). Unless -N is given it
registers in the name server found as pyro nsc finds it (PYRO_NS_HOST,
PYRO_NS_PORT, broadcast), with its HMAC key, TLS client settings and first
passphrase; no name server is an error (exit status 1; Pyro3 failed too),
and so is another event server that answers under the name (Pyro3 asked
whether to replace it); a registration nobody answers at is replaced. At
SIGINT or SIGTERM it removes the registration if it still points at this
server, stops accepting calls, delivers what is queued for at most 5
seconds, and exits 0. The ES_QUEUESIZE, ES_BLOCKQUEUE and ES_BLOCKTIMEOUT
items (PYRO_ES_*) set the queues; -s memory is the only storage built in.

--policy FILE makes the event server enforce an access policy, with the
syntax of pyro ns --policy and the operations connect, publish, subscribe
(subject=GLOB, prefix=P), match (subscribeMatch) and thirdparty
(subscribing an object on another host than the client's, which is refused
without a rule that allows it):

	allow connect
	allow publish subject=lab.* identity=#0
	allow subscribe,match host=127.0.0.0/8

A refused call is a SecurityError naming what was denied.

# Name server access policy

	pyro ns --policy FILE [other flags]

makes the name server enforce an access policy: which clients, by
passphrase identity, TLS client certificate common name or host, may
connect, get a broadcast discovery answer, register or remove which names,
and look up or list which. One rule per line, # starts a comment:

	# allow|deny OPS [name=GLOB] [prefix=P] [identity=GLOB] [cn=GLOB] [host=IP|CIDR|unix]
	deny all host=10.0.0.0/8
	allow connect,broadcast
	allow register,remove name=lab.* identity=#0
	allow lookup,list name=*

OPS: connect, broadcast, register, remove, lookup, list or all, comma
separated. The first matching rule decides; what no rule allows is denied.
With --passphrase-file, the identity of the file's passphrases is #0, #1,
... in file order. A refused operation prints "Error: SecurityError - ..."
in pyro nsc and a warning in the server's log; a syntax error in FILE is a
usage error (exit status 2) naming the line. PYRONAME: resolution (pyro
call, echoserver -n) uses the client's --passphrase-file for the name
server too. The event server's policy (pyro es --policy) has the same
syntax, with its own operations. See SECURITY.md for
details.

# Mobile code

"pyro mobile" works with mobile code (package mobile): WebAssembly modules
that clients ship to a daemon, which validates and runs them sandboxed.

	pyro mobile keygen -o team                 # team.key (0600) and team.pub; never overwrites
	pyro mobile sign -key team.key filter.wasm # filter.wasm.sig; prints the module id
	pyro mobile inspect filter.wasm            # id, size, imports (REFUSED ones marked), exports
	pyro mobile serve -n 127.0.0.1 --trust team.pub
	pyro mobile load URI filter.wasm           # sends filter.wasm.sig if present; prints the id
	pyro mobile call URI ID summary "b'abc'" 97
	pyro mobile list URI
	pyro mobile unload URI ID

serve refuses every module unless --trust FILE (signed by a key of the
public key file), --allow-hash ID, --allow-identity NAME or --allow-host
PREFIX say otherwise, and says so when it starts; every kind of flag given
is a rule that a module must pass. --echo also serves test.echoserver, and
--grant OBJECT.METHOD lets modules call METHOD of the daemon's object
OBJECT (agents); nothing is granted by default. --memory MiB, --call-timeout
SECONDS and --max-module-size BYTES set the sandbox limits. The client
commands take the key, TLS, passphrase and --timeout flags of pyro call;
their URI is the Pyro.MobileCode URI serve prints (a PYRO URI of any other
object of the daemon means the same daemon). A refusal or a failure in the
module exits 1 with the server's reason ("pyro mobile load: SecurityError:
mobile: module ... refused: its signature does not verify with any of the
1 trusted keys").
*/
package main
