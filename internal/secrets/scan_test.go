package secrets

import (
	"encoding/base64"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// Fake credentials are built at test time, so that this repository does not itself trip
// secret scanners. They have the shape of the real thing and random bodies.

const (
	alnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperD = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64    = alnum + "+/"
	b64url = alnum + "-_"
	hexd   = "0123456789abcdef"
)

// fake returns n characters from set, the same for the same seed.
func fake(seed uint64, set string, n int) string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

func fakeJWT(seed uint64) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc([]byte(`{"sub":"1234567890","name":"svc-deploy","iat":1716239022}`)) + "." +
		fake(seed, b64url, 43)
}

// fakePEM returns a private key block with a random body of the given label.
func fakePEM(seed uint64, label, nl string) string {
	var b strings.Builder
	b.WriteString("-----BEGIN " + label + "-----" + nl)
	body := fake(seed, b64, 64*6)
	for i := 0; i < len(body); i += 64 {
		b.WriteString(body[i:i+64] + nl)
	}
	b.WriteString("-----END " + label + "-----")
	return b.String()
}

var (
	fakeAKIA      = "AKIA" + fake(1, upperD, 16)
	fakeASIA      = "ASIA" + fake(2, upperD, 16)
	fakeAWSSecret = fake(3, b64, 40)
	fakeGoogleKey = "AIza" + fake(4, b64url, 35)
	fakeGHP       = "ghp_" + fake(5, alnum, 36)
	fakeGHO       = "gho_" + fake(6, alnum, 36)
	fakeGHU       = "ghu_" + fake(7, alnum, 36)
	fakeGHS       = "ghs_" + fake(8, alnum, 36)
	fakeGHR       = "ghr_" + fake(9, alnum, 76)
	fakeGHFine    = "github_pat_" + fake(10, alnum, 22) + "_" + fake(11, alnum, 59)
	fakeGLPAT     = "glpat-" + fake(12, b64url, 20)
	fakeGLPATNew  = "glpat-" + fake(13, b64url, 27) + ".01.0w" + fake(14, alnum, 7)
	fakeGLRunner  = "glrt-" + fake(15, b64url, 20)
	fakeGLDeploy  = "gldt-" + fake(16, b64url, 20)
	fakeGLRegistr = "GR1348941" + fake(17, b64url, 20)
	fakeXOXB      = "xoxb-" + fake(18, "0123456789", 12) + "-" + fake(19, "0123456789", 13) + "-" + fake(20, alnum, 24)
	fakeXOXP      = "xoxp-" + fake(21, "0123456789", 12) + "-" + fake(22, "0123456789", 12) + "-" + fake(23, "0123456789", 13) + "-" + fake(24, hexd, 32)
	fakeXAPP      = "xapp-1-A" + fake(25, upperD, 10) + "-" + fake(26, "0123456789", 13) + "-" + fake(27, hexd, 64)
	fakeSlackHook = "https://hooks.slack.com/services/T" + fake(28, upperD, 8) + "/B" + fake(29, upperD, 10) + "/" + fake(30, alnum, 24)
	fakeStripe    = "sk_" + "live_" + fake(31, alnum, 99)
	fakeStripeRK  = "rk_" + "live_" + fake(32, alnum, 99)
	fakeNPM       = "npm_" + fake(33, alnum, 36)
	fakePyPI      = "pypi-AgEIcHlwaS5vcmc" + fake(34, b64url, 160)
	fakeJWTToken  = fakeJWT(35)
	fakeURLPass   = fake(36, alnum, 14)
	fakeEnvPass   = fake(37, alnum, 10) + "!" + fake(38, alnum, 5)
	fakeAPIKey    = fake(39, hexd, 32)
)

type scanCase struct {
	name  string
	text  string
	rule  string
	value string
}

