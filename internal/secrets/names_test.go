package secrets

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestClassifyName(t *testing.T) {
	for p, want := range map[string]string{
		"id_rsa": "ssh-private-key", "home/u/.ssh/id_ed25519": "ssh-private-key", "ID_ECDSA": "ssh-private-key",
		"etc/ssh/ssh_host_rsa_key": "ssh-private-key", "keys/deploy.ppk": "ssh-private-key",
		"tls/server.key": "private-key", "server.pem": "private-key", "AuthKey_ABC123.p8": "private-key",
		"certs\\private\\app.pem": "", // a certs directory
		"keystore.p12":            "keystore", "app.pfx": "keystore", "release.jks": "keystore", "android.keystore": "keystore",
		".env": "dotenv", "config/.env": "dotenv", ".env.production": "dotenv", ".env.local": "dotenv",
		".aws/credentials": "aws-credentials", "root/.docker/config.json": "docker-config", ".dockercfg": "docker-config",
		".npmrc": "npmrc", ".pypirc": "pypirc", ".netrc": "netrc", "_netrc": "netrc", ".git-credentials": "git-credentials",
		".pgpass": "pgpass", ".vault-token": "vault-token",
		".kube/config": "kubeconfig", "kubeconfig": "kubeconfig", "prod.kubeconfig": "kubeconfig",
		".config/gcloud/credentials.db": "gcp-credentials", ".config/gcloud/application_default_credentials.json": "gcp-credentials",
		".config/gcloud/legacy_credentials/me@example.com/adc.json": "gcp-credentials",
		"client_secret_123.apps.googleusercontent.com.json":         "gcp-credentials",
		"service-account.json":                                      "gcp-service-account", "ci-service-account-key.json": "gcp-service-account",
		"credentials.json": "credentials-file",
		"htpasswd":         "htpasswd", "etc/nginx/.htpasswd": "htpasswd", "terraform.tfstate": "terraform-state",
		"terraform.tfstate.backup": "terraform-state", "terraform.tfvars": "terraform-vars", "prod.auto.tfvars": "terraform-vars",
		"vars.tfvars.json": "terraform-vars", "passwords.kdbx": "password-db", "etc/shadow": "shadow", "etc/shadow-": "shadow",
	} {
		kind, ok := ClassifyName(p)
		if kind != want || ok != (want != "") {
			t.Errorf("ClassifyName(%q) = %q, %v; want %q", p, kind, ok, want)
		}
	}
	for _, p := range []string{
		"id_rsa.pub", "id_ed25519.pub", ".env.example", ".env.sample", ".env.template", ".env.dist",
		"config/.env.example", "server.crt", "ca.crt", "cert.der", "ca.pem", "cert.pem", "fullchain.pem",
		"chain.pem", "public.pem", "pubkey.pem", "key.pub.pem", "etc/ssl/certs/ca-certificates.crt",
		"etc/ssl/certs/ISRG_Root_X1.pem", "usr/share/ca-certificates/mozilla/DigiCert.pem",
		"usr/share/keyrings/docker.key", "etc/apt/keyrings/nodesource.key", "nginx_signing.key",
		"Release.key", "truststore.jks", "cacerts", "config.json", "credentials", ".aws/config",
		"main.go", "Dockerfile", "environment", "env", ".envrc.d", "shadow.go", "passwd", "keys.go",
		"monkey", "hotkey.txt", "tfstate.go", "docs/.env.md",
	} {
		if kind, ok := ClassifyName(p); ok {
			t.Errorf("ClassifyName(%q) = %q, want not secret-bearing", p, kind)
		}
	}
}

