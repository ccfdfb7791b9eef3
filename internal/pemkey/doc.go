// Package pemkey reads the private keys of pyrogo's TLS settings
// (SSL_SERVERKEY, SSL_CLIENTKEY and their passwords) in the forms Pyro
// users have them: unencrypted PEM (PKCS#1, PKCS#8, SEC 1), encrypted
// PKCS#8 (PBES2 with PBKDF2 and AES-CBC or DES-EDE3-CBC: what
// "openssl pkcs8 -topk8", OpenSSL 3 and Python's cryptography write), and
// OpenSSL's legacy "Proc-Type: 4,ENCRYPTED" PEM (AES-CBC, DES-EDE3-CBC,
// DES-CBC). The standard library decrypts neither encrypted form (its
// decoder of the legacy form is deprecated), so both are here:
// pemkey.go for PKCS#8, legacy.go for the legacy form.
//
// Key files are local and trusted as far as their owner is, but their
// parsing is still bounded: the PBKDF2 iteration count a file may ask for
// is limited (MaxPBKDF2Iterations), and malformed input is an error, never
// a panic.
package pemkey