func positiveCases() []scanCase {
	rsa := fakePEM(40, "RSA PRIVATE KEY", "\n")
	ec := fakePEM(41, "EC PRIVATE KEY", "\n")
	dsa := fakePEM(42, "DSA PRIVATE KEY", "\r\n")
	pkcs8 := fakePEM(43, "PRIVATE KEY", "\n")
	enc := fakePEM(44, "ENCRYPTED PRIVATE KEY", "\n")
	ssh := fakePEM(45, "OPENSSH PRIVATE KEY", "\n")
	pgp := fakePEM(46, "PGP PRIVATE KEY BLOCK", "\n")
	gcpKey := fakePEM(47, "PRIVATE KEY", `\n`)
	truncated := strings.TrimSuffix(fakePEM(48, "RSA PRIVATE KEY", "\n"), "-----END RSA PRIVATE KEY-----")
	return []scanCase{
		{"aws key id in ini", "[default]\naws_access_key_id = " + fakeAKIA + "\n", "aws-access-key-id", fakeAKIA},
		{"aws session key id", `{"AccessKeyId": "` + fakeASIA + `"}`, "aws-access-key-id", fakeASIA},
		{"aws secret in ini", "aws_secret_access_key = " + fakeAWSSecret + "\n", "aws-secret-access-key", fakeAWSSecret},
		{"aws secret in env", "export AWS_SECRET_ACCESS_KEY=\"" + fakeAWSSecret + "\"\n", "aws-secret-access-key", fakeAWSSecret},
		{"aws secret in yaml", "secretAccessKey: " + fakeAWSSecret + "\n", "aws-secret-access-key", fakeAWSSecret},
		{"gcp service account", "{\n  \"type\": \"service_account\",\n  \"project_id\": \"proj-1\",\n  \"private_key_id\": \"" + fake(49, hexd, 40) + "\",\n  \"private_key\": \"" + gcpKey + `\n",` + "\n  \"client_email\": \"svc@proj-1.iam.gserviceaccount.com\"\n}\n", "gcp-service-account", gcpKey},
		{"google api key", "const mapsKey = '" + fakeGoogleKey + "';", "gcp-api-key", fakeGoogleKey},
		{"github pat", "GITHUB_TOKEN=" + fakeGHP + "\n", "github-pat", fakeGHP},
		{"github oauth", `{"access_token":"` + fakeGHO + `"}`, "github-oauth-token", fakeGHO},
		{"github user-to-server", "token " + fakeGHU, "github-app-token", fakeGHU},
		{"github server-to-server", "Authorization: Bearer " + fakeGHS + "\r\n", "github-app-token", fakeGHS},
		{"github refresh", "refresh=" + fakeGHR, "github-refresh-token", fakeGHR},
		{"github fine-grained", "gh auth login --with-token <<< " + fakeGHFine, "github-fine-grained-pat", fakeGHFine},
		{"github token in url", "git clone https://x-access-token:" + fakeGHS + "@github.com/org/repo.git", "github-app-token", fakeGHS},
		{"gitlab pat", "PRIVATE-TOKEN: " + fakeGLPAT, "gitlab-pat", fakeGLPAT},
		{"gitlab pat new format", "GITLAB_TOKEN=" + fakeGLPATNew + ".", "gitlab-pat", fakeGLPATNew},
		{"gitlab runner", "token = \"" + fakeGLRunner + "\"", "gitlab-token", fakeGLRunner},
		{"gitlab deploy", "  deploy: " + fakeGLDeploy, "gitlab-token", fakeGLDeploy},
		{"gitlab registration", "--registration-token " + fakeGLRegistr, "gitlab-token", fakeGLRegistr},
		{"slack bot", "SLACK_BOT_TOKEN=" + fakeXOXB, "slack-token", fakeXOXB},
		{"slack user", "slack_token: '" + fakeXOXP + "'", "slack-token", fakeXOXP},
		{"slack app", "app_token = " + fakeXAPP, "slack-app-token", fakeXAPP},
		{"slack webhook", "curl -X POST -d @msg.json " + fakeSlackHook + "\n", "slack-webhook-url", fakeSlackHook},
		{"stripe live", "Stripe.api_key = \"" + fakeStripe + "\"", "stripe-secret-key", fakeStripe},
		{"stripe restricted", "STRIPE_KEY=" + fakeStripeRK, "stripe-restricted-key", fakeStripeRK},
		{"npm token in npmrc", "//registry.npmjs.org/:_authToken=" + fakeNPM + "\n", "npm-token", fakeNPM},
		{"pypi token", "[pypi]\nusername = __token__\npassword = " + fakePyPI + "\n", "pypi-token", fakePyPI},
		{"rsa key", "# deploy key\n" + rsa + "\n", "pem-private-key", rsa},
		{"ec key", ec, "pem-private-key", ec},
		{"dsa key with crlf", dsa, "pem-private-key", dsa},
		{"pkcs8 key", "key: |\n  " + strings.ReplaceAll(pkcs8, "\n", "\n  ") + "\n", "pem-private-key", strings.ReplaceAll(pkcs8, "\n", "\n  ")},
		{"encrypted key", enc, "pem-private-key", enc},
		{"truncated key", truncated, "pem-private-key", strings.TrimRight(truncated, "\n")},
		{"openssh key", ssh + "\n", "openssh-private-key", ssh},
		{"pgp key", pgp, "pgp-private-key", pgp},
		{"jwt bearer", "Authorization: Bearer " + fakeJWTToken + "\n", "jwt", fakeJWTToken},
		{"jwt in json", `{"id_token":"` + fakeJWTToken + `"}`, "jwt", fakeJWTToken},
		{"url with password", "DATABASE_URL=postgres://app:" + fakeURLPass + "@db.internal:5432/app", "url-credentials", fakeURLPass},
		{"amqp url", `broker_url = "amqp://worker:` + fakeURLPass + `@rabbit/vhost"`, "url-credentials", fakeURLPass},
		{"dotenv password", "DB_HOST=db\nDB_PASSWORD=" + fakeEnvPass + "\n", "generic-assignment", fakeEnvPass},
		{"yaml password", "database:\n  password: \"" + fakeEnvPass + "\"\n", "generic-assignment", fakeEnvPass},
		{"json api key", `{"api_key": "` + fakeAPIKey + `"}`, "generic-assignment", fakeAPIKey},
		{"ini secret", "[auth]\nclient_secret = " + fakeAPIKey + "\n", "generic-assignment", fakeAPIKey},
		{"shell export", "export API_TOKEN='" + fakeAPIKey + "'\n", "generic-assignment", fakeAPIKey},
		{"dockerfile env", "ENV DB_PASSWORD=" + fakeEnvPass + " LOG=info\n", "generic-assignment", fakeEnvPass},
		{"dockerfile env legacy", "ENV MYSQL_ROOT_PASSWORD " + fakeEnvPass + "\n", "generic-assignment", fakeEnvPass},
		{"dockerfile arg default", "ARG NPM_TOKEN=" + fakeAPIKey + "\n", "generic-assignment", fakeAPIKey},
		{"go code", "\tapiKey := \"" + fakeAPIKey + "\"\n", "generic-assignment", fakeAPIKey},
		{"python kwarg", "client = Client(secret_key='" + fakeAPIKey + "')", "generic-assignment", fakeAPIKey},
		{"ruby hash", ":password => \"" + fakeEnvPass + "\"", "generic-assignment", fakeEnvPass},
		{"flag", "mysql --password=" + fakeEnvPass + " -h db", "generic-assignment", fakeEnvPass},
		{"properties", "spring.datasource.password=" + fakeEnvPass + "\n", "generic-assignment", fakeEnvPass},
		{"netrc", "machine api.heroku.com\n  login me@corp.io\nmachine git.corp.io login ci password " + fakeEnvPass + "\n", "generic-assignment", fakeEnvPass},
		{"bearer", "curl -H 'Authorization: Bearer " + fakeAPIKey + "' https://api.corp.io/v1/me", "bearer-token", fakeAPIKey},
		{"bearer in a log", `level=debug msg="request" header="Authorization: Bearer ` + fakeURLPass + fake(63, alnum, 8) + `."`, "bearer-token", fakeURLPass + fake(63, alnum, 8)},
		{"basic", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("deploy:"+fakeEnvPass)) + "\r\n", "basic-auth", base64.StdEncoding.EncodeToString([]byte("deploy:" + fakeEnvPass))},
		{"xml", "<server><id>repo</id><password>" + fakeEnvPass + "</password></server>", "generic-assignment", fakeEnvPass},
	}
}

