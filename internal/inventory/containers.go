package inventory

import "strings"

// ContainerRuntime names the runtime that created a cgroup folder, from
// its name and its parent's, or "" when it is not a container's:
//
//	docker-<id>.scope, docker/<id>           docker
//	libpod-<id>.scope (not libpod-conmon-)   podman
//	cri-containerd-<id>.scope, containerd/*  containerd (and Kubernetes on it)
//	lxc.payload.<name>, lxc/<name>           lxc
func ContainerRuntime(parent, name string) string {
	switch {
	case strings.HasPrefix(name, "docker-") && strings.HasSuffix(name, ".scope"),
		parent == "docker" && isHexID(name):
		return "docker"
	case strings.HasPrefix(name, "libpod-") && strings.HasSuffix(name, ".scope") &&
		!strings.HasPrefix(name, "libpod-conmon-"):
		return "podman"
	case strings.HasPrefix(name, "cri-containerd-") && strings.HasSuffix(name, ".scope"),
		parent == "containerd" && name != "" && !strings.Contains(name, "."):
		return "containerd"
	case strings.HasPrefix(name, "lxc.payload.") && len(name) > len("lxc.payload."),
		parent == "lxc" && name != "" && !strings.Contains(name, "."):
		return "lxc"
	}
	return ""
}

// isHexID: a container id, 12 to 64 hex digits.
func isHexID(s string) bool {
	if len(s) < 12 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Runtimes are the runtimes ContainerRuntime can name.
var Runtimes = []string{"containerd", "docker", "lxc", "podman"}
