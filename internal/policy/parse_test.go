package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

func TestParseDesignExample(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "design.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := File{
		Version: 1,
		Image: Image{
			Name: "registry.example.com/pr/poster",
			Base: BaseImage{Allow: []string{"gcr.io/distroless/static-debian12@sha256:*"}},
		},
		Policy: Policy{
			FailOn: "high",
			Rules:  Overrides{{ID: "DF014", Severity: report.SeverityNone}, {ID: "IMG008", Severity: report.Low}},
			Ignore: []Ignore{{ID: "CVE-2024-1234", Package: "openssl", Reason: "not reachable: no TLS server", Expires: "2027-01-31"}},
			VEX:    []string{"./vex/openvex.json"},
		},
		Signing: Signing{Keys: []string{"./cosign.pub"}},
		Runtime: Runtime{
			User:                   "65532:65532",
			ReadOnlyRootFilesystem: true,
			Capabilities:           Capabilities{Add: []string{}},
			Writable:               []string{"/tmp"},
			Egress:                 []string{"graph.instagram.com:443", "10.0.0.0/8:5432"},
			Limits:                 Limits{Memory: "256Mi", CPU: "0.5", Pids: 128},
		},
		Job: Job{
			Deadline: Duration(15 * time.Minute),
			Retries: Retries{Max: 5, Backoff: Duration(2 * time.Second), MaxBackoff: Duration(2 * time.Minute),
				Jitter: "full", On: []int{75}},
			KillSwitch: KillSwitch{File: "/run/charter/kill", Env: "CHARTER_KILL", Mode: "skip"},
			State:      "/var/lib/charter/state.db",
			Redact:     Redact{Env: []string{"*_TOKEN", "*_SECRET", "*PASSWORD*"}, Patterns: []string{}},
		},
	}
	got := stripPositions(*f)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", got, want)
	}
	if f.Name() != filepath.Join("testdata", "design.yaml") {
		t.Errorf("Name() = %q", f.Name())
	}
	// Positions are kept for the findings and errors that point back into the file.
	if l := f.Policy.Rules[1].line; l != 8 {
		t.Errorf("IMG008 override line = %d, want 8", l)
	}
	if l := f.Policy.Ignore[0].line; l != 10 {
		t.Errorf("ignore line = %d, want 10", l)
	}
}

// stripPositions clears the line and column bookkeeping so values compare by content.
func stripPositions(f File) File {
	f.name = ""
	if f.Policy.Rules != nil {
		rules := make(Overrides, len(f.Policy.Rules))
		for i, o := range f.Policy.Rules {
			o.line = 0
			rules[i] = o
		}
		f.Policy.Rules = rules
	}
	if f.Policy.Ignore != nil {
		igs := make([]Ignore, len(f.Policy.Ignore))
		for i, ig := range f.Policy.Ignore {
			ig.line, ig.column = 0, 0
			igs[i] = ig
		}
		f.Policy.Ignore = igs
	}
	return f
}

