//go:build unix

package mobile

import (
	"sync"
	"syscall"
	"unsafe"

	"github.com/tetratelabs/wazero/experimental"
)

// mmapAllocator backs each instance's linear memory with its own
// anonymous mapping of the instance's maximum size, reserved but not
// committed: pages cost memory only once the module touches them, growth
// never copies, and the whole mapping goes back to the system the moment
// the instance closes (not at the Go GC's next cycle). So the memory that
// instances hold is what they touched, at most WithMaxInstances ×
// WithMemoryPages. Only on 64-bit systems, where address space is
// plentiful; elsewhere wazero's default applies.
func memoryAllocator() experimental.MemoryAllocator {
	if unsafe.Sizeof(uintptr(0)) < 8 {
		return nil
	}
	return experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
		return &mmapMemory{max: max}
	})
}

type mmapMemory struct {
	mu  sync.Mutex
	buf []byte // the whole mapping
	max uint64
}

// Reallocate returns the first size bytes of the mapping, mapping it on
// first use; nil when size passes the maximum or the system refuses.
func (m *mmapMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size > m.max {
		return nil
	}
	if m.buf == nil {
		n := max(m.max, 65536)
		b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
		if err != nil {
			return nil
		}
		m.buf = b
	}
	return m.buf[:size]
}

// Free unmaps the memory; wazero calls it when the instance's resources
// are closed, after the last instruction of the module ran.
func (m *mmapMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}
