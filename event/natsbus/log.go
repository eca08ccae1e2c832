package natsbus

import (
	"context"
	"fmt"
	"log/slog"
)

// serverLogger sends the embedded nats-server's log lines to slog. The
// server formats printf-style; the formatted line becomes the message
// attribute of a fixed "nats-server" record.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) logf(level slog.Level, format string, v []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, "nats-server", "msg", fmt.Sprintf(format, v...))
}

func (l serverLogger) Noticef(format string, v ...any) { l.logf(slog.LevelInfo, format, v) }
func (l serverLogger) Warnf(format string, v ...any)   { l.logf(slog.LevelWarn, format, v) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.logf(slog.LevelError, format, v) }
func (l serverLogger) Errorf(format string, v ...any)  { l.logf(slog.LevelError, format, v) }
func (l serverLogger) Debugf(format string, v ...any)  { l.logf(slog.LevelDebug, format, v) }
func (l serverLogger) Tracef(format string, v ...any)  { l.logf(slog.LevelDebug-4, format, v) }
