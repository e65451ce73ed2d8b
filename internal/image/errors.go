package image

import (
	"errors"
	"fmt"
)

// The kinds of failure a caller branches on. Every error Open and Walk return wraps one of
// them (test with errors.Is), inside an *Error that names the reference or layer at fault.
var (
	// ErrNotFound: the source has no such image (unknown repository, tag, file or platform).
	ErrNotFound = errors.New("image not found")
	// ErrUnauthorized: the registry or daemon refused the credentials, or asked for some.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnreachable: the registry or daemon could not be contacted.
	ErrUnreachable = errors.New("unreachable")
	// ErrNotImage: the reference resolves to something that is not a container image
	// (an artifact, a signature, a file that is no archive or layout).
	ErrNotImage = errors.New("not a container image")
	// ErrInvalidRef: the reference itself cannot be parsed.
	ErrInvalidRef = errors.New("invalid image reference")
	// ErrCorrupt: a blob does not match its digest, or a layer is not a readable tar.
	ErrCorrupt = errors.New("corrupt image")
	// ErrLimit: the image exceeds one of the Limits (a decompression bomb, a huge layer).
	ErrLimit = errors.New("image exceeds a limit")
	// ErrAnalyzer: an analyzer returned an error.
	ErrAnalyzer = errors.New("analyzer failed")
)

// Error is the one error type the package returns. Its message is a single line that
// says what failed, where, and what to do about it, fit for the CLI's exit-2 line.
type Error struct {
	Kind  error  // one of the Err* values above
	Ref   string // the reference as the user wrote it
	Layer string // "layer 3 (sha256:…)" when one layer is at fault
	Hint  string // what to do next; may be empty
	Err   error  // the underlying cause; may be nil
}

func (e *Error) Error() string {
	msg := e.Ref
	if e.Layer != "" {
		msg += ": " + e.Layer
	}
	msg += ": " + e.Kind.Error()
	if e.Err != nil {
		msg += ": " + oneLine(e.Err.Error())
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func newErr(kind error, ref, hint string, cause error) *Error {
	// A cause that is itself an *Error contributes its cause, not a second prefix.
	var inner *Error
	if errors.As(cause, &inner) && inner.Ref == "" {
		cause = inner.Err
		if hint == "" {
			hint = inner.Hint
		}
	}
	return &Error{Kind: kind, Ref: ref, Hint: hint, Err: cause}
}

// layerErr builds the error for one layer; if cause already is an *Error it gains the
// layer name and reference instead of being wrapped twice.
func layerErr(ref string, l *Layer, kind error, cause error) error {
	var e *Error
	if errors.As(cause, &e) {
		c := *e
		if c.Ref == "" {
			c.Ref = ref
		}
		if c.Layer == "" {
			c.Layer = l.name()
		}
		return &c
	}
	return &Error{Kind: kind, Ref: ref, Layer: l.name(), Err: cause}
}

func (l *Layer) name() string {
	if l.DiffID.Hex != "" {
		return fmt.Sprintf("layer %d (%s)", l.Index, l.DiffID)
	}
	if l.Digest.Hex != "" {
		return fmt.Sprintf("layer %d (%s)", l.Index, l.Digest)
	}
	return fmt.Sprintf("layer %d", l.Index)
}

// oneLine keeps a cause from breaking the one-line contract (registry errors can carry
// multi-line bodies).
func oneLine(s string) string {
	const maxLen = 300
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		out = append(out, r)
	}
	if len(out) > maxLen {
		out = append(out[:maxLen], '…')
	}
	return string(out)
}
