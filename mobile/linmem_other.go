//go:build !unix

package mobile

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator: wazero's default (Go slices) outside unix.
func memoryAllocator() experimental.MemoryAllocator { return nil }
