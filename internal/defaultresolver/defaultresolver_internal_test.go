package defaultresolver

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestInstallOnce: the default is set once and then stays; a second
// Install panics instead of replacing it.
func TestInstallOnce(t *testing.T) {
	if Get() != nil {
		t.Fatal("a default before Install")
	}
	Install("first")
	defer func() {
		if recover() == nil {
			t.Error("second Install did not panic")
		}
		if Get() != "first" {
			t.Errorf("Get() = %v after a second Install", Get())
		}
	}()
	Install("second")
}
