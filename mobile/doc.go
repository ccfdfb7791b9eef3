// Package mobile is pyrogo's mobile code: clients ship WebAssembly
// modules to a daemon, which checks them with code validators and runs
// their functions in a sandbox (github.com/tetratelabs/wazero, pure Go).
// It moves the computation to the data — filter a million records next
// to the instrument instead of shipping them — which Pyro3 offered with
// Python bytecode and Pyro4 and Pyro5 dropped because it could not be
// made safe.
//
// # Warning
//
// Pyro3's manual: "The mobile code support of Pyro is very powerful but
// also dangerous, because the server is running code that comes in over
// the wire. Any code can enter over the wire, correct, buggy, but also
// evil code (Trojans)." That remains true of any code you accept: the
// sandbox bounds what a module can touch and spend, not what it computes
// from the arguments it is given. Accept only modules you would run
// yourself (signed by a key you hold, or listed by hash), from clients
// you authenticated.
//
// # Enabling it
//
// It is off unless a program creates the service and registers it:
//
//	svc, err := mobile.Enable(d, mobile.WithValidator(mobile.SignedBy(pub)))
//	defer svc.Close() // after the daemon stopped
//
// which registers the object ObjectID ("Pyro.MobileCode"). Its remote API
// (Remote) takes plain values, so Python Pyro4/Pyro5 clients use it with
// no pyrogo code: load(module, signature=None) -> id (hex SHA-256),
// call(id, function, *args), unload(id), modules(). spec.md, section
// "Mobile code", defines the API, the errors, the calling convention
// (numeric functions directly; other values as msgpack through linear
// memory, with pyro_alloc and pyro_fn_NAME exports) and the file formats.
// Package mobile/guest makes a Go module's value function one line.
//
// # Validators
//
// Refusal is the default: without WithValidator every module is refused.
// A Validator sees the Request: who sends the module (passphrase
// identity, verified certificate CN and address, all from the connection,
// never from the client's claims), the module's SHA-256, size, imports,
// exports and memory, and the signature sent. It runs after the cheap
// checks (size, hash, the bounded decoding of Inspect, the import rule)
// and before anything is compiled; its error's text reaches the client in
// a SecurityError. Built-ins: AllowHashes, SignedBy (Ed25519 over
// SignedMessage, with key files as OpenSSL writes them), AllowIdentities,
// AllowHosts; WithValidator and Chain combine them, all must accept.
//
// # Agents
//
// A module may also call the daemon's objects, as Pyro3's mobile agents
// did, but only what the server grants. WithGrants offers modules the
// host function pyro.invoke (guest.Invoke in Go) and says which module
// (by id) on behalf of which client (passphrase identity or certificate
// CN) may call which methods of which object:
//
//	mobile.Enable(d, mobile.WithValidator(mobile.SignedBy(pub)),
//		mobile.WithGrants(mobile.Grant{Object: "lab.records", Methods: []string{"count", "slice"},
//			Identities: []string{"alice"}}))
//
// Nothing is granted by default: without grants a module importing
// pyro.invoke is refused at load; with grants, every invoke no grant
// allows is refused with a SecurityError the module sees (and, if it
// passes it on, its caller). A granted invoke runs through
// pyro.Daemon.Invoke, the daemon's own dispatch: the same lookup,
// exposure rules, argument conversion and interceptors as a remote call
// of the client that called the module, with the CallContext's Agent
// set to the module id, so an interceptor can tell the agent apart and
// judge it as that client. An agent can therefore do nothing its client
// could not do remotely, and less when the grants say so. It cannot load
// or call modules (Pyro.MobileCode cannot be granted), its invokes per
// call are capped (WithMaxInvokes), results and requests are bounded
// (WithMaxResultSize), and its calls end with the module call's time
// cap: a method that takes a context sees it end (one that ignores its
// context holds the module call, and its instance slot, until it
// returns, as it would hold a remote client's connection).
//
// # What the sandbox guarantees
//
//   - A module reaches nothing outside its own linear memory except the
//     WASI functions of the allowed set (see spec.md): no file system, no
//     network, no environment, no real clock or randomness unless granted
//     (WithSystemClock, WithRandom). Any other import is refused at load,
//     named in the error.
//   - Every call runs in a fresh instance, discarded afterwards: no state
//     passes from one call (or caller) to the next, and a trapped or
//     stopped instance leaves nothing behind. The price is the
//     instantiation: about 4.5 ms per call of a Go module (whose runtime
//     initialises in every instance) against 25 µs for a Go method
//     through the same daemon (BenchmarkCall).
//   - Memory per instance (WithMemoryPages; on 64-bit unix each
//     instance's memory is its own mapping, resident only where written
//     and returned to the system when the instance closes, so running
//     instances hold at most WithMaxInstances × WithMemoryPages: see
//     TestMemoryBounded), time per call
//     (WithCallTimeout: an endless loop is stopped and the caller gets a
//     TimeoutError), instances at once in all and per client
//     (WithMaxInstances), module size (WithMaxModuleSize, checked first),
//     modules loaded in all, per client and in bytes (WithMaxModules),
//     result size (WithMaxResultSize); the decoder that validators rely on
//     bounds counts that would make the compiler or an instance allocate
//     out of proportion to the module's bytes (locals, tables, functions,
//     globals). Only accepted modules are compiled, one at a time.
//   - Every failure is an error the caller sees with the reason (see
//     Error and its kinds); the daemon and other clients are unaffected.
//
// # What it does not guarantee
//
//   - That an accepted module computes what you expect, or keeps secret
//     what it is given: it returns whatever it likes to whoever calls it.
//     Any client that may connect to the daemon may call any loaded
//     module whose id it knows; restrict calls with the daemon's own
//     checks (passphrases, TLS client certificates, validators).
//   - Constant-time or side-channel-free execution, or a CPU-time bound:
//     the cap is wall-clock time, which bounds CPU use too.
//   - The compiler's own cost beyond the size bound: compiling takes CPU
//     in proportion to the size (about 0.4 s per MiB of Go module) and
//     cannot be interrupted; bound who may load (validators) and how much
//     (WithMaxModuleSize).
//   - That a granted object is safe to call from an agent: a grant gives
//     the module what the methods give, with the arguments it chooses, as
//     many times as WithMaxInvokes allows; grant methods, not objects
//     ("*"), where it matters.
//   - Anything about wazero's correctness: a bug in it is a bug in the
//     sandbox.
package mobile
