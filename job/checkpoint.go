package job

import (
	"context"
	"encoding/json"
	"fmt"
)

// Checkpoint returns the value saved under key by SetCheckpoint (in this run or an
// earlier one), and false when there is none.
func Checkpoint[T any](ctx context.Context, key string) (T, bool, error) {
	var v T
	rt := from(ctx)
	if rt == nil || rt.store == nil {
		return v, false, ErrNoState
	}
	b, ok, err := rt.store.Checkpoint(ctx, key)
	if err != nil || !ok {
		return v, false, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("job: checkpoint %q: %w", key, err)
	}
	return v, true, nil
}

// SetCheckpoint saves v (JSON-encoded, at most 1 MiB) under key; it is on disk when
// SetCheckpoint returns.
func SetCheckpoint(ctx context.Context, key string, v any) error {
	rt := from(ctx)
	if rt == nil || rt.store == nil {
		return ErrNoState
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("job: checkpoint %q: %w", key, err)
	}
	return rt.store.SetCheckpoint(ctx, key, b)
}
