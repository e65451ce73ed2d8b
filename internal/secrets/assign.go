package secrets

import (
	"bytes"
	"encoding/base64"
	"math"
	"strings"
)

// assignment handles `KEY = value` where a keyword (pass, pwd, secret, token, key, cred)
// sits inside KEY: YAML and JSON (`key: value`, `"key": "value"`), .env, INI and
// properties files, shell (`export KEY=…`), Dockerfile ENV (both forms), code (`key :=
// "…"`, `key => '…'`), command-line flags (`--password=…`) and XML elements
// (`<password>…</password>`). KEY must be a secret name (IsSecretName) and the value must
// look like a real secret: long enough, random enough, and not a placeholder, a
// reference to a variable or secret store, or code.
func (s *scanner) assignment(i int) {
	c := s.c
	a := i
	for a > 0 && i-a < maxKeyLen && isKeyByte(c[a-1]) {
		a--
	}
	b := spanOf(c, i, isKeyByte, maxKeyLen)
	s.skip = max(s.skip, b)
	if a > 0 && (isKeyByte(c[a-1]) || c[a-1] == '$' || c[a-1] == '{' || c[a-1] == '%') {
		return // too long to be a key, or a reference such as $DB_PASSWORD
	}
	j, xml := s.operator(a, b)
	if j < 0 {
		return
	}
	vs, ve, quoted := s.value(j, xml)
	if ve <= vs {
		return
	}
	name := keyName(string(c[a:b]))
	v := string(c[vs:ve])
	if isAWSSecretName(name) && isAWSSecret(v) {
		s.add(ruleAWSSecret, vs, ve)
		return
	}
	if IsSecretName(name) && plausibleSecret(v, quoted) && !containsName(v, name) && !s.documentationLine(vs) {
		s.add(ruleGeneric, vs, ve)
	}
}

// documentationLine reports whether the line around i names a documentation domain
// (example.com, example.org, example.net): OAuth and API references show their sample
// tokens in such URLs.
func (s *scanner) documentationLine(i int) bool {
	c := s.c
	a, b := max(0, i-maxLineBack), min(len(c), i+maxValueLen)
	if k := bytes.LastIndexAny(c[a:i], "\n\r"); k >= 0 {
		a += k + 1
	}
	if k := bytes.IndexAny(c[i:b], "\n\r"); k >= 0 {
		b = i + k
	}
	line := c[a:b]
	for _, d := range [...]string{"example.com", "example.org", "example.net"} {
		if bytes.Contains(line, []byte(d)) {
			return true
		}
	}
	return false
}

func isKeyByte(b byte) bool { return isWordByte(b) || b == '-' || b == '.' }

// keyName is the part of a key that names it: the last component of a dotted key
// (spring.datasource.password), without the dashes of a flag (--password).
func keyName(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		k = k[i+1:]
	}
	return strings.TrimLeft(k, "-")
}

// operator returns where the value of the key c[a:b] starts, or -1 when no assignment
// follows the key. xml is set for <key>value</key>.
func (s *scanner) operator(a, b int) (j int, xml bool) {
	c := s.c
	j = b
	if a > 0 && (c[a-1] == '"' || c[a-1] == '\'') { // a quoted key: "password": …
		if j >= len(c) || c[j] != c[a-1] {
			return -1, false
		}
		j++
	} else if a > 0 && c[a-1] == '<' && j < len(c) && c[j] == '>' {
		return j + 1, true
	}
	k := spanOf(c, j, isBlank, maxKeyLen)
	if k >= len(c) {
		return -1, false
	}
	next := byte(0)
	if k+1 < len(c) {
		next = c[k+1]
	}
	switch c[k] {
	case '=':
		switch next {
		case '=', '~':
			return -1, false // a comparison
		case '>':
			return k + 2, false
		}
		return k + 1, false
	case ':':
		switch next {
		case ':':
			return -1, false // a path such as Foo::Token
		case '=':
			return k + 2, false
		}
		return k + 1, false
	}
	if k > j && (isDockerfileENV(c, a) || s.isNetrcPassword(a, b)) { // ENV KEY value
		return k, false
	}
	return -1, false
}

