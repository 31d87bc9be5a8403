package routing

// ostree is an order-statistic treap: a balanced search tree (by less,
// a strict total order) whose nodes know their subtree's size, so that
// insert, delete and rank — how many items come before x — each take
// O(log n) expected. Items must be unique under less and must not change
// their order while in the tree (take them out, change, put them back).
type ostree[T any] struct {
	root *osnode[T]
	less func(a, b T) bool
	rnd  uint64 // xorshift state for the heap priorities
}

type osnode[T any] struct {
	item        T
	prio        uint64
	size        int
	left, right *osnode[T]
}

func newOSTree[T any](less func(a, b T) bool) *ostree[T] {
	return &ostree[T]{less: less, rnd: 0x9e3779b97f4a7c15}
}

func (t *ostree[T]) Len() int { return t.root.sz() }

func (n *osnode[T]) sz() int {
	if n == nil {
		return 0
	}
	return n.size
}

func (n *osnode[T]) fix() { n.size = 1 + n.left.sz() + n.right.sz() }

func (t *ostree[T]) next() uint64 {
	t.rnd ^= t.rnd << 13
	t.rnd ^= t.rnd >> 7
	t.rnd ^= t.rnd << 17
	return t.rnd
}

// split cuts n into the items before x and the others.
func (t *ostree[T]) split(n *osnode[T], x T) (l, r *osnode[T]) {
	if n == nil {
		return nil, nil
	}
	if t.less(n.item, x) {
		n.right, r = t.split(n.right, x)
		n.fix()
		return n, r
	}
	l, n.left = t.split(n.left, x)
	n.fix()
	return l, n
}

// merge joins l and r, every item of l before every item of r.
func merge[T any](l, r *osnode[T]) *osnode[T] {
	switch {
	case l == nil:
		return r
	case r == nil:
		return l
	case l.prio > r.prio:
		l.right = merge(l.right, r)
		l.fix()
		return l
	default:
		r.left = merge(l, r.left)
		r.fix()
		return r
	}
}

// insert adds x, which must not be in the tree.
func (t *ostree[T]) insert(x T) {
	l, r := t.split(t.root, x)
	t.root = merge(merge(l, &osnode[T]{item: x, prio: t.next(), size: 1}), r)
}

// delete removes x; false when it was not there.
func (t *ostree[T]) delete(x T) bool {
	var ok bool
	t.root, ok = t.del(t.root, x)
	return ok
}

func (t *ostree[T]) del(n *osnode[T], x T) (*osnode[T], bool) {
	if n == nil {
		return nil, false
	}
	var ok bool
	switch {
	case t.less(x, n.item):
		n.left, ok = t.del(n.left, x)
	case t.less(n.item, x):
		n.right, ok = t.del(n.right, x)
	default:
		return merge(n.left, n.right), true
	}
	if ok {
		n.fix()
	}
	return n, ok
}

// rank is how many items come before x (x need not be in the tree).
func (t *ostree[T]) rank(x T) int {
	k := 0
	for n := t.root; n != nil; {
		if t.less(n.item, x) {
			k += n.left.sz() + 1
			n = n.right
		} else {
			n = n.left
		}
	}
	return k
}