func TestScanFindsEachRule(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range positiveCases() {
		t.Run(tc.name, func(t *testing.T) {
			ms := ScanString(tc.text)
			checkInvariants(t, []byte(tc.text), ms)
			if len(ms) != 1 || ms[0].Rule != tc.rule || ms[0].Value != tc.value {
				t.Fatalf("got %v, want one %s match of %s", summary(ms), tc.rule, Redact(tc.value))
			}
			if want := 1 + strings.Count(tc.text[:ms[0].Start], "\n"); ms[0].Line != want {
				t.Errorf("line %d, want %d", ms[0].Line, want)
			}
			if ms[0].Title == "" {
				t.Error("empty title")
			}
			covered[tc.rule] = true
		})
	}
	for _, r := range allRules {
		if !covered[r.id] {
			t.Errorf("rule %s has no positive test", r.id)
		}
	}
}

// summary describes matches without their secrets.
func summary(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule+":"+Redact(m.Value))
	}
	return out
}

func TestScanRejects(t *testing.T) {
	for _, text := range []string{
		"",
		"aws_access_key_id = AKIAIOSFODNN7" + "EXAMPLE",
		"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
		"key = AKIA" + "XXXXXXXXXXXXXXXX",
		"GITHUB_TOKEN=ghp_" + strings.Repeat("x", 36),
		"see ghp_" + fake(50, alnum, 20),      // too short
		"xghp_" + fake(51, alnum, 36),         // not at a boundary
		"sk_" + "test_" + fake(52, alnum, 24), // test mode: not reported
		"npm_config_cache=/tmp/.npm",
		"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
		"-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----",
		"-----BEGIN CERTIFICATE-----\n" + fake(53, b64, 200) + "\n-----END CERTIFICATE-----",
		"-----BEGIN PUBLIC KEY-----\n" + fake(54, b64, 200) + "\n-----END PUBLIC KEY-----",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",                       // unsigned
		"eyJub3QiOiJqd3QifQ.eyJzdWIiOiJ4In0." + fake(55, b64url, 43), // no alg
		"DATABASE_URL=postgres://app:example@db/app",
		"postgres://postgres:postgres@localhost:5432/postgres",
		"amqp://guest:guest@localhost:5672/",
		"http://user:password@host/", "http://user:pass@host/", "http://jane:p%40ssword@google.com",
		"https://user:" + fake(56, alnum, 12) + "@example.com/",
		"http://:@host/", "ssh://git@github.com/org/repo",
		"password=changeme", "password: ${DB_PASSWORD}", "password: <password>", "password = \"xxx\"",
		"PASSWORD=****", "token: your-token-here", "api_key: example-key-12345", "password=",
		"password: \"\"", `password = request.form["password"]`, "token: ${{ secrets.GITHUB_TOKEN }}",
		"password: {{ .Values.db.password }}", "password = os.environ['DB_PASSWORD']",
		"token = os.getenv(\"TOKEN\")", "secret: !vault |", "password: *default_password",
		"PASSWORD_FILE=/run/secrets/db_password", "password_file: /etc/app/" + fake(57, alnum, 12),
		"TOKEN_URL=https://auth.internal/token", "GPG_KEY=" + fake(58, "0123456789ABCDEF", 40),
		"GPG_KEYS " + fake(59, "0123456789ABCDEF", 40), "PUBLIC_KEY=" + fake(60, b64, 40),
		"NODE_VERSION=20.11.1", "ALLOW_EMPTY_PASSWORD=yes", "MYSQL_RANDOM_ROOT_PASSWORD=1",
		"if password == \"" + fake(61, alnum, 12) + "1\" {", "token := tok.Next()",
		"TOKEN_ALL_ACCESS = STANDARD_RIGHTS_REQUIRED |", "this._password=null,this._host=\"\"",
		"password: hunter2", "password=mysecretpassword", "secret = \"correct horse battery staple\"",
		"token: 12345678901234", "echo 'secret_key=$AWS_SECRET_KEY'",
		`{"encryptionKey": "encryptionKey1024"}`,
		`"access_token":"2YotnFZFEjr1zCsicMWpAA",`,                       // RFC 6749's sample
		`password: 'bm90IHJlYWxseSBteSBwYXNzd29yZA=='`,                   // base64 of a placeholder
		`sharedKey: "context:%2B+plain"`, "secret: awskms:" + fakeAPIKey, // references
		"GET https://api.example.com/v1/me?access_token=" + fakeAPIKey, // documentation URL
		"#password_encryption = scram-sha-256", "PublicKeyToken=31bf3856ad364e35",
		"cvs://:pserver:anoncvs@sources.redhat.com:/cvs/src",
		"Authorization: Bearer $TOKEN", "Authorization: Bearer <token>", "Authorization: Bearer YOUR_ACCESS_TOKEN",
		"-H \"Authorization: Bearer ${GITHUB_TOKEN}\"", "Bearer tokens are described in RFC 6750.",
		"Basic usage: run it", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("user:password")),
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("no colon here")),
		"BenchmarkScan", "machine example.com login me password",
	} {
		if ms := ScanString(text); len(ms) != 0 {
			t.Errorf("%q: unexpected %v", text, summary(ms))
		}
	}
}

