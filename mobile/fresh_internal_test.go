package mobile

import "testing"

// TestFreshInstancePerCall: no state passes from one call to the next.
// grow(1) appends 1 MiB to a global slice and returns its length: in a
// fresh instance that is 1 every time; an instance kept between calls
// would answer 2 the second time.
func TestFreshInstancePerCall(t *testing.T) {
	s := newTestService(t, WithValidator(acceptAll()))
	ctx := ctxT(t)
	id, err := s.Load(ctx, goModule(t, "basic"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := s.Call(ctx, id, "grow", 1)
		if err != nil {
			t.Fatal(err)
		}
		if got != int64(1) {
			t.Fatalf("call %d: grow(1) = %v (%T), want 1: state survived a call", i, got, got)
		}
	}
}
