// Package uri parses and formats Pyro object URIs exactly as Pyro4 4.82
// does:
//
//	PYRO:objectid@host:port          a daemon object over TCP
//	PYRO:objectid@[::1]:port         the same over IPv6
//	PYRO:objectid@./u:/path/sock     over a unix domain socket
//	PYRONAME:name[@nshost[:nsport]]  a name to look up in a name server
//	PYROMETA:tag1,tag2[@nshost[:p]]  any object carrying all the tags
//
// The protocol is case-insensitive and stored in upper case. Parse errors
// carry Pyro's own messages ("invalid uri", "invalid port in uri,
// port=x", ...). A URI also knows its serialized dict form
// {'__class__': 'Pyro4.core.URI', 'state': (protocol, object, sockname,
// host, port)} through PyroClassDict and FromState.
package uri
