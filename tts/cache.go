package tts

import (
	"container/list"
	"context"
	"sync"
)

// Cache wraps a Synthesizer and keeps the audio of the most recent prompts,
// keyed by text and voice (Voicer), with the silence before their first
// sound trimmed (TrimLead). Concurrent calls for the same prompt share one
// synthesis (as singleflight does), without goroutines of its own.
// Failures are not cached.
type Cache struct {
	s   Synthesizer
	max int

	mu       sync.Mutex
	items    map[string]*list.Element // of *entry
	lru      list.List                // front: most recently used
	inflight map[string]*call
}

type entry struct {
	key string
	pcm []int16
}

type call struct {
	done     chan struct{}
	pcm      []int16
	err      error
	canceled bool // the leader's context ended
}

var (
	_ Synthesizer = (*Cache)(nil)
	_ Voicer      = (*Cache)(nil)
)

// NewCache wraps s, keeping up to max prompts (max <= 0 means 256).
// The returned slices are shared between callers: do not modify them.
func NewCache(s Synthesizer, max int) Synthesizer {
	if max <= 0 {
		max = 256
	}
	return &Cache{s: s, max: max, items: map[string]*list.Element{}, inflight: map[string]*call{}}
}

// Voice is the wrapped synthesizer's voice.
func (c *Cache) Voice() string { return VoiceOf(c.s) }

// key names a prompt. The voice is asked each time, so a synthesizer whose
// voice can change never gets the old voice's audio back.
func (c *Cache) key(text string) string { return VoiceOf(c.s) + "\x00" + text }

// Synthesize returns the cached audio for text in the current voice, or
// synthesises it once. The first caller for a prompt runs the synthesis
// with its own context; the others wait for it, and try again themselves
// if it was cancelled.
func (c *Cache) Synthesize(ctx context.Context, text string) ([]int16, error) {
	key := c.key(text)
	for {
		c.mu.Lock()
		if el, ok := c.items[key]; ok {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return el.Value.(*entry).pcm, nil
		}
		if cl, ok := c.inflight[key]; ok {
			c.mu.Unlock()
			select {
			case <-cl.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if cl.err != nil && cl.canceled && ctx.Err() == nil {
				continue // the leader gave up, not the synthesiser
			}
			return cl.pcm, cl.err
		}
		cl := &call{done: make(chan struct{})}
		c.inflight[key] = cl
		c.mu.Unlock()
		c.lead(ctx, key, text, cl)
		return cl.pcm, cl.err
	}
}

func (c *Cache) lead(ctx context.Context, key, text string, cl *call) {
	cl.pcm, cl.err = c.s.Synthesize(ctx, text)
	cl.pcm = TrimLead(cl.pcm)
	cl.canceled = ctx.Err() != nil
	c.mu.Lock()
	delete(c.inflight, key)
	if cl.err == nil {
		c.items[key] = c.lru.PushFront(&entry{key: key, pcm: cl.pcm})
		for c.lru.Len() > c.max {
			old := c.lru.Back()
			c.lru.Remove(old)
			delete(c.items, old.Value.(*entry).key)
		}
	}
	c.mu.Unlock()
	close(cl.done)
}

// Len is the number of cached prompts.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
