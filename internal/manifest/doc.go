// Package manifest checks deployment files for unsafe settings: Kubernetes manifests
// (every workload with a pod template), compose files and CI pipelines. The checks are
// charter's MAN rules and the Pod Security Standards "baseline" and "restricted"
// profiles, one report.Finding per problem, located by file and line where there is one.
//
// CheckPod is the shared core: `charter lint` calls it for each pod template it decodes,
// and the admission webhook calls it for each pod it is asked to admit.
package manifest
