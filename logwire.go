package pyro

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pyrogo/pyro/wire"
)

// maxWireLogData bounds the payload bytes one LOGWIRE line shows, so that
// a large message cannot make the log grow by its whole size.
const maxWireLogData = 4096

// wireLogging reports whether LOGWIRE lines would be written to l.
func wireLogging(cfg *Config, l *slog.Logger) bool {
	return cfg.LogWire && l != nil && l.Enabled(context.Background(), slog.LevelDebug)
}

// logWire logs one message at debug level as Pyro4's LOGWIRE does: what
// happened ("daemon wiredata received", "proxy wiredata sending", ...),
// message type, flags, serializer id, sequence number, correlation id,
// annotations (keys and sizes) and the payload before compression and
// signing (quoted, at most maxWireLogData bytes of it). Callers check
// wireLogging first.
func logWire(l *slog.Logger, what string, m *wire.Message) {
	corr := "?"
	var anns []string
	for _, a := range m.Annotations {
		if a.Key == wire.AnnCorr && len(a.Value) == 16 {
			corr = uuidString([16]byte(a.Value))
		}
		anns = append(anns, fmt.Sprintf("%s:%d", a.Key, len(a.Value)))
	}
	data := m.Data
	if len(data) > maxWireLogData {
		data = data[:maxWireLogData]
	}
	l.Debug("pyro: "+what, "msgtype", int(m.Type), "flags", fmt.Sprintf("0x%x", uint16(m.Flags)),
		"ser", m.SerializerID, "seq", m.Seq, "corr", corr, "annotations", strings.Join(anns, ","),
		"size", len(m.Data), "data", fmt.Sprintf("%q", data))
}

func (d *Daemon) logWire(what string, m *wire.Message) { logWire(d.log, what, m) }
