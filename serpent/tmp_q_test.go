package serpent

import (
	"strings"
	"testing"
	"time"
)

func TestTmpQuadratic(t *testing.T) {
	key := strings.Repeat("(", 998) + "1" + strings.Repeat(",)", 998)
	in := "{" + strings.Repeat(key+":1,", 300) + "}"
	start := time.Now()
	_, err := Unmarshal([]byte(in))
	t.Logf("%d bytes: %v %v", len(in), time.Since(start), err)
	in = "{" + strings.Repeat(key+",", 300) + "}"
	start = time.Now()
	_, err = Unmarshal([]byte(in))
	t.Logf("set %d bytes: %v %v", len(in), time.Since(start), err)
}
