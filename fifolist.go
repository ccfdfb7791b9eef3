package pyro

// fifoLink is the link an element keeps for one fifoList.
type fifoLink[T any] struct{ prev, next *T }

// fifoList is an intrusive doubly linked list in insertion order: the
// daemon's idle connections (longest-idle first) and its lingering
// streams (longest-lingering first). Elements carry their own link, so
// moving one costs no allocation. The zero value is an empty list; it is
// not safe for concurrent use (its owner's lock guards it).
type fifoList[T any, P interface {
	*T
	fifoLink() *fifoLink[T]
}] struct{ head, tail *T }

// front returns the oldest element, or nil.
func (l *fifoList[T, P]) front() *T { return l.head }

// pushBack appends x, which must not be in the list.
func (l *fifoList[T, P]) pushBack(x *T) {
	lx := P(x).fifoLink()
	lx.prev, lx.next = l.tail, nil
	if l.tail != nil {
		P(l.tail).fifoLink().next = x
	} else {
		l.head = x
	}
	l.tail = x
}

// remove takes x out of the list; removing an element that is not in it
// changes nothing.
func (l *fifoList[T, P]) remove(x *T) {
	lx := P(x).fifoLink()
	if lx.prev != nil {
		P(lx.prev).fifoLink().next = lx.next
	} else if l.head == x {
		l.head = lx.next
	}
	if lx.next != nil {
		P(lx.next).fifoLink().prev = lx.prev
	} else if l.tail == x {
		l.tail = lx.prev
	}
	lx.prev, lx.next = nil, nil
}

// clear empties the list, unlinking every element.
func (l *fifoList[T, P]) clear() {
	for x := l.head; x != nil; {
		lx := P(x).fifoLink()
		next := lx.next
		lx.prev, lx.next = nil, nil
		x = next
	}
	l.head, l.tail = nil, nil
}
