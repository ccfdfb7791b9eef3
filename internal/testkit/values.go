package testkit

import "math/big"

// BigInt parses an integer literal for a test table: decimal, or with a
// 0x, 0o or 0b prefix, with an optional sign. It panics on anything
// else, since a table with a typo is a broken test.
func BigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 0)
	if !ok {
		panic("testkit: bad integer literal " + s)
	}
	return b
}
