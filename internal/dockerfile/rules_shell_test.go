package dockerfile

import (
	"strings"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

// ruleCase is one table entry for a single rule: a Dockerfile and how many findings of
// that rule it must produce (and, optionally, text the first message must contain, and
// the aliases the first finding must carry).
type ruleCase struct {
	name    string
	src     string
	want    int
	msg     string
	aliases []string
	cfg     *Config
}

// hitsFor lints src and returns the findings of one rule. Every rule file's tests use it.
func hitsFor(t *testing.T, rule, src string, cfg *Config) []report.Finding {
	t.Helper()
	f, err := ParseBytes("Dockerfile", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	var out []report.Finding
	for _, fd := range Lint(f, cfg) {
		if fd.Rule == rule {
			out = append(out, fd)
		}
	}
	return out
}

func runRuleCases(t *testing.T, rule string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := hitsFor(t, rule, tc.src, tc.cfg)
			if len(got) != tc.want {
				var msgs []string
				for _, g := range got {
					msgs = append(msgs, g.Message)
				}
				t.Fatalf("%s: got %d findings %q, want %d", rule, len(got), msgs, tc.want)
			}
			if tc.want == 0 {
				return
			}
			if tc.msg != "" && !strings.Contains(got[0].Message, tc.msg) {
				t.Errorf("message %q does not mention %q", got[0].Message, tc.msg)
			}
			if tc.aliases != nil && strings.Join(got[0].Aliases, ",") != strings.Join(tc.aliases, ",") {
				t.Errorf("aliases = %v, want %v", got[0].Aliases, tc.aliases)
			}
		})
	}
}

func TestRuleSudo(t *testing.T) {
	runRuleCases(t, "DF011", []ruleCase{
		{name: "plain", src: "FROM debian:12\nRUN sudo apt-get update\n", want: 1, msg: "`apt-get`", aliases: []string{"DL3004", "DS-0010", "DKL-DI-0001"}},
		{name: "chained after set -eux", src: "FROM debian:12\nRUN set -eux; apt-get update && sudo -E make install\n", want: 1, msg: "`make`"},
		{name: "exec form", src: "FROM debian:12\nRUN [\"sudo\", \"apt-get\", \"update\"]\n", want: 1},
		{name: "inside sh -c", src: "FROM debian:12\nRUN sh -c 'sudo chown app /data'\n", want: 1, msg: "`chown`"},
		{name: "heredoc", src: "FROM debian:12\nRUN <<EOF\nset -e\nsudo apt-get update\nEOF\n", want: 1},
		{name: "onbuild", src: "FROM debian:12\nONBUILD RUN sudo make\n", want: 1},
		{name: "every stage", src: "FROM debian:12 AS a\nRUN sudo ls\nFROM debian:12\nRUN sudo ls\n", want: 2},
		{name: "one finding per RUN", src: "FROM debian:12\nRUN sudo a && sudo b\n", want: 1},
		{name: "installing sudo is not using it", src: "FROM debian:12\nRUN apt-get install -y sudo\n", want: 0},
		{name: "sudoers edit", src: "FROM debian:12\nRUN echo 'app ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/app\n", want: 0},
		{name: "gosu", src: "FROM debian:12\nRUN gosu nobody true\n", want: 0},
	})
}

func TestRulePointlessCommands(t *testing.T) {
	runRuleCases(t, "DF150", []ruleCase{
		{name: "top", src: "FROM debian:12\nRUN top\n", want: 1, msg: "`top`"},
		{name: "service through sudo", src: "FROM debian:12\nRUN sudo service nginx start\n", want: 1, msg: "init system"},
		{name: "in a chain", src: "FROM debian:12\nRUN set -eux; apt-get update && ps aux\n", want: 1, msg: "`ps`"},
		{name: "onbuild", src: "FROM debian:12\nONBUILD RUN vim /etc/hosts\n", want: 1},
		{name: "package names are not commands", src: "FROM debian:12\nRUN apt-get install -y openssh-client vim procps\n", want: 0},
		{name: "mount flag is not the mount command", src: "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt apt-get update\n", want: 0},
	})
}

func TestRuleCd(t *testing.T) {
	runRuleCases(t, "DF151", []ruleCase{
		{name: "cd chain", src: "FROM debian:12\nRUN cd /src && make\n", want: 1, msg: "cd /src", aliases: []string{"DL3003", "DS-0013"}},
		{name: "heredoc", src: "FROM debian:12\nRUN <<EOF\ncd /opt\nmake\nEOF\n", want: 1},
		{name: "exec form sh -c", src: "FROM debian:12\nRUN [\"sh\", \"-c\", \"cd /opt && make\"]\n", want: 1},
		{name: "build dir removed afterwards", src: "FROM debian:12\nRUN set -eux; mkdir -p /usr/src/app; cd /usr/src/app/build; make; cd /; rm -rf /usr/src/app\n", want: 0},
		{name: "temp dir variable removed", src: "FROM debian:12\nRUN tempDir=\"$(mktemp -d)\" && cd \"$tempDir\" && make && rm -rf \"$tempDir\"\n", want: 0},
		{name: "under /tmp", src: "FROM debian:12\nRUN cd /tmp && curl -O x\n", want: 0},
		{name: "kept directory still reported", src: "FROM debian:12\nRUN cd /tmp && make && cd /opt/app && make install\n", want: 1, msg: "cd /opt/app"},
		{name: "workdir", src: "FROM debian:12\nWORKDIR /src\nRUN make\n", want: 0},
		{name: "cd as an argument", src: "FROM debian:12\nRUN echo cd /opt\n", want: 0},
	})
}