func TestScanOrderAndOverlaps(t *testing.T) {
	text := "GITHUB_TOKEN=" + fakeGHP + " url=https://bot:" + fakeGHS + "@github.com\n" +
		"key_id = " + fakeAKIA + "\nnpm=" + fakeNPM + "\n" + fakePEM(62, "EC PRIVATE KEY", "\n") + "\npassword: " + fakeEnvPass + "\n"
	ms := ScanString(text)
	checkInvariants(t, []byte(text), ms)
	var rules []string
	for _, m := range ms {
		rules = append(rules, m.Rule)
	}
	want := []string{"github-pat", "github-app-token", "aws-access-key-id", "npm-token", "pem-private-key", "generic-assignment"}
	if !slices.Equal(rules, want) {
		t.Fatalf("rules %q, want %q", rules, want)
	}
	if ms[2].Line != 2 || ms[3].Line != 3 || ms[4].Line != 4 || ms[5].Line != 12 {
		t.Errorf("lines %d %d %d %d", ms[2].Line, ms[3].Line, ms[4].Line, ms[5].Line)
	}
}

// checkInvariants is what every Scan result must satisfy.
func checkInvariants(t testing.TB, content []byte, ms []Match) {
	t.Helper()
	prevEnd, line, pos := 0, 1, 0
	for k, m := range ms {
		if m.Start < prevEnd || m.Start >= m.End || m.End > len(content) {
			t.Fatalf("match %d [%d,%d) out of order or bounds (previous end %d, len %d)", k, m.Start, m.End, prevEnd, len(content))
		}
		if m.Value != string(content[m.Start:m.End]) {
			t.Fatalf("match %d: Value is not content[Start:End]", k)
		}
		line += strings.Count(string(content[pos:m.Start]), "\n")
		pos = m.Start
		if m.Line != line {
			t.Fatalf("match %d: line %d, want %d", k, m.Line, line)
		}
		if m.Rule == "" || m.Title == "" {
			t.Fatalf("match %d: empty rule or title", k)
		}
		prevEnd = m.End
	}
}

func TestRulesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/secrets.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range allRules {
		if seen[r.id] {
			t.Errorf("duplicate rule ID %s", r.id)
		}
		seen[r.id] = true
		if !strings.Contains(string(doc), "`"+r.id+"`") {
			t.Errorf("docs/secrets.md does not list rule %s", r.id)
		}
	}
}
