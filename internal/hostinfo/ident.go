package hostinfo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// nodeIDKey keys the node id hash, so the id is specific to this
// application, like systemd's app-specific machine ids.
const nodeIDKey = "heartbeat_exporter node_id"

// NodeID derives a stable node id from the content of /etc/machine-id
// without revealing it: the first 32 hex digits of HMAC-SHA256 keyed with a
// fixed application key. It returns "" when the content is not a machine id
// (32 hex digits), e.g. "uninitialized" early in boot.
func NodeID(machineID []byte) string {
	id := bytes.ToLower(bytes.TrimSpace(machineID))
	if len(id) != 32 {
		return ""
	}
	if _, err := hex.DecodeString(string(id)); err != nil {
		return ""
	}
	mac := hmac.New(sha256.New, []byte(nodeIDKey))
	mac.Write(id)
	return hex.EncodeToString(mac.Sum(nil))[:32]
}

// UnameArch maps a Go GOARCH to the machine name uname(2) reports, for
// when the kernel's own is not available.
func UnameArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	}
	return goarch
}
