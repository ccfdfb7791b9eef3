// Package trojan builds the "pickle trojan" of Pyro's security chapter for
// regression tests: pickles that run a shell command when Python unpickles
// them, the classic os.system __reduce__ exploit. pyrogo has no pickle
// decoder, so sending these to a daemon or name server must have no
// effect; the tests check that the marker file the command would create
// does not appear, and use Fire to prove the payloads work on Python.
package trojan
