package secrets

import (
	"path"
	"strings"
)

// ClassifyName reports whether a file path denotes a secret-bearing file by its name alone,
// and which kind: "ssh-private-key", "private-key", "dotenv", "aws-credentials",
// "docker-config", "npmrc", "pypirc", "netrc", "git-credentials", "kubeconfig",
// "gcp-service-account", "htpasswd", "terraform-state", "password-db", "shadow".
func ClassifyName(p string) (kind string, ok bool) {
	base := strings.ToLower(path.Base(strings.ReplaceAll(p, "\\", "/")))
	switch base {
	case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519":
		return "ssh-private-key", true
	case ".env":
		return "dotenv", true
	}
	return "", false
}

// IsSecretName reports whether an environment variable, build argument or key name
// denotes a secret (DB_PASSWORD, GITHUB_TOKEN, API_KEY) rather than something about one
// (PASSWORD_FILE, TOKEN_TYPE, GPG_KEYS).
func IsSecretName(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || strings.HasSuffix(n, "token") || strings.HasSuffix(n, "secret")
}
