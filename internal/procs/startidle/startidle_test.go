package startidle

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// This test binary imports the package, so its init has run: without the
// GOMAXPROCS variable, on more than one CPU, the runtime is on one.
func TestStartsOnOneCPU(t *testing.T) {
	_, set := os.LookupEnv("GOMAXPROCS")
	want := !set && CPUs > 1
	if Lowered != want {
		t.Fatalf("Lowered %v with GOMAXPROCS set %v and %d CPUs", Lowered, set, CPUs)
	}
	if want && runtime.GOMAXPROCS(0) != 1 {
		t.Errorf("GOMAXPROCS %d, want 1", runtime.GOMAXPROCS(0))
	}
	if os.Getenv("STARTIDLE_CHILD") != "" {
		return
	}
	// An operator's GOMAXPROCS is left as it is.
	cmd := exec.Command(os.Args[0], "-test.run", "^TestReportCPUs$", "-test.v")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=3", "STARTIDLE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cpus=3 gomaxprocs=3 lowered=false") {
		t.Errorf("with GOMAXPROCS=3:\n%s", out)
	}
}

// TestReportCPUs prints what the child started with.
func TestReportCPUs(t *testing.T) {
	t.Log("cpus=" + strconv.Itoa(CPUs) + " gomaxprocs=" + strconv.Itoa(runtime.GOMAXPROCS(0)) + " lowered=" + strconv.FormatBool(Lowered))
}
