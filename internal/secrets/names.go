package secrets

import (
	"path"
	"strings"
)

// ClassifyName reports whether a file path denotes a secret-bearing file by its name alone,
// and which kind:
//
//   - "ssh-private-key": id_rsa, id_dsa, id_ecdsa, id_ed25519 (and their _sk variants),
//     ssh_host_*_key, *.ppk; never a .pub file
//   - "private-key": *.pem, *.key, *.p8, secring.gpg; not when the name or directory says
//     it holds certificates or public keys (cert.pem, ca.pem, fullchain.pem, public.key,
//     /etc/ssl/certs/, apt keyrings)
//   - "keystore": *.p12, *.pfx, *.jks, *.keystore, *.bks; not a truststore
//   - "dotenv": .env and .env.*; not .env.example, .env.sample, .env.template, .env.dist
//     and other templates, nor documentation (.env.md)
//   - "aws-credentials": .aws/credentials
//   - "docker-config": .docker/config.json, .dockercfg
//   - "npmrc", "pypirc", "netrc" (.netrc, _netrc), "git-credentials", "pgpass",
//     "vault-token"
//   - "kubeconfig": .kube/config, kubeconfig, *.kubeconfig
//   - "gcp-credentials": gcloud's credentials.db, access_tokens.db,
//     application_default_credentials.json, legacy_credentials/, client_secret*.json
//   - "gcp-service-account": service-account.json, service_account*.json and the like
//   - "credentials-file": credentials.json
//   - "htpasswd": htpasswd, .htpasswd
//   - "terraform-state": *.tfstate, *.tfstate.backup
//   - "terraform-vars": *.tfvars, *.tfvars.json (Terraform's own .gitignore treats them as
//     likely to hold secrets)
//   - "password-db": *.kdbx, *.kdb, *.psafe3, *.keychain-db
//   - "shadow": shadow, shadow- (the backup passwd(5) tools leave)
//
// Public certificates (*.crt, *.cer, *.der, *.pub) are not secret-bearing.
func ClassifyName(p string) (kind string, ok bool) {
	p = strings.ToLower(strings.ReplaceAll(p, "\\", "/"))
	dir, base := path.Split(p)
	dir = "/" + strings.TrimPrefix(dir, "/")
	if k := exactNames[base]; k != "" {
		return k, true
	}
	if k := classifyByDir(dir, base); k != "" {
		return k, true
	}
	if k := classifyByPattern(dir, base); k != "" {
		return k, true
	}
	return "", false
}

// exactNames maps file names that are secret-bearing wherever they are.
var exactNames = map[string]string{
	"id_rsa": "ssh-private-key", "id_dsa": "ssh-private-key", "id_ecdsa": "ssh-private-key",
	"id_ed25519": "ssh-private-key", "id_ecdsa_sk": "ssh-private-key", "id_ed25519_sk": "ssh-private-key",
	".env":             "dotenv",
	".dockercfg":       "docker-config",
	".npmrc":           "npmrc",
	".pypirc":          "pypirc",
	".netrc":           "netrc",
	"_netrc":           "netrc",
	".git-credentials": "git-credentials",
	".pgpass":          "pgpass",
	".vault-token":     "vault-token",
	"kubeconfig":       "kubeconfig",
	"htpasswd":         "htpasswd",
	".htpasswd":        "htpasswd",
	"shadow":           "shadow",
	"shadow-":          "shadow",
	"secring.gpg":      "private-key",
	"credentials.json": "credentials-file",

	"application_default_credentials.json": "gcp-credentials",
}

// classifyByDir handles names that are only secret-bearing in a known directory.
func classifyByDir(dir, base string) string {
	switch {
	case base == "credentials" && strings.HasSuffix(dir, "/.aws/"):
		return "aws-credentials"
	case base == "config.json" && strings.HasSuffix(dir, "/.docker/"):
		return "docker-config"
	case base == "config" && strings.HasSuffix(dir, "/.kube/"):
		return "kubeconfig"
	case strings.Contains(dir, "/gcloud/") &&
		(base == "credentials.db" || base == "access_tokens.db" || strings.Contains(dir, "/legacy_credentials/")):
		return "gcp-credentials"
	}
	return ""
}

