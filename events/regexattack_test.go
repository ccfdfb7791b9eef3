package events_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
)

// Patterns others subscribed cannot make an honest publish fail: an
// attacker subscribes 64 patterns (4 subscriber URIs × 16; the default
// allows 1024), each as large as a pattern may compile (about 8000
// instructions). Every publish matches every pattern, so before, one
// publish of a single 1024-character subject cost 64 × 8000 × 1024
// steps and was refused for passing the work budget (37 such patterns
// were enough; 1024 refuse a 40-character subject); now the
// patterns' compiled size in all is bounded so that one subject of any
// length fits the budget: the attacker's later patterns are refused, and
// the honest publish of a MaxSubjectLen subject is delivered.
func TestPatternFloodCannotFailPublish(t *testing.T) {
	ctx := ctxT(t)
	_, es := startES(t)
	p, _ := pyro.NewProxyURI(es, nil)
	defer p.Close()
	honest := sub(t, ctx, es, false, strings.Repeat("h", events.MaxSubjectLen))
	accepted, refused := 0, 0
	for u := range 4 {
		uri := fmt.Sprintf("PYRO:attacker%d@127.0.0.1:1", u)
		for i := range 16 {
			pat := fmt.Sprintf(".{0,999}.{0,999}.{0,999}.{0,999}x%d_%d", u, i)
			_, err := p.Call(ctx, "subscribeMatch", pat, uri)
			var re *pyro.RemoteError
			switch {
			case err == nil:
				accepted++
			case errors.As(err, &re) && re.Class() == "builtins.ValueError" && strings.Contains(re.Message(), "too many pattern subscriptions"):
				refused++
			default:
				t.Fatalf("subscribeMatch: %v", err)
			}
		}
	}
	t.Logf("attacker patterns accepted %d, refused %d", accepted, refused)
	subj := strings.Repeat("h", events.MaxSubjectLen)
	if err := events.Publish(ctx, p, []string{subj}, "hi"); err != nil {
		t.Fatalf("honest publish of one %d-character subject: %v", len(subj), err)
	}
	if ev := next(t, ctx, honest, 1)[0]; ev.Msg != "hi" {
		t.Fatalf("honest subscriber got %+v", ev)
	}
}
