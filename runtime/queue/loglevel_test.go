package queue

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestRiverLogsOnlyWarnings: River's routine info lines stay out of the server log.
func TestRiverLogsOnlyWarnings(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(minLevel{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.LevelWarn}).With("component", "river")
	l.Info("producer: Producer job counts")
	l.WithGroup("g").Debug("noise")
	l.Warn("job rescued")
	if out := buf.String(); strings.Contains(out, "Producer") || strings.Contains(out, "noise") || !strings.Contains(out, "job rescued") || !strings.Contains(out, "component=river") {
		t.Fatalf("log: %q", out)
	}
	if (minLevel{slog.NewTextHandler(&buf, nil), slog.LevelWarn}).Enabled(context.Background(), slog.LevelInfo) {
		t.Fatal("info enabled")
	}
}
