package main

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// slogHandler writes exporter-toolkit's slog records through the exporter's
// go-kit logger with the exporter's own keys in the exporter's own order
// (level, ts, caller, msg, then the record's attributes), so that one run's
// log is one format, in logfmt and in JSON alike.
type slogHandler struct {
	logger log.Logger // level-filtered, without ts and caller
	level  slog.Leveler
	attrs  []any  // from WithAttrs, already prefixed
	group  string // from WithGroup: "a.b."
}

func (h *slogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	kv := make([]any, 0, 8+len(h.attrs)+2*r.NumAttrs())
	kv = append(kv, level.Key(), levelValue(r.Level),
		"ts", r.Time.UTC().Format(time.RFC3339Nano), "caller", callerOf(r.PC), "msg", r.Message)
	kv = append(kv, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		kv = appendAttr(kv, h.group, a)
		return true
	})
	return h.logger.Log(kv...)
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]any(nil), h.attrs...)
	for _, a := range attrs {
		c.attrs = appendAttr(c.attrs, h.group, a)
	}
	return &c
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

// levelValue maps slog's levels on go-kit's, which its level filter reads.
func levelValue(l slog.Level) level.Value {
	switch {
	case l >= slog.LevelError:
		return level.ErrorValue()
	case l >= slog.LevelWarn:
		return level.WarnValue()
	case l >= slog.LevelInfo:
		return level.InfoValue()
	}
	return level.DebugValue()
}

// callerOf is file:line of the logging call, as go-kit's DefaultCaller.
func callerOf(pc uintptr) string {
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	if f.File == "" {
		return "unknown"
	}
	return f.File[strings.LastIndexByte(f.File, '/')+1:] + ":" + strconv.Itoa(f.Line)
}

// appendAttr flattens a (group) attribute into key/value pairs, the keys
// of a group prefixed with its name and a dot.
func appendAttr(kv []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, g := range v.Group() {
			kv = appendAttr(kv, prefix, g)
		}
		return kv
	}
	if a.Key == "" {
		return kv
	}
	return append(kv, prefix+a.Key, v.Any())
}

// leadKeys start every line, in this order; a logger's own context
// ("collector", ...) follows them, whatever order the keys came in.
var leadKeys = [...]string{"level", "ts", "caller", "msg"}

// orderedLogger puts leadKeys first: go-kit writes a logger's context
// (log.With) before the call's own pairs, so a collector's lines would
// otherwise have "collector" before "msg".
type orderedLogger struct{ next log.Logger }

func (o orderedLogger) Log(kv ...any) error {
	out := make([]any, 0, len(kv)+1)
	used := make([]bool, len(kv)/2)
	for _, key := range leadKeys {
		for i := 0; i+1 < len(kv); i += 2 {
			if !used[i/2] && kv[i] == any(key) {
				out = append(out, kv[i], kv[i+1])
				used[i/2] = true
				break
			}
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if !used[i/2] {
			out = append(out, kv[i], kv[i+1])
		}
	}
	if len(kv)%2 == 1 {
		out = append(out, kv[len(kv)-1])
	}
	return o.next.Log(out...)
}
