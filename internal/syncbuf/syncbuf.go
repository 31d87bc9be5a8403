// Package syncbuf is a bytes.Buffer that is safe for concurrent use: the
// place tests collect a child process's output (contactd, baresip,
// Firefox) while they read what has arrived so far.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is a byte buffer guarded by a mutex. The zero value is empty
// and ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns a copy of everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
