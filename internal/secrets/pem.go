package secrets

import (
	"bytes"
	"slices"
	"strings"
)

// pem handles "-----BEGIN <label>-----" where the label names a private key: RSA, EC,
// DSA, ENCRYPTED, plain PKCS#8, OPENSSH, and PGP private key blocks. The match runs to
// the matching END line, or, when there is none (a truncated key), to the end of the
// base64 body. A body with fewer than 40 base64 characters is a placeholder.
//
// The anchor is the "-B" of "-----BEGIN", so i is the position of the fifth dash.
func (s *scanner) pem(i int) {
	c := s.c
	start := i - 4
	if start < 0 || !hasPrefixAt(c, start, "-----BEGIN ") {
		return
	}
	labelStart := start + len("-----BEGIN ")
	labelEnd := labelStart
	for labelEnd < len(c) && labelEnd-labelStart < 40 && (isUpper(c[labelEnd]) || isDigit(c[labelEnd]) || c[labelEnd] == ' ') {
		labelEnd++
	}
	label := string(c[labelStart:labelEnd])
	if !hasPrefixAt(c, labelEnd, "-----") || !strings.HasSuffix(label, "PRIVATE KEY") && label != "PGP PRIVATE KEY BLOCK" {
		return
	}
	bodyStart := labelEnd + 5
	end, ok := s.pemEnd(bodyStart, label)
	if !ok {
		return
	}
	r := rulePEM
	switch label {
	case "OPENSSH PRIVATE KEY":
		r = ruleOpenSSH
	case "PGP PRIVATE KEY BLOCK":
		r = rulePGP
	}
	if s.inServiceAccount(start, end) {
		r = ruleGCPServiceAcct
	}
	s.add(r, start, end)
}

// pemEnd returns where the block whose body starts at from ends: after its END line, or
// after the last base64 character of the body when the END line is missing or far.
func (s *scanner) pemEnd(from int, label string) (int, bool) {
	c := s.c
	endLine := "-----END " + label + "-----"
	limit := min(len(c), from+maxPEMLen)
	if at := s.nextEnd(from); at >= 0 && at < limit && hasPrefixAt(c, at, endLine) {
		if pemBodyOK(c[from:at]) {
			return at + len(endLine), true
		}
		return 0, false
	}
	// No END line: take the body as far as it looks like one.
	j, last := from, -1
	for j < limit && isPEMBodyByte(c[j]) && !hasPrefixAt(c, j, "-----") {
		if isB64(c[j]) {
			last = j
		}
		j++
	}
	if last < 0 || !pemBodyOK(c[from:last+1]) {
		return 0, false
	}
	return last + 1, true
}

// nextEnd returns the offset of the first "-----END " at or after from, or -1. Calls come
// with increasing from, so the memo makes all of them together one pass over c.
func (s *scanner) nextEnd(from int) int {
	if s.endFrom < 0 || from < s.endFrom || (s.endAt >= 0 && s.endAt < from) {
		s.endFrom = from
		s.endAt = bytes.Index(s.c[from:], []byte("-----END "))
		if s.endAt >= 0 {
			s.endAt += from
		}
	}
	return s.endAt
}

// pemBodyOK reports whether b holds enough base64 to be a key, and nothing that marks
// it as code or a placeholder (a key inside a string literal, with quotes, + and \n
// escapes around its lines, still counts).
func pemBodyOK(b []byte) bool {
	n := 0
	for _, x := range b {
		switch {
		case isB64(x):
			n++
		case isPEMBodyByte(x), x == '"', x == '\'', x == '`', x == '+':
		default:
			return false
		}
	}
	return n >= minPEMBody
}

// isPEMBodyByte: base64, line breaks, the "\n" escapes of a key in JSON, and the
// Proc-Type/DEK-Info header lines of an encrypted PEM.
func isPEMBodyByte(b byte) bool {
	return isB64(b) || b == '\n' || b == '\r' || b == ' ' || b == '\t' || b == '\\' || b == ':' || b == ',' || b == '-'
}

func isB64(b byte) bool { return isAlnum(b) || b == '+' || b == '/' || b == '=' }

// inServiceAccount reports whether the private key at c[start:end] is the "private_key"
// value of a JSON object whose "type" is "service_account".
func (s *scanner) inServiceAccount(start, end int) bool {
	c := s.c
	j := start - 1
	if j < 0 || c[j] != '"' {
		return false
	}
	j = skipBack(c, j, isBlank)
	if j < 0 || c[j] != ':' {
		return false
	}
	j = skipBack(c, j, isBlank)
	if !hasPrefixAt(c, j-len(`"private_key"`)+1, `"private_key"`) {
		return false
	}
	if !s.gcpDone {
		s.gcpDone = true
		s.gcpTypes = serviceAccountTypes(c)
	}
	k, _ := slices.BinarySearch(s.gcpTypes, start-gcpWindow+1)
	return k < len(s.gcpTypes) && s.gcpTypes[k] < end+gcpWindow
}

// skipBack returns the index of the first byte before j that is not in class, or -1.
func skipBack(c []byte, j int, class func(byte) bool) int {
	j--
	for j >= 0 && class(c[j]) {
		j--
	}
	return j
}

// serviceAccountTypes returns the offsets of every `"type": "service_account"` in c.
func serviceAccountTypes(c []byte) []int {
	var out []int
	needle := []byte(`"service_account"`)
	for off := 0; ; {
		k := bytes.Index(c[off:], needle)
		if k < 0 {
			return out
		}
		at := off + k
		off = at + len(needle)
		j := skipBack(c, at, func(b byte) bool { return isBlank(b) || isEOL(b) })
		if j < 0 || c[j] != ':' {
			continue
		}
		j = skipBack(c, j, func(b byte) bool { return isBlank(b) || isEOL(b) })
		if hasPrefixAt(c, j-len(`"type"`)+1, `"type"`) {
			out = append(out, at)
		}
	}
}