func TestIsSecretName(t *testing.T) {
	for _, n := range []string{
		"DB_PASSWORD", "GITHUB_TOKEN", "API_KEY", "AWS_SECRET_ACCESS_KEY", "NPM_TOKEN", "PRIVATE_KEY",
		"CLIENT_SECRET", "MYSQL_ROOT_PASSWORD", "POSTGRES_PASSWORD", "apiKey", "APIKey", "secretKey",
		"SECRET_KEY_BASE", "JWT_SECRET", "SMTP_PASS", "LDAP_ROOTPASS", "DB_PWD", "REDIS_PASSWD",
		"GPG_PASSPHRASE", "SLACK_WEBHOOK_SECRET", "ENCRYPTION_KEY", "SSH_PRIVATE_KEY", "SSH_KEY",
		"AZURE_STORAGE_KEY", "LICENSE_KEY", "AUTH_TOKEN", "accessToken", "refresh_token", "x-api-key",
		"spring.datasource.password", "--password", "_auth", "_authToken", "DOCKER_CREDENTIALS",
		"TOKEN_GITHUB", "SECRET", "TOKEN", "PASSWORD", "api-token", "oauth2_client_secret_value",
		"STRIPE_SECRET_KEY_B64",
	} {
		if !IsSecretName(n) {
			t.Errorf("IsSecretName(%q) = false, want true", n)
		}
	}
	for _, n := range []string{
		"PASSWORD_FILE", "TOKEN_URL", "SECRETS_PATH", "DB_PASSWORD_FILE", "KEY_PATH", "CERT_DIR", "TOKEN_TYPE",
		"GPG_KEYS", "GPG_KEY", "KEY_ID", "AWS_ACCESS_KEY_ID", "PUBLIC_KEY", "SSH_PUBLIC_KEY", "SECRET_NAME",
		"NODE_VERSION", "PASSWORD_VERSION", "PWD", "OLDPWD", "ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD",
		"MYSQL_ALLOW_EMPTY_PASSWORD", "PASSWORD_MIN_LENGTH", "PASSWORD_HASH", "TOKEN_ENDPOINT", "TOKEN_HEADER",
		"SECRET_ARN", "GOOGLE_APPLICATION_CREDENTIALS", "AWS_SHARED_CREDENTIALS_FILE", "NEXT_PAGE_TOKEN",
		"TOR_FINGERPRINT", "KEYSERVER", "MONKEY", "BYPASS", "COMPASS_VERSION", "PASSWORD_AUTHENTICATION",
		"tokenizer", "keyboard", "SECRETS", "KEYS", "", "___", "PGDATA", "PHP_SHA256", "CACHE_KEY",
		"SORT_KEY", "TOKEN_LENGTH", "PASSWORD_POLICY", "REQUIRE_PASSWORD", "DISABLE_TOKEN",
	} {
		if IsSecretName(n) {
			t.Errorf("IsSecretName(%q) = true, want false", n)
		}
	}
}

// argEnvRE finds ARG and ENV instructions after continuation lines are joined.
var argEnvRE = regexp.MustCompile(`(?im)^\s*(ARG|ENV)\s+(.*)$`)

// corpusArgEnvNames returns every ARG and ENV name in the Dockerfile corpus.
func corpusArgEnvNames(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, name := range corpusFiles(t) {
		b, err := os.ReadFile(filepath.Join(dockerfileCorpus, name))
		if err != nil {
			t.Fatal(err)
		}
		text := regexp.MustCompile("[\\\\`]\r?\n").ReplaceAllString(string(b), " ")
		for _, m := range argEnvRE.FindAllStringSubmatch(text, -1) {
			fields := strings.Fields(m[2])
			if len(fields) == 0 {
				continue
			}
			if !strings.Contains(fields[0], "=") { // ARG NAME, ENV NAME value
				seen[fields[0]] = true
				continue
			}
			for _, f := range fields {
				if k, _, ok := strings.Cut(f, "="); ok && regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(k) {
					seen[k] = true
				}
			}
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestIsSecretNameOnCorpus runs IsSecretName over every ARG and ENV name in the
// Dockerfile corpus; the names that fire were each reviewed.
func TestIsSecretNameOnCorpus(t *testing.T) {
	names := corpusArgEnvNames(t)
	var fired []string
	for _, n := range names {
		if IsSecretName(n) {
			fired = append(fired, n)
		}
	}
	// LDAP_ROOTPASS: the LDAP admin password (set to a literal in jessfraz/dockerfiles'
	// openldap image). LICENSE_KEY: a MaxMind license key (telize image).
	want := []string{"LDAP_ROOTPASS", "LICENSE_KEY"}
	if !slices.Equal(fired, want) {
		t.Errorf("secret names in the corpus: %q\nreviewed: %q", fired, want)
	}
	t.Logf("%d ARG/ENV names in the corpus, %d secret: %q", len(names), len(fired), fired)
}
