package sign

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// intotoVulns recognises an in-toto vulnerability predicate
// (https://in-toto.io/attestation/vulns/v0.1, what `charter scan --vuln-predicate`
// writes) given as the predicate of a vuln attestation. ok is false when input is not
// one (a charter report, say); err says what is wrong with one that is.
func intotoVulns(input []byte) (pred json.RawMessage, ok bool, err error) {
	var top map[string]json.RawMessage
	if json.Unmarshal(input, &top) != nil || top["scanner"] == nil || top["metadata"] == nil || top["schema"] != nil {
		return nil, false, nil
	}
	var p struct {
		Scanner struct {
			URI    string            `json:"uri"`
			Result []json.RawMessage `json:"result"`
		} `json:"scanner"`
		Metadata struct {
			ScanStartedOn  string `json:"scanStartedOn"`
			ScanFinishedOn string `json:"scanFinishedOn"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(input, &p); err != nil {
		return nil, true, fmt.Errorf("in-toto vulnerability predicate: %w", jsonErr(err))
	}
	if p.Scanner.URI == "" || p.Scanner.Result == nil {
		return nil, true, errors.New("in-toto vulnerability predicate: scanner.uri and scanner.result are required")
	}
	for _, ts := range []string{p.Metadata.ScanStartedOn, p.Metadata.ScanFinishedOn} {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			return nil, true, fmt.Errorf("in-toto vulnerability predicate: metadata times must be RFC 3339: %q", ts)
		}
	}
	for _, r := range p.Scanner.Result {
		var res struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(r, &res) != nil || res.ID == "" {
			return nil, true, errors.New("in-toto vulnerability predicate: every scanner.result entry needs an id")
		}
	}
	return compactJSON(input), true, nil
}