// isDockerfileENV reports whether the key at a is the first word after ENV on its line.
func isDockerfileENV(c []byte, a int) bool {
	j := skipBack(c, a, isBlank)
	if j < 2 || j == a-1 || !hasPrefixFold(c[j-2:], "env") {
		return false
	}
	k := skipBack(c, j-2, isBlank)
	return k < 0 || isEOL(c[k])
}

// isNetrcPassword reports whether c[a:b] is the password field of a .netrc line
// ("machine host login me password …").
func (s *scanner) isNetrcPassword(a, b int) bool {
	c := s.c
	if string(c[a:b]) != "password" {
		return false
	}
	ls := s.lineStart(a)
	ls = spanOf(c, ls, isBlank, a-ls)
	return hasPrefixAt(c, ls, "machine ") || hasPrefixAt(c, ls, "default ")
}

// lineStart returns the offset of the start of the line holding a. Calls come with
// increasing a, so the memo makes all of them together one pass over c.
func (s *scanner) lineStart(a int) int {
	from, ls := 0, 0
	if s.lsAt > 0 && a >= s.lsAt {
		from, ls = s.lsAt, s.ls
	}
	for k := a - 1; k >= from; k-- {
		if isEOL(s.c[k]) {
			ls = k + 1
			break
		}
	}
	s.lsAt, s.ls = a, ls
	return ls
}

// value returns the span of the value starting at or after j (quotes excluded) and
// whether it was quoted. An unterminated quote or a value running past maxValueLen
// gives an empty span.
func (s *scanner) value(j int, xml bool) (vs, ve int, quoted bool) {
	c := s.c
	if !xml {
		j = spanOf(c, j, isBlank, maxValueLen)
	}
	if j >= len(c) {
		return 0, 0, false
	}
	limit := min(len(c), j+maxValueLen)
	if q := c[j]; !xml && (q == '"' || q == '\'' || q == '`') {
		for k := j + 1; k < limit && !isEOL(c[k]); k++ {
			switch c[k] {
			case '\\':
				k++
			case q:
				return j + 1, k, true
			}
		}
		return 0, 0, false
	}
	k := j
	if !xml && j >= s.openFrom && j < s.openTo {
		k = s.openTo // known to hold no terminator: do not walk it again
	}
	for k < limit && !isEOL(c[k]) {
		b := c[k]
		if xml && b == '<' || !xml && (isBlank(b) || b == '"' || b == '\'' || b == '`' || b == ',' || b == ';') {
			break
		}
		k++
	}
	if !xml {
		s.openFrom, s.openTo = j, k
	}
	if k == limit && limit < len(c) {
		return 0, 0, false
	}
	return j, k, false
}

// isAWSSecretName reports whether a key names an AWS secret access key
// (aws_secret_access_key, AWS_SECRET_KEY, secretAccessKey).
func isAWSSecretName(name string) bool {
	n := lettersOnly(name)
	return strings.Contains(n, "secretaccesskey") || (strings.Contains(n, "aws") && strings.Contains(n, "secret"))
}

// isAWSSecret reports whether v has the shape of an AWS secret access key: 40 base64
// characters, random, and not the documentation's EXAMPLEKEY.
func isAWSSecret(v string) bool {
	if len(v) != 40 || strings.Contains(v, "EXAMPLE") {
		return false
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; !isAlnum(b) && b != '/' && b != '+' {
			return false
		}
	}
	return Entropy(v) >= 4
}

// containsName reports whether the value repeats the key's name, as in
// encryptionKey: "encryptionKey1024": a label, not a secret.
func containsName(v, name string) bool {
	n, l := lettersOnly(name), lettersOnly(v)
	return len(n) >= 4 && strings.Contains(l, n)
}

// lettersOnly returns the lower-case letters of s, so that p@ss-word and pa%2Fssword
// compare like password.
func lettersOnly(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; isLower(c) {
			b = append(b, c)
		}
	}
	return string(b)
}

// plausibleSecret is the gate of the generic rule: length, placeholders, references,
// code, then randomness.
func plausibleSecret(v string, quoted bool) bool {
	if len(v) < 8 || len(v) > maxValueLen || isPlaceholder(v) || isPlaceholder(decodedText(v)) {
		return false
	}
	if !quoted && (looksLikeCode(v) || !strings.ContainsAny(v, "0123456789")) {
		return false // unquoted words and identifiers are code or prose
	}
	return looksRandom(v)
}

