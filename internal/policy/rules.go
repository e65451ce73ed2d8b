package policy

import "github.com/charterhq/charter/internal/report"

const refCharterFile = "https://github.com/charterhq/charter/blob/main/docs/charter-file.md#ignores-and-expiry"

var rulePOL001 = report.Rule{
	ID:       "POL001",
	Severity: report.Medium,
	Title:    "Expired ignore in the charter file",
	Description: "An entry of policy.ignore in charter.yaml has passed its expires date. It no longer " +
		"suppresses the findings it names, which count toward the verdict again, and the entry itself " +
		"is reported so that an exception granted for a while cannot quietly become permanent.",
	Remediation: "Fix the finding (upgrade the package, change the Dockerfile), or review the exception " +
		"and renew it: update the reason and set a new expires date.",
	References: []string{refCharterFile},
	Category:   "policy",
	Example: "policy:\n  ignore:\n    - id: CVE-2024-1234\n      package: openssl\n" +
		"      reason: \"not reachable: no TLS server; re-checked 2027-01-15\"\n      expires: 2027-07-31",
}

var rulePOL002 = report.Rule{
	ID:       "POL002",
	Severity: report.Info,
	Title:    "Stale ignore in the charter file",
	Description: "An unexpired entry of policy.ignore matched no finding in this run. The problem it " +
		"excused may have been fixed, or its id, package or path is misspelled and the entry silently " +
		"does nothing. Entries for vulnerability advisories are only checked on runs that catalogued " +
		"packages.",
	Remediation: "Remove the entry if the finding is gone; otherwise correct its id (a rule ID, one of " +
		"its aliases, or an advisory ID), package or path so that it matches.",
	References: []string{refCharterFile},
	Category:   "policy",
}

// Rules returns the metadata of the rules the policy itself reports.
func Rules() []report.Rule {
	return []report.Rule{rulePOL001, rulePOL002}
}
