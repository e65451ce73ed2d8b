package dockerfile

// labelChecks are the rules about LABEL: key syntax and the label schema a team declares.
var labelChecks = []check{}