func TestRuleUseraddLog(t *testing.T) {
	runRuleCases(t, "DF152", []ruleCase{
		{name: "long uid", src: "FROM debian:12\nRUN useradd -u 123456 app\n", want: 1, msg: "-u 123456"},
		{name: "long form", src: "FROM debian:12\nRUN groupadd -g 123456 app && useradd --uid=123456 -g app app\n", want: 1},
		{name: "behind set -eux", src: "FROM debian:12\nRUN set -eux; useradd -m -u 2000000 app\n", want: 1},
		{name: "with -l", src: "FROM debian:12\nRUN useradd -l -u 123456 app\n", want: 0},
		{name: "with --no-log-init", src: "FROM debian:12\nRUN useradd --no-log-init -u 123456 app\n", want: 0},
		{name: "short uid", src: "FROM debian:12\nRUN useradd -u 10001 app\n", want: 0},
		{name: "uid from a build arg", src: "FROM debian:12\nARG UID\nRUN useradd -u ${UID} app\n", want: 0},
	})
}

func TestRuleWgetProgress(t *testing.T) {
	runRuleCases(t, "DF153", []ruleCase{
		{name: "bare", src: "FROM debian:12\nRUN wget https://example.com/a.tgz\n", want: 1, aliases: []string{"DL3047"}},
		{name: "piped", src: "FROM debian:12\nRUN wget -O- https://example.com/a.tgz | tar xz\n", want: 1},
		{name: "progress", src: "FROM debian:12\nRUN wget --progress=dot:giga https://example.com/a.tgz\n", want: 0},
		{name: "quiet combined", src: "FROM debian:12\nRUN wget -qO- https://example.com/a.tgz | tar xz\n", want: 0},
		{name: "no verbose", src: "FROM debian:12\nRUN wget -nv https://example.com/a.tgz\n", want: 0},
		{name: "log file", src: "FROM debian:12\nRUN wget -o /dev/null https://example.com/a.tgz\n", want: 0},
	})
}

func TestRuleConsecutiveRuns(t *testing.T) {
	runRuleCases(t, "DF154", []ruleCase{
		{name: "two singles", src: "FROM debian:12\nRUN a\nRUN b\n", want: 1, msg: "line 2"},
		{name: "three singles", src: "FROM debian:12\nRUN a\nRUN b\nRUN c\n", want: 2},
		{name: "comment between", src: "FROM debian:12\nRUN a\n# why\nRUN b\n", want: 1},
		{name: "same mounts", src: "FROM debian:12\nRUN --mount=type=cache,target=/x a\nRUN --mount=type=cache,target=/x b\n", want: 1},
		{name: "exec forms", src: "FROM debian:12\nRUN [\"a\"]\nRUN [\"b\"]\n", want: 1},
		{name: "chained first", src: "FROM debian:12\nRUN a && b\nRUN c\n", want: 0},
		{name: "set -eux chain", src: "FROM debian:12\nRUN set -eux; a\nRUN b\n", want: 0},
		{name: "heredoc", src: "FROM debian:12\nRUN <<EOF\na\nb\nEOF\nRUN c\n", want: 0},
		{name: "different mounts", src: "FROM debian:12\nRUN --mount=type=secret,id=a a\nRUN b\n", want: 0},
		{name: "other instruction between", src: "FROM debian:12\nRUN a\nENV X=1\nRUN b\n", want: 0},
		{name: "across stages", src: "FROM debian:12 AS a\nRUN a\nFROM debian:12\nRUN b\n", want: 0},
		{name: "onbuild is not a RUN", src: "FROM debian:12\nRUN a\nONBUILD RUN b\nRUN c\n", want: 0},
	})
}

