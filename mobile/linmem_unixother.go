//go:build unix && !linux

package mobile

const mapNoReserve = 0
