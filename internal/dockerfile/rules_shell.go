package dockerfile

// shellChecks are the rules about how RUN uses the shell: cd, sudo, pipefail, commands
// that make no sense in a container, download tools, consecutive RUNs.
var shellChecks = []check{}