func TestParseValid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) < 5 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			f, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			if f.Version != 1 {
				t.Errorf("version %d", f.Version)
			}
		})
	}
	inline := map[string]string{
		"null sections":           "version: 1\npolicy:\nimage:\njob: ~\n",
		"flow mapping":            "{version: 1, policy: {failOn: NONE}}",
		"upper-case severities":   "version: 1\npolicy:\n  failOn: CRITICAL\n  rules: {DF001: INFO, DF002: Off}\n",
		"numeric user and limits": "version: 1\nruntime:\n  user: 1000\n  limits: {cpu: 500m, memory: 1073741824}\n",
		"CAP_ prefix":             "version: 1\nruntime:\n  capabilities: {add: [CAP_NET_RAW, chown], drop: [all]}\n",
		"http kill switch local":  "version: 1\njob:\n  killSwitch: {url: \"http://127.0.0.1:8080/kill\"}\n",
		"state URL":               "version: 1\njob:\n  state: postgres://jobs@db/charter\n",
		"BOM":                     "\ufeffversion: 1\n",
		"CRLF":                    "version: 1\r\npolicy:\r\n  failOn: low\r\n",
		"quoted date":             "version: 1\npolicy:\n  ignore: [{id: DF001, reason: r, expires: \"2027-01-31\"}]\n",
		"advisory override":       "version: 1\npolicy:\n  rules: {CVE-2024-1234: low, GHSA-abcd-efgh-ijkl: off}\n",
		"anchor without alias":    "version: 1\npolicy: &p {failOn: high}\n",
		"ipv6 and wildcard":       "version: 1\nruntime:\n  egress: [\"[::1]:80\", \"*.example.com:443\", \"[fd00::/8]:53\"]\n",
	}
	for name, src := range inline {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("charter.yaml", []byte(src)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		// Structure.
		{"typo at top level", "version: 1\n# the policy\npolcy: {}\n",
			`charter.yaml:3: unknown key "polcy" (did you mean "policy"?)`},
		{"unknown top-level key", "version: 1\nfoo: 1\n", `charter.yaml:2: unknown key "foo"`},
		{"nested typo", "version: 1\npolicy:\n  failon: high\n",
			`charter.yaml:3: unknown key "failon" in policy (did you mean "failOn"?)`},
		{"kebab-case key", "version: 1\nruntime:\n  read-only-root-filesystem: true\n",
			`charter.yaml:3: unknown key "read-only-root-filesystem" in runtime (did you mean "readOnlyRootFilesystem"?)`},
		{"missing version", "# contract\npolicy: {failOn: high}\n",
			`charter.yaml:2: missing "version: 1" (the schema version this file is written for)`},
		{"version 2", "version: 2\n",
			`charter.yaml:1: version: want 1, got the number 2 (this charter reads schema version 1)`},
		{"version as string", "version: \"1\"\n",
			`charter.yaml:1: version: want 1, got the string "1" (this charter reads schema version 1)`},
		{"empty file", "", `charter.yaml:1: empty charter file; it must start with "version: 1"`},
		{"comments only", "# nothing yet\n", `charter.yaml:1: empty charter file; it must start with "version: 1"`},
		{"top level list", "- version: 1\n",
			`charter.yaml:1: a charter file is a mapping that starts with "version: 1", got a list`},
		{"section is a list", "version: 1\npolicy: [failOn]\n", `charter.yaml:2: policy: want a mapping, got a list`},
		{"section is a string", "version: 1\nimage: ghcr.io/acme/api\n",
			`charter.yaml:2: image: want a mapping, got the string "ghcr.io/acme/api"`},
		{"duplicate top-level key", "version: 1\npolicy: {}\nsigning: {}\npolicy: {}\n",
			`charter.yaml:4: duplicate key "policy" (first at line 2)`},
		{"duplicate rule", "version: 1\npolicy:\n  rules:\n    DF014: off\n    DF014: low\n",
			`charter.yaml:5: duplicate key "DF014" in policy.rules (first at line 4)`},
		{"merge key", "version: 1\n<<: {policy: {}}\n", `charter.yaml:2: unknown key "<<"`},
		{"complex key", "version: 1\n? [a]\n: 1\n", `charter.yaml:2: keys must be plain words, got a list`},
		{"custom tag", "version: !one 1\n",
			`charter.yaml:1: version: want 1, got a value tagged !one (this charter reads schema version 1)`},

		// policy.failOn and policy.rules.
		{"failOn typo", "version: 1\npolicy:\n  failOn: hihg\n",
			`charter.yaml:3: policy.failOn: unknown severity "hihg" (want critical, high, medium, low, info or none) (did you mean "high"?)`},
		{"failOn off", "version: 1\npolicy:\n  failOn: off\n",
			`charter.yaml:3: policy.failOn: unknown severity "off" (want critical, high, medium, low, info or none)`},
		{"failOn number", "version: 1\npolicy:\n  failOn: 3\n", `charter.yaml:3: policy.failOn: want a string, got the number 3`},
		{"rule severity typo", "version: 1\npolicy:\n  rules:\n    DF014: of\n",
			`charter.yaml:4: policy.rules.DF014: unknown severity "of" (want critical, high, medium, low, info or off) (did you mean "off"?)`},
		{"rule severity synonym", "version: 1\npolicy:\n  rules:\n    DF014: warning\n",
			`charter.yaml:4: policy.rules.DF014: unknown severity "warning" (want critical, high, medium, low, info or off)`},
		{"rule severity boolean", "version: 1\npolicy:\n  rules: {DF014: false}\n",
			`charter.yaml:3: policy.rules.DF014: want a string, got the boolean false`},
		{"rule id with space", "version: 1\npolicy:\n  rules:\n    \"DF 014\": off\n",
			`charter.yaml:4: policy.rules: "DF 014" is not a rule or advisory ID (like DF014, DL3008 or CVE-2024-1234)`},
		{"rules as list", "version: 1\npolicy:\n  rules: [DF014]\n", `charter.yaml:3: policy.rules: want a mapping, got a list`},

		// policy.ignore.
		{"ignore without reason", "version: 1\npolicy:\n  ignore:\n    - id: CVE-2024-1234\n      package: openssl\n",
			`charter.yaml:4: policy.ignore[0]: ignore of CVE-2024-1234 has no reason; say why the finding is accepted`},
		{"ignore with blank reason", "version: 1\npolicy:\n  ignore:\n    - {id: DF001, reason: \"  \"}\n",
			`charter.yaml:4: policy.ignore[0]: ignore of DF001 has no reason; say why the finding is accepted`},
		{"ignore with null reason", "version: 1\npolicy:\n  ignore:\n    - id: DF001\n      reason:\n",
			`charter.yaml:4: policy.ignore[0]: ignore of DF001 has no reason; say why the finding is accepted`},
		{"ignore without id", "version: 1\npolicy:\n  ignore:\n    - {id: DF001, reason: a}\n    - reason: because\n",
			`charter.yaml:5: policy.ignore[1]: missing id (the rule, alias or advisory ID to ignore)`},
		{"ignore as string", "version: 1\npolicy:\n  ignore:\n    - CVE-2024-1234\n",
			`charter.yaml:4: policy.ignore[0]: want a mapping with id and reason, got the string "CVE-2024-1234"`},
		{"ignore as mapping", "version: 1\npolicy:\n  ignore: {id: DF001}\n",
			`charter.yaml:3: policy.ignore: want a list, got a mapping`},
		{"ignore key typo", "version: 1\npolicy:\n  ignore:\n    - id: DF001\n      reasn: x\n",
			`charter.yaml:5: unknown key "reasn" in policy.ignore[0] (did you mean "reason"?)`},
		{"ignore bad date", "version: 1\npolicy:\n  ignore:\n    - {id: DF001, reason: r, expires: 2027-02-30}\n",
			`charter.yaml:4: policy.ignore[0].expires: "2027-02-30" is not a date (want YYYY-MM-DD, e.g. 2027-01-31)`},
		{"ignore short date", "version: 1\npolicy:\n  ignore:\n    - id: DF001\n      reason: r\n      expires: 2027-1-31\n",
			`charter.yaml:6: policy.ignore[0].expires: "2027-1-31" is not a date (want YYYY-MM-DD, e.g. 2027-01-31)`},
		{"ignore timestamp", "version: 1\npolicy:\n  ignore:\n    - id: DF001\n      reason: r\n      expires: 2027-01-31T00:00:00Z\n",
			`charter.yaml:6: policy.ignore[0].expires: "2027-01-31T00:00:00Z" is not a date (want YYYY-MM-DD, e.g. 2027-01-31)`},
		{"ignore date as number", "version: 1\npolicy:\n  ignore:\n    - id: DF001\n      reason: r\n      expires: 20270131\n",
			`charter.yaml:6: policy.ignore[0].expires: want a date (YYYY-MM-DD), got the number 20270131`},
		{"ignore bad glob", "version: 1\npolicy:\n  ignore:\n    - id: DF001\n      reason: r\n      path: \"src/[a\"\n",
			`charter.yaml:6: policy.ignore[0].path: "src/[a" is not a valid pattern (check its [ ] and \)`},
		{"ignore bad package", "version: 1\npolicy:\n  ignore:\n    - {id: CVE-2024-1, reason: r, package: \" openssl\"}\n",
			`charter.yaml:4: policy.ignore[0].package: " openssl": want a package name or a purl prefix without surrounding spaces`},
		{"ignore bad id", "version: 1\npolicy:\n  ignore:\n    - {id: \"*\", reason: everything}\n",
			`charter.yaml:4: policy.ignore[0].id: "*" is not a rule or advisory ID (like DF014, DL3008 or CVE-2024-1234)`},
		{"vex empty path", "version: 1\npolicy:\n  vex: [\"\"]\n", `charter.yaml:3: policy.vex[0]: must not be empty`},

		// image, signing.
		{"base allow bad glob", "version: 1\nimage:\n  base:\n    allow:\n      - \"gcr.io/[distroless\"\n",
			`charter.yaml:5: image.base.allow[0]: "gcr.io/[distroless": want an image reference pattern using * and ?, like "gcr.io/distroless/*"`},
		{"image name with space", "version: 1\nimage: {name: \"my image\"}\n",
			`charter.yaml:2: image.name: "my image" is not an image reference`},
		{"keys as string", "version: 1\nsigning:\n  keys: cosign.pub\n",
			`charter.yaml:3: signing.keys: want a list, got the string "cosign.pub"`},

		// runtime.
		{"user with space", "version: 1\nruntime:\n  user: \"app user\"\n",
			`charter.yaml:3: runtime.user: "app user": want uid[:gid] or a user name, like "65532:65532"`},
		{"readOnly as yes", "version: 1\nruntime:\n  readOnlyRootFilesystem: yes\n",
			`charter.yaml:3: runtime.readOnlyRootFilesystem: want true or false, got the string "yes"`},
		{"capability typo", "version: 1\nruntime:\n  capabilities:\n    add: [NET_BIND_SERVICE, SYS_ADMN]\n",
			`charter.yaml:4: runtime.capabilities.add[1]: unknown capability "SYS_ADMN" (did you mean "SYS_ADMIN"?)`},
		{"add ALL", "version: 1\nruntime:\n  capabilities: {add: [ALL]}\n",
			`charter.yaml:3: runtime.capabilities.add[0]: unknown capability "ALL"`},
		{"writable relative", "version: 1\nruntime:\n  writable:\n    - /tmp\n    - var/cache\n",
			`charter.yaml:5: runtime.writable[1]: "var/cache": want an absolute path`},
		{"writable dotdot", "version: 1\nruntime:\n  writable: [/tmp/../etc]\n",
			`charter.yaml:3: runtime.writable[0]: "/tmp/../etc": .. is not allowed`},
		{"egress without port", "version: 1\nruntime:\n  egress: [api.example.com]\n",
			`charter.yaml:3: runtime.egress[0]: "api.example.com": want host:port or cidr:port, like "api.example.com:443" or "10.0.0.0/8:5432"`},
		{"egress bad port", "version: 1\nruntime:\n  egress: [\"api.example.com:99999\"]\n",
			`charter.yaml:3: runtime.egress[0]: "api.example.com:99999": port "99999" is not a number from 1 to 65535`},
		{"egress bad cidr", "version: 1\nruntime:\n  egress: [\"10.0.0.0/33:5432\"]\n",
			`charter.yaml:3: runtime.egress[0]: "10.0.0.0/33:5432": "10.0.0.0/33" is not a CIDR range`},
		{"egress bad host", "version: 1\nruntime:\n  egress: [\"http://x:80\"]\n",
			`charter.yaml:3: runtime.egress[0]: "http://x:80": want host:port or cidr:port, like "api.example.com:443" or "10.0.0.0/8:5432"`},
		{"memory unit", "version: 1\nruntime:\n  limits:\n    memory: 256MB\n",
			`charter.yaml:4: runtime.limits.memory: "256MB": want a positive size like 256Mi, 1Gi or 512M`},
		{"memory zero", "version: 1\nruntime:\n  limits: {memory: 0Mi}\n",
			`charter.yaml:3: runtime.limits.memory: "0Mi": want a positive size like 256Mi, 1Gi or 512M`},
		{"cpu negative", "version: 1\nruntime:\n  limits: {cpu: -1}\n",
			`charter.yaml:3: runtime.limits.cpu: "-1": want a positive CPU count like 0.5, 2 or 500m`},
		{"cpu zero", "version: 1\nruntime:\n  limits: {cpu: 0}\n",
			`charter.yaml:3: runtime.limits.cpu: "0": want a positive CPU count like 0.5, 2 or 500m`},
		{"pids zero", "version: 1\nruntime:\n  limits: {pids: 0}\n",
			`charter.yaml:3: runtime.limits.pids: 0 is out of range (want 1 to 4194304)`},
		{"pids string", "version: 1\nruntime:\n  limits: {pids: \"128\"}\n",
			`charter.yaml:3: runtime.limits.pids: want a whole number, got the string "128"`},

		// job.
		{"deadline number", "version: 1\njob:\n  deadline: 15\n",
			`charter.yaml:3: job.deadline: want a string, got the number 15`},
		{"deadline words", "version: 1\njob:\n  deadline: 15 minutes\n",
			`charter.yaml:3: job.deadline: "15 minutes" is not a duration (write it like 90s, 15m or 1h30m)`},
		{"deadline zero", "version: 1\njob:\n  deadline: 0s\n", `charter.yaml:3: job.deadline: must be more than zero`},
		{"backoff negative", "version: 1\njob:\n  retries:\n    backoff: -1s\n",
			`charter.yaml:4: job.retries.backoff: -1s is negative`},
		{"retries max zero", "version: 1\njob:\n  retries: {max: 0}\n",
			`charter.yaml:3: job.retries.max: 0 is out of range (want 1 to 1000)`},
		{"retry on exit 0", "version: 1\njob:\n  retries:\n    on:\n      - 75\n      - 0\n",
			`charter.yaml:6: job.retries.on[1]: 0 is out of range (want 1 to 255)`},
		{"retry on string", "version: 1\njob:\n  retries: {on: [\"75\"]}\n",
			`charter.yaml:3: job.retries.on[0]: want a whole number, got the string "75"`},
		{"maxBackoff below backoff", "version: 1\njob:\n  retries:\n    backoff: 10s\n    maxBackoff: 1s\n",
			`charter.yaml:4: job.retries: maxBackoff (1s) is less than backoff (10s)`},
		{"jitter typo", "version: 1\njob:\n  retries: {jitter: fulll}\n",
			`charter.yaml:3: job.retries.jitter: "fulll" is not one of full, equal, decorrelated, none (did you mean "full"?)`},
		{"kill mode", "version: 1\njob:\n  killSwitch:\n    mode: kill\n",
			`charter.yaml:4: job.killSwitch.mode: "kill" is not one of skip, stop`},
		{"kill url http", "version: 1\njob:\n  killSwitch: {url: \"http://flags.example.com/kill\"}\n",
			`charter.yaml:3: job.killSwitch.url: "http://flags.example.com/kill": want an https URL (http only to localhost)`},
		{"kill url with token", "version: 1\njob:\n  killSwitch: {url: \"https://ghp_abcdefghijklmnop@flags.example.com/kill\"}\n",
			`charter.yaml:3: job.killSwitch.url: the URL carries credentials, which do not belong in a charter file`},
		{"kill url malformed", "version: 1\njob:\n  killSwitch: {url: \"https://user:s3cr%t@host/\"}\n",
			`charter.yaml:3: job.killSwitch.url: not a valid URL (want https://host/path)`},
		{"long unknown key clipped", "version: 1\n" + strings.Repeat("k", 100) + ": 1\n",
			`charter.yaml:2: unknown key "` + strings.Repeat("k", 40) + `…"`},
		{"kill env name", "version: 1\njob:\n  killSwitch: {env: 1KILL}\n",
			`charter.yaml:3: job.killSwitch.env: "1KILL" is not an environment variable name`},
		{"kill file relative", "version: 1\njob:\n  killSwitch: {file: run/kill}\n",
			`charter.yaml:3: job.killSwitch.file: "run/kill": want an absolute path`},
		{"state empty", "version: 1\njob:\n  state: \"\"\n", `charter.yaml:3: job.state: must not be empty`},
		{"redact bad regexp", "version: 1\njob:\n  redact:\n    patterns: [\"ghp_[A-Z\"]\n",
			"charter.yaml:4: job.redact.patterns[0]: \"ghp_[A-Z\" is not a valid regular expression: error parsing regexp: missing closing ]: `[A-Z`"},
		{"redact bad env glob", "version: 1\njob:\n  redact: {env: [\"[\"]}\n",
			`charter.yaml:3: job.redact.env[0]: "[" is not a valid pattern (check its [ ] and \)`},

		// YAML itself.
		{"syntax error", "version: 1\npolicy:\n  rules: {DF014: off\n",
			`charter.yaml:3: invalid YAML: did not find expected ',' or '}'`},
		{"bad indentation", "version: 1\npolicy:\n  failOn: high\n    rules: {}\n",
			`charter.yaml:4: invalid YAML: mapping values are not allowed in this context`},
		// The flow mapping opens on line 1 and is still open where the file ends, on line 2.
		{"unclosed on line 1", "{version: 1\n", `charter.yaml:2: invalid YAML: did not find expected ',' or '}'`},
		{"tab on line 1", "\tversion: 1\n", `charter.yaml:1: invalid YAML: found character that cannot start any token`},
		{"tab on line 3", "version: 1\npolicy:\n\tfailOn: high\n",
			`charter.yaml:3: invalid YAML: found character that cannot start any token`},
		{"unknown anchor", "version: 1\npolicy: *p\n", `charter.yaml: YAML aliases (*name) are not allowed; write the value out`},
		{"second document", "version: 1\n---\nversion: 1\n",
			`charter.yaml:2: a second YAML document starts here; the file must hold exactly one`},
		{"alias", "version: 1\npolicy:\n  vex: &v [a.json]\nsigning:\n  keys: *v\n",
			`charter.yaml:5: YAML aliases (*name) are not allowed; write the value out`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("charter.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("parsed %+v, want error %s", f, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestParseHostileInput(t *testing.T) {
	laughs := "version: 1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	deep := "version: 1\nimage: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n"
	dense := "version: 1\nimage: [" + strings.Repeat("1,", 200_000) + "1]\n"
	cases := map[string]struct {
		src  string
		line int
		msg  string
	}{
		"billion laughs": {laughs, 3, "aliases"},
		"deep nesting":   {deep, 2, ""},
		"too many nodes": {dense, 2, "more than 100000 YAML nodes"},
		"too large":      {"version: 1\n#" + strings.Repeat("x", MaxFileSize), 0, "larger than"},
		"binary":         {"version: 1\n\x00\x01", 0, "invalid YAML"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("charter.yaml", []byte(tc.src))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if tc.line != 0 && pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %v, want line %d and %q", err, tc.line, tc.msg)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "charter.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	var pe *Error
	if _, err := Load(dir); !errors.As(err, &pe) || pe.Msg != "not a regular file" {
		t.Errorf("directory: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("version: 1\n#"+strings.Repeat("x", MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "larger than 1048576 bytes") {
		t.Errorf("big file: %v", err)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	if p, ok := Find(dir); ok {
		t.Errorf("empty dir: found %q", p)
	}
	write := func(name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("version: 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("charter.yml")
	if p, ok := Find(dir); !ok || p != filepath.Join(dir, "charter.yml") {
		t.Errorf("yml: %q %v", p, ok)
	}
	write("charter.yaml")
	if p, ok := Find(dir); !ok || p != filepath.Join(dir, "charter.yaml") {
		t.Errorf("both: %q %v, want .yaml preferred", p, ok)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub", "charter.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	if p, ok := Find(filepath.Join(dir, "sub")); ok {
		t.Errorf("directory named charter.yaml: found %q", p)
	}
}

func TestResolve(t *testing.T) {
	f, err := Load(filepath.Join("testdata", "scan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantVEX := []string{filepath.Join("testdata", "vex", "api.openvex.json"), "/etc/charter/vex/shared.json"}
	if got := f.VEXFiles(); !reflect.DeepEqual(got, wantVEX) {
		t.Errorf("VEXFiles = %q, want %q", got, wantVEX)
	}
	wantKeys := []string{filepath.Join("testdata", "keys", "cosign.pub"), "awskms:///arn:aws:kms:eu-west-1:123456789012:key/abcd"}
	if got := f.KeyRefs(); !reflect.DeepEqual(got, wantKeys) {
		t.Errorf("KeyRefs = %q, want %q", got, wantKeys)
	}
	j, err := Load(filepath.Join("testdata", "job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := j.StatePath(), filepath.Join("testdata", "state", "poster.db"); got != want {
		t.Errorf("StatePath = %q, want %q", got, want)
	}
	d, err := Load(filepath.Join("testdata", "design.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.StatePath(), "/var/lib/charter/state.db"; got != want {
		t.Errorf("absolute StatePath = %q, want %q", got, want)
	}
	if got, want := d.VEXFiles(), []string{filepath.Join("testdata", "vex", "openvex.json")}; !reflect.DeepEqual(got, want) {
		t.Errorf("./ VEXFiles = %q, want %q", got, want)
	}
	bare, err := Parse("charter.yaml", []byte("version: 1\npolicy: {vex: [v.json]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := bare.VEXFiles(); !reflect.DeepEqual(got, []string{"v.json"}) {
		t.Errorf("file in working dir: %q", got)
	}
}

func TestFailOn(t *testing.T) {
	cases := []struct {
		src  string
		want report.Severity
		set  bool
	}{
		{"version: 1\n", report.High, false},
		{"version: 1\npolicy: {failOn: critical}\n", report.Critical, true},
		{"version: 1\npolicy: {failOn: Medium}\n", report.Medium, true},
		{"version: 1\npolicy: {failOn: info}\n", report.Info, true},
		{"version: 1\npolicy: {failOn: none}\n", report.SeverityNone, true},
	}
	for _, tc := range cases {
		f, err := Parse("charter.yaml", []byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.FailOn(); got != tc.want {
			t.Errorf("%q: FailOn = %v, want %v", tc.src, got, tc.want)
		}
		if got := f.FailOnSet(); got != tc.set {
			t.Errorf("%q: FailOnSet = %v, want %v", tc.src, got, tc.set)
		}
	}
	var nilFile *File
	if nilFile.FailOn() != report.High || nilFile.FailOnSet() {
		t.Error("nil file: want default HIGH, not set")
	}
	// none must really never fail, as report.Finalize defines it.
	r := report.New("test", report.Target{Kind: "repo", Ref: "."})
	r.Findings = append(r.Findings, report.Finding{Rule: "DF004", Severity: report.Critical})
	none, _ := Parse("charter.yaml", []byte("version: 1\npolicy: {failOn: none}\n"))
	r.Finalize(none.FailOn())
	if !r.Verdict.Pass {
		t.Error("failOn none: a CRITICAL finding failed the run")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			f, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			g, err := Parse(name, out)
			if err != nil {
				t.Fatalf("re-parse: %v\n%s", err, out)
			}
			if a, b := stripPositions(*f), stripPositions(*g); !reflect.DeepEqual(normalize(a), normalize(b)) {
				t.Errorf("round trip changed the value:\n%+v\n%+v\n%s", a, b, out)
			}
		})
	}
}

// normalize maps empty slices and maps to nil, through pointers too: the canonical form
// omits empty lists and mappings, which mean the same as absent ones everywhere in the
// schema.
func normalize(f File) File {
	v := reflect.ValueOf(&f).Elem()
	normalizeValue(v)
	return f
}

func normalizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalizeValue(v.Elem())
		}
	case reflect.Map:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				normalizeValue(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalizeValue(v.Index(i))
		}
	}
}