// classifyByPattern handles names recognised by prefix or extension.
func classifyByPattern(dir, base string) string {
	ext := path.Ext(base)
	switch {
	case strings.HasPrefix(base, ".env."):
		if isTemplateSuffix(strings.TrimPrefix(base, ".env.")) {
			return ""
		}
		return "dotenv"
	case strings.HasPrefix(base, "ssh_host_") && strings.HasSuffix(base, "_key"), ext == ".ppk":
		return "ssh-private-key"
	case ext == ".pem" || ext == ".key" || ext == ".p8":
		if isPublicKeyMaterial(dir, base) {
			return ""
		}
		return "private-key"
	case ext == ".p12" || ext == ".pfx" || ext == ".jks" || ext == ".keystore" || ext == ".bks":
		if strings.Contains(base, "truststore") || strings.Contains(base, "cacerts") {
			return ""
		}
		return "keystore"
	case ext == ".kubeconfig":
		return "kubeconfig"
	case ext == ".tfstate" || strings.HasSuffix(base, ".tfstate.backup"):
		return "terraform-state"
	case ext == ".tfvars" || strings.HasSuffix(base, ".tfvars.json"):
		return "terraform-vars"
	case ext == ".kdbx" || ext == ".kdb" || ext == ".psafe3" || ext == ".keychain-db":
		return "password-db"
	case ext == ".json" && strings.HasPrefix(base, "client_secret"):
		return "gcp-credentials"
	case ext == ".json" && isServiceAccountName(strings.TrimSuffix(base, ext)):
		return "gcp-service-account"
	}
	return ""
}

// isTemplateSuffix reports whether .env.<suffix> is a template checked in on purpose.
func isTemplateSuffix(s string) bool {
	switch s {
	case "example", "sample", "template", "dist", "tmpl", "tpl", "defaults", "schema", "md", "rst":
		return true
	}
	return strings.HasSuffix(s, ".example") || strings.HasSuffix(s, ".sample") || strings.HasSuffix(s, ".template")
}

// isPublicKeyMaterial reports whether a .pem/.key file is, by its name or directory,
// a certificate or public key: the CA bundles every distribution ships, apt keyrings,
// and files named for what they hold.
func isPublicKeyMaterial(dir, base string) bool {
	for _, d := range []string{"/certs/", "/ca-certificates/", "/ca-trust/", "/keyrings/", "/trusted.gpg.d/", "/apt/", "/certificates/"} {
		if strings.Contains(dir, d) {
			return true
		}
	}
	stem := strings.TrimSuffix(base, path.Ext(base))
	for _, w := range []string{"cert", "crt", "chain", "bundle", "public", "pubkey", "signing", "release", "keyring"} {
		if strings.Contains(stem, w) {
			return true
		}
	}
	switch {
	case stem == "ca", stem == "pub", strings.HasSuffix(stem, "-ca"), strings.HasSuffix(stem, "_ca"), strings.HasPrefix(stem, "ca-"), strings.HasPrefix(stem, "ca_"),
		strings.HasSuffix(stem, ".pub"), strings.HasSuffix(stem, "-pub"), strings.HasSuffix(stem, "_pub"):
		return true
	}
	return false
}

func isServiceAccountName(stem string) bool {
	s := strings.NewReplacer("-", "", "_", "", ".", "").Replace(stem)
	return strings.HasPrefix(s, "serviceaccount") || strings.HasSuffix(s, "serviceaccount") ||
		strings.HasSuffix(s, "serviceaccountkey") || strings.HasSuffix(s, "sakey")
}

// IsSecretName reports whether an environment variable, build argument or key name
// denotes a secret (DB_PASSWORD, GITHUB_TOKEN, API_KEY) rather than something about one
// (PASSWORD_FILE, TOKEN_TYPE, GPG_KEYS).
//
// The name is split into words (at _ - . and camelCase humps). It is a secret when a
// secret noun (password, passwd, pass, pwd, passphrase, secret, token, credentials,
// creds, or key qualified as api/access/secret/private/… key) is followed by nothing that
// makes it metadata (_FILE, _PATH, _URL, _TYPE, _NAME, _ID, _VERSION, …), and no word
// turns the name into a switch (ALLOW_EMPTY_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD).
func IsSecretName(name string) bool {
	var buf [16]string
	words := splitWords(name, buf[:0])
	if len(words) == 0 {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(name), "_auth") { // npm's base64 user:password
		return true
	}
	if isKnownNonSecret(words) {
		return false
	}
	for len(words) > 1 && neutralWords[words[len(words)-1]] {
		words = words[:len(words)-1]
	}
	for _, w := range words {
		if switchWords[w] {
			return false
		}
	}
	for i := len(words) - 1; i >= 0; i-- {
		w := words[i]
		if metadataWords[w] {
			return false
		}
		if isSecretWord(words, i) {
			return true
		}
	}
	return false
}

// isKnownNonSecret covers well-known names whose words mislead: they hold paths.
func isKnownNonSecret(words []string) bool {
	j := strings.Join(words, "_")
	switch j {
	case "google_application_credentials", "pwd", "oldpwd", "pass":
		return true
	}
	return false
}

