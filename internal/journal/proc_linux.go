package journal

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill journalctl when the exporter dies
// without closing it (a crash, SIGKILL): a --follow journalctl would
// otherwise linger until its next write fails. (The signal follows the
// forking thread; the Go runtime ends only threads locked by a goroutine
// that exits, and none of those start journalctl.)
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
