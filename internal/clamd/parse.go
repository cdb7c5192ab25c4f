package clamd

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// VersionReply is clamd's answer to VERSION.
type VersionReply struct {
	Engine string // e.g. "1.4.6"
	// HasDatabase is false when clamd loaded no daily database: the reply
	// is then just "ClamAV <engine>".
	HasDatabase     bool
	DatabaseVersion uint64
	DatabaseTime    time.Time
}

// CtimeLayout is how clamd writes the database time: C's ctime(3), the
// day of the month padded with a space ("Mon Nov  3 09:04:05 2026").
const CtimeLayout = "Mon Jan _2 15:04:05 2006"

// ParseVersion reads "ClamAV <engine>/<daily version>/<database time>" or
// "ClamAV <engine>". clamd writes the database time with ctime(3), in the
// local time of the clamd host and without a zone, so it is read in loc:
// pass time.Local when the exporter runs on the same host (and in the same
// TZ) as clamd.
func ParseVersion(reply string, loc *time.Location) (VersionReply, error) {
	s := trimReply(reply)
	rest, ok := strings.CutPrefix(s, "ClamAV ")
	if !ok {
		return VersionReply{}, replyError("VERSION reply %q does not start with \"ClamAV \"", clip(s))
	}
	parts := strings.SplitN(rest, "/", 3)
	v := VersionReply{Engine: parts[0]}
	if v.Engine == "" || strings.ContainsAny(v.Engine, " \n") {
		return VersionReply{}, replyError("VERSION reply %q: bad engine version", clip(s))
	}
	switch len(parts) {
	case 1:
		return v, nil
	case 2:
		return VersionReply{}, replyError("VERSION reply %q: database version without its time", clip(s))
	}
	n, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return VersionReply{}, replyError("VERSION reply %q: database version %q is not a number", clip(s), clip(parts[1]))
	}
	t, err := time.ParseInLocation(CtimeLayout, parts[2], loc)
	if err != nil {
		return VersionReply{}, replyError("VERSION reply %q: database time %q is not in ctime form", clip(s), clip(parts[2]))
	}
	v.HasDatabase, v.DatabaseVersion, v.DatabaseTime = true, n, t
	return v, nil
}

// StatsReply holds the figures of clamd's STATS reply, for the primary
// thread pool (the one serving scans; a second pool exists only while a
// reload hands over).
type StatsReply struct {
	Pools int
	State string // e.g. "VALID PRIMARY"
	Live  int    // threads alive
	Idle  int    // of them idle
	Max   int    // MaxThreads
	Queue int    // jobs waiting for a thread
	// Memory in bytes by kind: heap, mmap, used, free, releasable (absent
	// where clamd has no mallinfo and writes N/A), pools_used,
	// pools_total.
	Memory map[string]float64
}

// MemoryKinds are the MEMSTATS figures given in MiB, in clamd's order.
var MemoryKinds = []string{"heap", "mmap", "used", "free", "releasable", "pools_used", "pools_total"}

// ParseStats reads the STATS block:
//
//	POOLS: 1
//
//	STATE: VALID PRIMARY
//	THREADS: live 1  idle 0 max 10 idle-timeout 30
//	QUEUE: 0 items
//		STATS 0.000042
//
//	MEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 pools_used 5.883M pools_total 5.964M
//	END
func ParseStats(reply string) (StatsReply, error) {
	lines := strings.Split(trimReply(reply), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[len(lines)-1]) != "END" {
		return StatsReply{}, replyError("STATS reply does not end in END (cut short?)")
	}
	p := statsParser{r: StatsReply{Pools: -1}}
	for _, line := range lines[:len(lines)-1] {
		if err := p.line(line); err != nil {
			return StatsReply{}, err
		}
	}
	return p.finish()
}

type statsParser struct {
	r         StatsReply
	pool      int  // pools seen (STATE lines)
	inPrimary bool // the current pool is the one reported
	memstats  bool
}

func (p *statsParser) line(line string) error {
	if line == "" || line[0] == '\t' { // blank, or one queued job
		return nil
	}
	key, value, ok := strings.Cut(line, ": ")
	if !ok {
		return replyError("STATS line %q is not \"KEY: value\"", clip(line))
	}
	switch key {
	case "POOLS":
		n, err := atoi("POOLS", value)
		p.r.Pools = n
		return err
	case "STATE":
		p.pool++
		// The first pool is reported unless another one says PRIMARY.
		p.inPrimary = p.pool == 1 || strings.HasSuffix(value, " PRIMARY")
		if p.inPrimary {
			p.r.State = value
		}
	case "THREADS":
		if p.inPrimary {
			return p.threads(value)
		}
	case "QUEUE":
		if p.inPrimary {
			n, err := atoi("QUEUE", strings.TrimSuffix(value, " items"))
			p.r.Queue = n
			return err
		}
	case "MEMSTATS":
		p.memstats = true
		return p.memory(value)
	case "ERROR":
		return replyError("clamd says: %s", clip(value))
	}
	return nil
}

func (p *statsParser) threads(value string) error {
	f := strings.Fields(value)
	seen := 0
	for i := 0; i+1 < len(f); i += 2 {
		var dst *int
		switch f[i] {
		case "live":
			dst = &p.r.Live
		case "idle":
			dst = &p.r.Idle
		case "max":
			dst = &p.r.Max
		default:
			continue
		}
		n, err := atoi("THREADS "+f[i], f[i+1])
		if err != nil {
			return err
		}
		*dst = n
		seen++
	}
	if seen != 3 {
		return replyError("THREADS line %q lacks live, idle or max", clip(value))
	}
	return nil
}

// memory reads "heap 3.656M mmap N/A ... pools 1 pools_used 5.883M ...".
func (p *statsParser) memory(value string) error {
	p.r.Memory = map[string]float64{}
	f := strings.Fields(value)
	if len(f)%2 != 0 {
		return replyError("MEMSTATS line %q is not name/value pairs", clip(value))
	}
	for i := 0; i < len(f); i += 2 {
		name, v := f[i], f[i+1]
		if name == "pools" || v == "N/A" {
			continue
		}
		mib, ok := strings.CutSuffix(v, "M")
		x, err := strconv.ParseFloat(mib, 64)
		if !ok || err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
			return replyError("MEMSTATS %s %q is not a size in MiB", clip(name), clip(v))
		}
		bytes := math.Round(x * 1024 * 1024)
		if math.IsInf(bytes, 0) {
			return replyError("MEMSTATS %s %q is out of range", clip(name), clip(v))
		}
		p.r.Memory[name] = bytes
	}
	return nil
}

func (p *statsParser) finish() (StatsReply, error) {
	switch {
	case p.r.Pools < 0:
		return StatsReply{}, replyError("STATS reply lacks POOLS")
	case p.pool == 0:
		return StatsReply{}, replyError("STATS reply lists no pool (no STATE line)")
	case !p.memstats:
		return StatsReply{}, replyError("STATS reply lacks MEMSTATS")
	}
	return p.r, nil
}

func atoi(what, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, replyError("%s %q is not a count", what, clip(s))
	}
	return n, nil
}

// clip keeps error messages short and printable whatever clamd sent.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
