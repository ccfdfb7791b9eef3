// Package accessrule is the access-policy engine shared by pyrogo's
// services: the name server (naming.Policy, pyro ns --policy) and the
// event server (pyro es --policy). It holds the rule syntax, the parser
// with line-numbered errors, a printer that writes rules back in the same
// syntax, and the evaluation: a client (Peer) is matched by passphrase
// identity, the common name of its verified TLS certificate and its host;
// the object of an operation (a name, a subject) by glob or prefix; the
// first rule that applies decides and what no rule allows is denied.
//
// A service brings its own operation words as a Vocabulary (NamingVocabulary,
// EventVocabulary): the engine knows nothing of what "register" or
// "publish" mean, only which operations concern an object, which key names
// that object in a rule, and whether objects compare case-insensitively.
//
// The syntax, one rule per line, "#" starting a comment at the beginning
// of a line or after white space:
//
//	allow|deny OPS [KEY=VALUE[,VALUE...]]...
//
// OPS is a comma-separated list of the vocabulary's operations, or all
// (also *). KEY is the vocabulary's object key (name, subject; glob),
// prefix (object prefix), identity (passphrase identity, glob), cn
// (verified certificate common name, glob) or host (IP address, CIDR
// range, or unix); a key may be repeated and its values add up. Within a
// rule every key given must match, and within one key any value may.
//
// The package is internal on purpose: Go users build a policy through the
// typed API of the service it is for (naming.Rule with naming.Op
// constants, and the event server's own), where a wrong operation is a
// compile error rather than a rule that never applies, and the engine's
// API stays free to change. The file syntax, which users do write, is the
// same for every service.
package accessrule
