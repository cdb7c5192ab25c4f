package hostinfo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestNodeID(t *testing.T) {
	const mid = "3f9c2a7e1d6b48c09a5e7f21c4d8b603"
	mac := hmac.New(sha256.New, []byte("heartbeat_exporter node_id"))
	mac.Write([]byte(mid))
	want := hex.EncodeToString(mac.Sum(nil))[:32]

	got := NodeID([]byte(mid + "\n"))
	if got != want || len(got) != 32 {
		t.Errorf("NodeID = %q, want %q", got, want)
	}
	if strings.Contains(got, mid) {
		t.Error("node id reveals the machine id")
	}
	if up := NodeID([]byte(strings.ToUpper(mid))); up != want {
		t.Errorf("upper-case machine id gives %q", up)
	}
	for _, bad := range []string{"", "uninitialized\n", mid[:31], mid + "0", "zz" + mid[2:]} {
		if got := NodeID([]byte(bad)); got != "" {
			t.Errorf("NodeID(%q) = %q, want empty", bad, got)
		}
	}
}

func TestUnameArch(t *testing.T) {
	for in, want := range map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64", "arm": "arm"} {
		if got := UnameArch(in); got != want {
			t.Errorf("UnameArch(%q) = %q, want %q", in, got, want)
		}
	}
}
