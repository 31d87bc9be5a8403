package routing

// iheap is a binary min-heap (by less) that knows where each item sits, so
// an item can be removed or re-positioned in O(log n). Items are unique.
type iheap[T comparable] struct {
	items []T
	pos   map[T]int
	less  func(a, b T) bool
}

func newHeap[T comparable](less func(a, b T) bool) *iheap[T] {
	return &iheap[T]{pos: map[T]int{}, less: less}
}

func (h *iheap[T]) Len() int { return len(h.items) }

func (h *iheap[T]) has(x T) bool { _, ok := h.pos[x]; return ok }

// push adds x, or re-positions it when already present.
func (h *iheap[T]) push(x T) {
	if _, ok := h.pos[x]; ok {
		h.fix(x)
		return
	}
	h.items = append(h.items, x)
	h.pos[x] = len(h.items) - 1
	h.up(len(h.items) - 1)
}

func (h *iheap[T]) peek() (T, bool) {
	if len(h.items) == 0 {
		var zero T
		return zero, false
	}
	return h.items[0], true
}

func (h *iheap[T]) pop() T {
	x := h.items[0]
	h.removeAt(0)
	return x
}

// remove takes x out; false when it was not there.
func (h *iheap[T]) remove(x T) bool {
	i, ok := h.pos[x]
	if !ok {
		return false
	}
	h.removeAt(i)
	return true
}

// fix restores the order after x's key changed.
func (h *iheap[T]) fix(x T) {
	if i, ok := h.pos[x]; ok {
		if !h.down(i) {
			h.up(i)
		}
	}
}

// reinit re-heapifies after many keys changed at once.
func (h *iheap[T]) reinit() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *iheap[T]) removeAt(i int) {
	last := len(h.items) - 1
	x := h.items[i]
	if i != last {
		h.swap(i, last)
	}
	h.items = h.items[:last]
	delete(h.pos, x)
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h *iheap[T]) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.pos[h.items[i]] = i
	h.pos[h.items[j]] = j
}

func (h *iheap[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[i], h.items[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down sifts i towards the leaves and reports whether it moved.
func (h *iheap[T]) down(i0 int) bool {
	i, n := i0, len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(h.items[r], h.items[l]) {
			m = r
		}
		if !h.less(h.items[m], h.items[i]) {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > i0
}
