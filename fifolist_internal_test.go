package pyro

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

type fifoItem struct {
	id   int
	link fifoLink[fifoItem]
}

func (x *fifoItem) fifoLink() *fifoLink[fifoItem] { return &x.link }

// TestFifoListModel: any sequence of pushBack and remove leaves the list
// in the order of a plain slice doing the same, walked both ways.
func TestFifoListModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		items := make([]*fifoItem, 8)
		for i := range items {
			items[i] = &fifoItem{id: i}
		}
		var l fifoList[fifoItem, *fifoItem]
		var model []int
		for range rapid.IntRange(0, 60).Draw(t, "ops") {
			x := items[rapid.IntRange(0, len(items)-1).Draw(t, "item")]
			in := slices.Contains(model, x.id)
			switch op := rapid.IntRange(0, 2).Draw(t, "op"); {
			case op == 0 && !in:
				l.pushBack(x)
				model = append(model, x.id)
			case op == 1:
				l.remove(x) // also when it is not in the list
				model = slices.DeleteFunc(model, func(id int) bool { return id == x.id })
			case op == 2 && rapid.Bool().Draw(t, "clear"):
				l.clear()
				model = nil
			}
			var fwd, back []int
			for y := l.front(); y != nil; y = y.link.next {
				fwd = append(fwd, y.id)
			}
			for y := l.tail; y != nil; y = y.link.prev {
				back = append(back, y.id)
			}
			slices.Reverse(back)
			if !slices.Equal(fwd, model) || !slices.Equal(back, model) {
				t.Fatalf("list %v / %v, want %v", fwd, back, model)
			}
		}
	})
}