func TestRuleWgetAndCurl(t *testing.T) {
	runRuleCases(t, "DF155", []ruleCase{
		{name: "two RUNs", src: "FROM debian:12\nRUN wget a\nRUN curl b\n", want: 1, msg: "line 2", aliases: []string{"DL4001", "DS-0014"}},
		{name: "one RUN", src: "FROM debian:12\nRUN wget a && curl -fsSL b | sh\n", want: 1},
		{name: "reports each later user", src: "FROM debian:12\nRUN wget a\nRUN curl b\nRUN echo\nRUN wget c\n", want: 2},
		{name: "through sudo", src: "FROM debian:12\nRUN sudo wget a\nRUN curl b\n", want: 1},
		{name: "separate stages", src: "FROM debian:12 AS a\nRUN wget a\nFROM debian:12\nRUN curl b\n", want: 0},
		{name: "onbuild kept apart", src: "FROM debian:12\nRUN wget a\nONBUILD RUN curl b\n", want: 0},
		{name: "onbuild both", src: "FROM debian:12\nONBUILD RUN wget a\nONBUILD RUN curl b\n", want: 1},
		{name: "installing curl", src: "FROM debian:12\nRUN apt-get install -y curl wget\n", want: 0},
	})
}

func TestRuleShSymlink(t *testing.T) {
	runRuleCases(t, "DF156", []ruleCase{
		{name: "relink", src: "FROM debian:12\nRUN ln -sf /bin/bash /bin/sh\n", want: 1, msg: "/bin/bash"},
		{name: "in a chain", src: "FROM debian:12\nRUN set -eux; rm /bin/sh && ln -s /bin/bash /bin/sh\n", want: 1},
		{name: "onbuild", src: "FROM debian:12\nONBUILD RUN ln -sf /bin/bash /bin/sh\n", want: 1},
		{name: "sh as the source", src: "FROM debian:12\nRUN ln -s /bin/sh /usr/local/bin/sh\n", want: 0},
		{name: "unrelated link", src: "FROM debian:12\nRUN ln -sf /bin/true /sbin/initctl\n", want: 0},
	})
}

func TestRulePipefail(t *testing.T) {
	const bash = "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n"
	runRuleCases(t, "DF157", []ruleCase{
		{name: "default shell", src: "FROM debian:12\nRUN curl -fsSL https://x | tar xz\n", want: 1, msg: "curl | tar", aliases: []string{"DL4006", "DS-0032"}},
		{name: "set -eux does not cover it", src: "FROM debian:12\nRUN set -eux; curl https://x | sh\n", want: 1},
		{name: "bash SHELL", src: "FROM debian:12\n" + bash + "RUN curl https://x | tar xz\n", want: 0},
		{name: "ash SHELL combined flags", src: "FROM alpine:3\nSHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN wget -qO- x | tar xz\n", want: 0},
		{name: "set -o pipefail in the RUN", src: "FROM debian:12\nRUN set -euxo pipefail; curl https://x | tar xz\n", want: 0},
		{name: "bash -o pipefail -c", src: "FROM debian:12\nRUN [\"bash\", \"-o\", \"pipefail\", \"-c\", \"curl x | tar xz\"]\n", want: 0},
		{name: "sh cannot pipefail", src: "FROM debian:12\nSHELL [\"/bin/sh\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl x | sh\n", want: 1},
		{name: "new stage resets", src: "FROM debian:12 AS a\n" + bash + "RUN a | b\nFROM debian:12\nRUN a | b\n", want: 1},
		{name: "stage built on a stage inherits SHELL", src: "FROM debian:12 AS base\n" + bash + "FROM base\nRUN a | b\n", want: 0},
		{name: "later SHELL drops it", src: "FROM debian:12\n" + bash + "SHELL [\"/bin/sh\", \"-c\"]\nRUN a | b\n", want: 1},
		{name: "powershell", src: "FROM mcr.microsoft.com/windows/servercore\nSHELL [\"powershell\", \"-Command\"]\nRUN Get-Item x | Select-Object y\n", want: 0},
		{name: "echo cannot fail", src: "FROM debian:12\nRUN echo \"$SHA  a.tgz\" | sha256sum -c -\n", want: 0},
		{name: "later pipe that can fail", src: "FROM debian:12\nRUN echo x | sha256sum -c - && curl x | tar xz\n", want: 1, msg: "curl | tar"},
		{name: "no pipe", src: "FROM debian:12\nRUN a && b || c\n", want: 0},
		{name: "quoted bar is no pipe", src: "FROM debian:12\nRUN echo 'a | b'\n", want: 0},
	})
}

func TestRuleCopyDot(t *testing.T) {
	runRuleCases(t, "DF158", []ruleCase{
		{name: "dot dot", src: "FROM debian:12\nCOPY . .\n", want: 1, aliases: []string{"DL4007"}},
		{name: "dot slash quoted", src: "FROM debian:12\nCOPY './' /app\n", want: 1},
		{name: "with chown", src: "FROM debian:12\nCOPY --chown=app:app . /app\n", want: 1},
		{name: "json form", src: "FROM debian:12\nCOPY [\".\", \"/app\"]\n", want: 1},
		{name: "onbuild", src: "FROM debian:12\nONBUILD COPY . /app\n", want: 1},
		{name: "subdirectory", src: "FROM debian:12\nCOPY src/ .\n", want: 0},
		{name: "from a stage", src: "FROM debian:12 AS b\nFROM debian:12\nCOPY --from=b . /app\n", want: 0},
	})
}
