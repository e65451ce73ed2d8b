package cli

import (
	"github.com/charterhq/charter/internal/buildcontext"
	"github.com/charterhq/charter/internal/dockerfile"
	"github.com/charterhq/charter/internal/imagecheck"
	"github.com/charterhq/charter/internal/manifest"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/runtime/inspect"
	"github.com/charterhq/charter/internal/runtime/monitor"
)

// catalog is every rule charter knows, for `charter rules`, SARIF rule metadata and
// charter file validation. Listed explicitly: a new analyzer adds its rules here.
func catalog() *report.Catalog {
	return report.NewCatalog(
		dockerfile.Rules(),
		buildcontext.Rules(),
		policy.Rules(),
		imagecheck.Rules(),
		integrityRules(),
		inspect.Rules(),
		monitor.Rules(),
		manifest.Rules(),
	)
}