// isSecretWord reports whether words[i] is a secret noun in its place.
func isSecretWord(words []string, i int) bool {
	w := words[i]
	prev := ""
	if i > 0 {
		prev = words[i-1]
	}
	switch w {
	case "password", "passwd", "passphrase", "secret", "credential", "credentials", "creds", "pass":
		return true
	case "pwd", "pw":
		return i > 0
	case "token":
		return !nonSecretTokenQualifiers[prev]
	case "key":
		return keyQualifiers[prev]
	case "apikey", "privatekey", "secretkey", "accesskey", "authkey", "signingkey", "encryptionkey",
		"masterkey", "sessionkey", "licensekey", "hmackey", "secretaccesskey", "apitoken":
		return true
	}
	for _, suf := range []string{"password", "passwd", "passphrase", "secret", "token"} {
		if strings.HasSuffix(w, suf) && !strings.HasSuffix(w, "tokens") {
			return true
		}
	}
	if len(w) > 4 && strings.HasSuffix(w, "pass") && !passFalseFriends[w] {
		return true
	}
	return false
}

// splitWords appends the lower-case words of name to dst: separators are anything but
// letters and digits, and a lower-to-upper change starts a word (camelCase).
func splitWords(name string, dst []string) []string {
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			dst = append(dst, strings.ToLower(name[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := isAlnum(c)
		switch {
		case !alnum:
			flush(i)
		case start < 0:
			start = i
		case isUpper(c) && i > 0 && isLower(name[i-1]):
			flush(i)
			start = i
		case isUpper(c) && i+1 < len(name) && isLower(name[i+1]) && i > 0 && isUpper(name[i-1]):
			flush(i) // "APIKey" -> "api", "key"
			start = i
		}
	}
	flush(len(name))
	return dst
}

// neutralWords may trail a secret noun without changing what the name holds.
var neutralWords = setOf("value", "base", "b64", "base64", "hex", "raw", "plain", "plaintext",
	"str", "string", "data", "content", "contents", "pem", "der")

// switchWords turn a name into a setting about secrets rather than a secret.
var switchWords = setOf("allow", "allowed", "enable", "enabled", "disable", "disabled", "use",
	"require", "required", "skip", "no", "is", "has", "random", "empty", "generate",
	"generated", "reset", "rotate", "rotation", "expire", "expires", "expired", "expiry",
	"check", "verify", "validate", "validation", "min", "max", "minimum", "maximum",
	"policy", "complexity", "strength", "prompt", "less", "protected", "encrypted", "hashed",
	"public")

// metadataWords after a secret noun mean the name holds something about the secret.
var metadataWords = setOf("file", "files", "path", "paths", "dir", "directory", "folder", "url",
	"uri", "endpoint", "host", "hostname", "type", "name", "names", "id", "ids", "version", "ver",
	"length", "len", "size", "env", "var", "header", "prefix", "suffix", "field", "param",
	"kind", "format", "location", "loc", "ref", "source", "src", "provider", "user",
	"username", "port", "mask", "regex", "pattern", "hint", "label", "description", "desc",
	"command", "cmd", "script", "arn", "hash", "algorithm", "alg", "mode", "count", "ttl",
	"lifetime", "timeout", "interval", "duration", "age", "fingerprint", "fpr", "server",
	"store", "manager", "helper", "method", "scheme", "scope", "scopes", "audience",
	"issuer", "uid", "gid", "sha", "sha1", "sha256", "sha512", "md5", "checksum", "digest",
	"keys", "secrets", "tokens", "passwords", "auth", "authentication", "login", "change",
	"keyid", "keyring", "keyserver", "servers", "urls", "mount", "volume", "ring", "bits",
	"curve", "sig", "signature", "cert", "certificate", "public", "pub", "level", "limit",
	"index", "map", "list", "dest", "target", "output", "input", "template", "config", "cfg",
	"conf", "option", "options", "flag", "flags", "request", "response", "expiration",
	"sha384", "encryption", "hashing", "cipher", "strategy", "backend", "storage")

// keyQualifiers make a following "key" a secret key.
var keyQualifiers = setOf("api", "access", "secret", "private", "auth", "client", "signing",
	"sign", "encryption", "encrypt", "master", "session", "app", "account", "ssh", "license",
	"hmac", "jwt", "crypt", "cookie", "admin", "write", "deploy", "shared", "storage",
	"subscription", "primary", "secondary", "service", "webhook", "integration", "root", "rsa",
	"ed25519", "ecdsa", "dsa", "tls", "ssl", "x509", "secure", "sendgrid", "stripe", "mailgun")

// nonSecretTokenQualifiers name tokens that are not credentials.
var nonSecretTokenQualifiers = setOf("page", "next", "continuation", "cancel", "cancellation",
	"sync", "pagination", "end", "start", "eof", "lexer", "parser", "syntax")

// passFalseFriends are words ending in "pass" that have nothing to do with passwords.
var passFalseFriends = setOf("bypass", "compass", "surpass", "overpass", "trespass",
	"underpass", "impass", "multipass", "onepass", "firstpass", "secondpass", "lastpass",
	"keepass", "encompass", "sass")

func setOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

func isAlnum(c byte) bool { return isLower(c) || isUpper(c) || isDigit(c) }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