// decodedText returns what a base64 value decodes to when that is text, so that
// "bm90IHJlYWxseSBteSBwYXNzd29yZA==" is seen as the placeholder it is; else "".
func decodedText(v string) string {
	if len(v)%4 != 0 {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return ""
	}
	for _, c := range b {
		if c < ' ' || c > '~' {
			return ""
		}
	}
	return string(b)
}

// placeholderWords inside a value mark it as an example, a template or a reference to
// where the real secret lives.
var placeholderWords = []string{
	"example", "changeme", "change_me", "change-me", "changeit", "placeholder", "dummy",
	"sample", "redacted", "your", "sesame", "hunter2", "xxx", "***", "...", "fake", "test", "pass", "ssword", "secret", "token", "credential", "insert", "replace", "todo", "fixme", "1234", "abcd", "qwerty",
	"${", "{{", "}}", "$(", "%(", "%s", "%v", "%d", "<", ">", "env.", "environ", "getenv",
	"process.env", "vault:", "arn:aws:", "ssm:", "secretsmanager", "keyvault", "enc[",
	"/run/secrets", "://",
}

// placeholderPrefixes start references (variables, YAML tags and aliases, paths) rather
// than literal secrets.
var placeholderPrefixes = []string{"$", "%", "@", "!", "&", "*", "#", "/", "./", "../", "~/", "file:", "env:", "ref:", "-"}

// placeholderExact are whole values that stand for no value.
var placeholderExact = setOf("null", "none", "nil", "undefined", "true", "false", "empty",
	"default", "required", "optional", "string")

// knownExamples are sample credentials from specifications and popular documentation
// (RFC 6749's access and refresh tokens and client password, jwt.io's sample signature).
var knownExamples = []string{"2YotnFZFEjr1zCsicMWpAA", "tGzv3JOkF0XG5Qx2TlKWIA", "gX1fBat3bV",
	"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"}

func isKnownExample(v string) bool {
	for _, e := range knownExamples {
		if strings.Contains(v, e) {
			return true
		}
	}
	return false
}

func isPlaceholder(v string) bool {
	l := strings.ToLower(v)
	if placeholderExact[l] || hasSchemePrefix(l) {
		return true
	}
	if isKnownExample(v) {
		return true
	}
	letters := lettersOnly(v)
	for _, w := range placeholderWords {
		if strings.Contains(l, w) || strings.Contains(letters, w) {
			return true
		}
	}
	for _, p := range placeholderPrefixes {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// hasSchemePrefix reports a value that starts like a URI or a reference to where the
// secret is kept (context:…, awskms:…, op://…, sops:…): a lower-case word and a colon.
func hasSchemePrefix(l string) bool {
	i := 0
	for i < len(l) && (isLower(l[i]) || (i > 0 && (isDigit(l[i]) || l[i] == '+' || l[i] == '.' || l[i] == '-'))) {
		i++
	}
	return i >= 2 && i < len(l) && l[i] == ':'
}

// looksLikeCode reports whether an unquoted value is an expression (a call, an index, a
// member access) rather than a literal.
func looksLikeCode(v string) bool {
	if strings.ContainsAny(v, "()[]{};") {
		return true
	}
	// a.b.c made of identifiers: a member access or a qualified name.
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || isDigit(p[0]) {
			return false
		}
		for i := 0; i < len(p); i++ {
			if !isWordByte(p[i]) {
				return false
			}
		}
	}
	return true
}

// looksRandom requires a digit or a symbol other than a separator (_ - . : / ,), two
// classes of characters, no whitespace,
// and Shannon entropy near the most a string of its length can have (3 bits per byte
// from 8 characters on).
func looksRandom(v string) bool {
	var lower, upper, digit, other bool
	for i := 0; i < len(v); i++ {
		switch b := v[i]; {
		case isLower(b):
			lower = true
		case isUpper(b):
			upper = true
		case isDigit(b):
			digit = true
		case b <= ' ' || b == 0x7f:
			return false
		case strings.IndexByte("_-.:/,", b) >= 0:
		default:
			other = true
		}
	}
	classes := 0
	for _, ok := range []bool{lower, upper, digit, other} {
		if ok {
			classes++
		}
	}
	if classes < 2 || !digit && !other {
		return false
	}
	want := min(3.0, 0.9*math.Log2(float64(len(v))))
	return Entropy(v) >= want
}
