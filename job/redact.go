package job

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/charterhq/charter/internal/secrets"
)

// SecretEnvValues returns the values of the process's environment variables whose names
// say they hold a secret (GITHUB_TOKEN, DB_PASSWORD, AWS_SECRET_ACCESS_KEY, API_KEY …).
func SecretEnvValues() []string {
	var vals []string
	for _, kv := range os.Environ() {
		name, val, ok := strings.Cut(kv, "=")
		if ok && val != "" && secrets.IsSecretName(name) {
			vals = append(vals, val)
		}
	}
	return vals
}

// NewRedactingHandler returns a slog.Handler that masks secrets before next sees a
// record: the given values, whatever charter's secret scanner recognises (tokens, keys,
// passwords in URLs and assignments), and the whole value of an attribute whose key names
// a secret ("password", "api_key"). It looks into the message, every attribute and group,
// errors, Stringers and values a handler would encode as JSON.
func NewRedactingHandler(next slog.Handler, values []string) slog.Handler {
	return &redactHandler{next: next, r: secrets.NewRedactor(values, secrets.WithScan())}
}

type redactHandler struct {
	next slog.Handler
	r    *secrets.Redactor
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &redactHandler{next: h.next.WithAttrs(red), r: h.r}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{next: h.next.WithGroup(name), r: h.r}
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() != slog.KindGroup && secrets.IsSecretName(a.Key) && !isEmpty(v) {
		return slog.String(a.Key, secrets.Marker)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: h.any(v.Any())}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// any redacts a value a handler would print with its Error or String method, or encode
// as JSON; when nothing needs masking the value is kept as it is.
func (h *redactHandler) any(x any) slog.Value {
	var text string
	switch t := x.(type) {
	case nil:
		return slog.AnyValue(x)
	case error:
		text = t.Error()
	case fmt.Stringer:
		text = t.String()
	case []byte:
		text = string(t)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			text = fmt.Sprintf("%+v", x)
		} else {
			text = string(b)
		}
	}
	if red := h.r.String(text); red != text {
		return slog.StringValue(red)
	}
	if _, ok := x.(error); ok {
		return slog.StringValue(text)
	}
	return slog.AnyValue(x)
}

func isEmpty(v slog.Value) bool {
	return v.Kind() == slog.KindString && v.String() == "" || v.Kind() == slog.KindAny && v.Any() == nil
}
