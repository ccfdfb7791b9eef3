//go:build linux

package mobile

import "syscall"

const mapNoReserve = syscall.MAP_NORESERVE
