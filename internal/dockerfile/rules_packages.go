package dockerfile

// packageChecks are the rules about what RUN does: package managers, pinning, caches,
// remote scripts, sudo, build tools.
var packageChecks = []check{}
