package dockerfile

// instructionChecks are the rules about instructions themselves: base images, users,
// secrets, ADD/COPY, ports, labels, CMD/ENTRYPOINT, stage references.
var instructionChecks = []check{}
