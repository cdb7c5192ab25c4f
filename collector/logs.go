package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/journal"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/logrules"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/procs"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/tail"
)

// DefaultStateDir is where log positions are kept by default.
const DefaultStateDir = "/var/lib/heartbeat_exporter"

func init() {
	registerKeeping("logs", true, newLogsCollector)
	registerFlags(func(app *kingpin.Application, p *Paths) {
		app.Flag("state.dir",
			"Folder where the read position of each tailed log and the SNF marks are saved, so that after a restart lines written while the exporter was down are counted and SNF snapshots are not counted twice. Created (0700) if missing where its parent exists. Empty, or impossible to create or write: kept in memory only (the latter with a warning).").
			Default(DefaultStateDir).StringVar(&p.State)
	})
}

// saveEvery debounces position saves while lines keep coming.
const saveEvery = time.Second

// logsMaxBytesPerPoll bounds what one poll reads of a file, so that
// positions are saved along a big backlog (a variable for tests).
var logsMaxBytesPerPoll int64 = 64 << 20

var (
	logReadBytesDesc = prometheus.NewDesc("heartbeat_log_read_bytes_total",
		"Bytes read from the log, rotated files included.", []string{"log"}, nil)
	logLinesDesc = prometheus.NewDesc("heartbeat_log_lines_total",
		"Complete lines read from the log.", []string{"log"}, nil)
	logTruncatedDesc = prometheus.NewDesc("heartbeat_log_lines_truncated_total",
		"Lines longer than max_line_bytes (only the head matched).", []string{"log"}, nil)
	logSaveFailuresDesc = prometheus.NewDesc("heartbeat_log_state_save_failures_total",
		"Failed saves of the log's read positions in --state.dir.", []string{"log"}, nil)
	logHeldBackDesc = prometheus.NewDesc("heartbeat_log_lines_held_back",
		"Lines read but held back until their position is saved.", []string{"log"}, nil)
	logLastReadDesc = prometheus.NewDesc("heartbeat_log_last_read_timestamp_seconds",
		"When lines were last read from the log, in Unix time.", []string{"log"}, nil)
)

// counterHelp gives the counters fed by rules their HELP text; a family
// shared with another collector must use the very same text.
var counterHelp = map[string]string{
	logrules.MessagesTotal:      messagesHelp,
	logrules.MTAMessagesTotal:   "Messages seen by the MTA, by status.",
	logrules.VirusesFoundTotal:  "Viruses found, by the program that found them.",
	logrules.ModuleUpdatesTotal: "Signature update runs logged, by result.",
	logrules.LogErrorsTotal:     "Log lines with error, fatal, panic or critical as a word.",
	logrules.RuleMatchesTotal:   "Log lines matching a preset's or the operator's rule.",
}

// logsCollector serves counters kept by background tailers: a scrape
// reads them and never touches the files.
type logsCollector struct {
	sources []*logSource
	prev    *logsCollector // until TakeOver

	mu    sync.Mutex
	owned map[*logSource]bool // the sources Close stops: not those a successor took
}

func newLogsCollector(d Deps, prev *logsCollector) (Collector, error) {
	cfg := d.Config
	if cfg == nil || len(cfg.Logs) == 0 {
		return &logsCollector{prev: prev}, nil
	}
	root := d.rootfs()
	store := openStateStore(d.Logger, d.Paths.State)
	c := &logsCollector{prev: prev}
	for _, lc := range cfg.Logs {
		src, err := c.keep(prev, d.Logger, root, lc, store)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("logs %s: %w", lc.Name(), err)
		}
		c.sources = append(c.sources, src)
	}
	return c, nil
}

// stateWarned remembers the state folders already warned about, so the
// warning comes once per process, not at each reload.
var stateWarned sync.Map

// statePruned remembers the state folders already pruned by this process.
var statePruned sync.Map

// stateKeepGone is how long the position of a file that is gone is kept.
const stateKeepGone = 7 * 24 * time.Hour

// pruneOnce removes, once per process and folder, the saved positions of
// files gone for more than stateKeepGone (date-named logs rotated away).
func pruneOnce(logger log.Logger, store *tail.StateStore) {
	if _, done := statePruned.LoadOrStore(store.Dir, true); done {
		return
	}
	n, err := store.Prune(stateKeepGone)
	if n > 0 {
		_ = level.Info(logger).Log("msg", "removed the saved positions of logs gone for a week", "dir", store.Dir, "count", n)
	}
	if err != nil {
		_ = level.Warn(logger).Log("msg", "cannot remove old saved log positions", "dir", store.Dir, "err", err)
	}
}

// openStateStore returns the store, or nil (positions in memory only)
// with one message per folder and process when the folder cannot be used.
// A missing folder is created first (run by hand there is no systemd
// StateDirectory= to make it); one that cannot be created or written is a
// warning: a restart will lose or recount lines. An empty --state.dir is
// the operator's explicit choice (the demo makes it), so only an info line.
func openStateStore(logger log.Logger, dir string) *tail.StateStore {
	const msg = "log positions and SNF marks are kept in memory only; after a restart, log lines written while the exporter was down are not counted and SNF snapshots still in their files are counted again"
	if dir == "" {
		if _, dup := stateWarned.LoadOrStore("", true); !dup {
			_ = level.Info(logger).Log("msg", "--state.dir is empty: "+msg)
		}
		return nil
	}
	store := &tail.StateStore{Dir: dir}
	created, err := makeStateDir(dir)
	if err == nil {
		err = store.Writable()
	}
	if err == nil {
		if created {
			_ = level.Info(logger).Log("msg", "created the state folder", "dir", dir)
		}
		pruneOnce(logger, store)
		return store
	}
	if _, dup := stateWarned.LoadOrStore(dir, true); !dup {
		_ = level.Warn(logger).Log("msg", "state folder unusable: "+msg, "dir", dir, "err", err)
	}
	return nil
}

// makeStateDir creates the state folder, mode 0700 (positions name the
// logs read), when it is missing and its parent exists. The parent is not
// made: a mistyped path should be warned about, not grow a tree.
func makeStateDir(dir string) (created bool, err error) {
	err = os.Mkdir(dir, 0o700)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	return err == nil, err
}

// Update sends the counters; an unreadable log makes it fail (after
// sending the rest). An unreadable log's counters are left out, not served
// at what it last read (or 0): so is every series it feeds with other
// logs, whose sum would otherwise drop or look quiet.
func (c *logsCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	if len(c.sources) == 0 {
		return ErrNoData
	}
	families := map[string]*ruleFamily{}
	withheld := map[string]bool{}
	var broken []string
	for _, s := range c.sources {
		snap := s.snapshot()
		name := s.cfg.Name()
		if snap.err != "" {
			broken = append(broken, name+": "+snap.err)
			for _, series := range snap.series {
				withheld[seriesKey(series, name)] = true
			}
			continue
		}
		if !snap.seen {
			continue // absent so far: quiet
		}
		sendCounter(ch, logReadBytesDesc, float64(snap.bytes), name)
		sendCounter(ch, logLinesDesc, float64(snap.lines), name)
		sendCounter(ch, logTruncatedDesc, float64(snap.truncated), name)
		if s.store != nil {
			sendCounter(ch, logSaveFailuresDesc, float64(snap.saveFailures), name)
			sendGauge(ch, logHeldBackDesc, float64(snap.heldBack), name)
		}
		if !snap.lastRead.IsZero() {
			sendGauge(ch, logLastReadDesc, float64(snap.lastRead.UnixNano())/1e9, name)
		}
		for i, series := range snap.series {
			familyOf(families, series).add(series, name, snap.counts[i])
		}
	}
	for _, name := range sortedFamilyNames(families) {
		families[name].emit(ch, withheld)
	}
	if len(broken) > 0 {
		return fmt.Errorf("logs unreadable: %s", strings.Join(broken, "; "))
	}
	return nil
}

// Close stops the tailers this collector still owns and saves positions.
func (c *logsCollector) Close() {
	c.mu.Lock()
	owned := c.owned
	c.owned = nil
	c.mu.Unlock()
	for _, s := range c.sources {
		if owned[s] {
			s.stop()
			s.closeFiles()
		}
	}
}

// ruleFamily sums the series of one counter across logs (the host-wide
// counters have no log label, so two logs feed the same series).
type ruleFamily struct {
	counter string
	desc    *prometheus.Desc
	names   []string
	values  map[string]float64
	labels  map[string][]string
}

func familyOf(families map[string]*ruleFamily, s logrules.Series) *ruleFamily {
	if f, ok := families[s.Counter]; ok {
		return f
	}
	var names []string
	for _, l := range s.Labels {
		names = append(names, l.Name)
	}
	if logrules.PerLog(s.Counter) {
		names = append(names, "log")
	}
	help, ok := counterHelp[s.Counter]
	if !ok {
		help = "Log lines matching the operator's rules for this counter."
	}
	f := &ruleFamily{counter: s.Counter, desc: prometheus.NewDesc(s.Counter, help, names, nil), names: names,
		values: map[string]float64{}, labels: map[string][]string{}}
	families[s.Counter] = f
	return f
}

// seriesValues are a series' label values as served for logName.
func seriesValues(s logrules.Series, logName string) []string {
	var values []string
	for _, l := range s.Labels {
		values = append(values, l.Value)
	}
	if logrules.PerLog(s.Counter) {
		values = append(values, logName)
	}
	return values
}

// seriesKey names one served series across all logs.
func seriesKey(s logrules.Series, logName string) string {
	return s.Counter + "\xfe" + strings.Join(seriesValues(s, logName), "\xff")
}

func (f *ruleFamily) add(s logrules.Series, logName string, v uint64) {
	values := seriesValues(s, logName)
	if len(values) != len(f.names) {
		return // config validation keeps label names equal per counter
	}
	key := strings.Join(values, "\xff")
	f.values[key] += float64(v)
	f.labels[key] = values
}

// emit sends the family's series but those an unreadable log feeds.
func (f *ruleFamily) emit(ch chan<- prometheus.Metric, withheld map[string]bool) {
	keys := make([]string, 0, len(f.values))
	for k := range f.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if withheld[f.counter+"\xfe"+k] {
			continue
		}
		sendCounter(ch, f.desc, f.values[k], f.labels[k]...)
	}
}

func sortedFamilyNames(m map[string]*ruleFamily) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// keep returns what the new collector does with the predecessor's source
// for lc: the very source when its config is the same (shared with the
// predecessor until TakeOver moves it), else a new source that takes the
// predecessor's files, positions and counters over in TakeOver; with no
// predecessor source, a new source started at once.
func (c *logsCollector) keep(prev *logsCollector, logger log.Logger, root string, lc config.LogConfig, store *tail.StateStore) (*logSource, error) {
	old := prev.source(root + "\x00" + lc.Name())
	if old != nil && reflect.DeepEqual(old.cfg, lc) && reflect.DeepEqual(old.store, store) {
		return old, nil
	}
	src, err := newLogSource(logger, root, lc, store)
	if err != nil {
		return nil, err
	}
	if old != nil {
		src.pred = old
		return src, nil
	}
	c.own(src)
	src.catchUp()
	src.start()
	return src, nil
}

// source returns the collector's source for key, nil when none (or no
// collector).
func (c *logsCollector) source(key string) *logSource {
	if c == nil {
		return nil
	}
	for _, s := range c.sources {
		if s.key == key {
			return s
		}
	}
	return nil
}

// own makes c the collector whose Close stops s.
func (c *logsCollector) own(s *logSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owned == nil {
		c.owned = map[*logSource]bool{}
	}
	c.owned[s] = true
}

// disown takes s away from c: c's Close leaves it running.
func (c *logsCollector) disown(s *logSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.owned, s)
}

// TakeOver moves the predecessor's sources: an unchanged one is only
// re-owned; a changed one's predecessor is stopped (its last counts stay
// served by the old set until the swap) and hands its files, positions
// and counters to the new source, which starts.
func (c *logsCollector) TakeOver() {
	prev := c.prev
	c.prev = nil
	if prev == nil {
		return
	}
	for _, s := range c.sources {
		switch {
		case s.pred != nil:
			pred := s.pred
			s.pred = nil
			prev.disown(pred)
			pred.stop()
			s.inherit(pred)
			c.own(s)
			s.catchUp()
			s.start()
		case prev.source(s.key) == s:
			prev.disown(s)
			c.own(s)
		}
	}
}

// inherit takes over a stopped predecessor's files, positions and
// counters: a reload that keeps the log neither re-reads a line nor
// lowers a counter (a series no rule produces any more is dropped).
func (s *logSource) inherit(pred *logSource) {
	s.followers, pred.followers = pred.followers, map[string]*tail.Follower{}
	s.journal, pred.journal = pred.journal, nil
	series := pred.engine.Series()
	pred.mu.Lock()
	defer pred.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, v := range pred.published {
		if v == 0 || id >= len(series) {
			continue
		}
		if nid, ok := s.engine.Adopt(series[id]); ok {
			for nid >= len(s.published) {
				s.published = append(s.published, 0)
			}
			s.published[nid] += v
		}
	}
	s.stats, s.lastRead, s.seen, s.err = pred.stats, pred.lastRead, pred.seen, pred.err
	s.stats.delta = logrules.Delta{}
	s.inheritHeldBack(pred, series)
}

// inheritHeldBack takes over what the predecessor read but could not
// publish (its positions could not be saved): the files move on with
// their positions past those lines, so dropping the counts would lose
// them.
func (s *logSource) inheritHeldBack(pred *logSource, series []logrules.Series) {
	for id, v := range pred.pending.delta.Counts {
		if v == 0 || id >= len(series) {
			continue
		}
		if nid, ok := s.engine.Adopt(series[id]); ok {
			for nid >= len(s.pending.delta.Counts) {
				s.pending.delta.Counts = append(s.pending.delta.Counts, 0)
			}
			s.pending.delta.Counts[nid] += v
		}
	}
	s.pending.bytes += pred.pending.bytes
	s.pending.lines += pred.pending.lines
	s.pending.truncated += pred.pending.truncated
	pred.pending = pendingCounts{}
	s.saveFailures, s.heldBack, s.saveErr = pred.saveFailures, pred.heldBack, pred.saveErr
}

// logSource tails the files of one configured path or glob.
type logSource struct {
	key    string
	root   string
	cfg    config.LogConfig
	store  *tail.StateStore
	engine *logrules.Engine
	logger log.Logger
	// pred is, until TakeOver, the predecessor's source of the same log
	// whose config changed: this one takes its files and counters over.
	pred *logSource

	followers map[string]*tail.Follower // by file path on disk; touched by the loop only
	journal   *journal.Follower         // a journal source's; touched by the loop only
	pending   pendingCounts             // counted, not yet published
	lastSave  time.Time
	backlog   bool // catchUp stopped at the per-poll cap

	quit chan struct{}
	done chan struct{}

	mu        sync.Mutex // guards what a scrape reads
	published []uint64   // by engine series id
	stats     pendingCounts
	lastRead  time.Time
	seen      bool
	err       errorLog
	// saveFailures counts failed saves; heldBack is what pending held
	// at the last one (0 once a save succeeds); saveErr is the last
	// failure's message, logged when it changes.
	saveFailures uint64
	heldBack     uint64
	saveErr      errorLog
}

type pendingCounts struct {
	bytes, lines, truncated uint64
	delta                   logrules.Delta
}

func newLogSource(logger log.Logger, root string, lc config.LogConfig, store *tail.StateStore) (*logSource, error) {
	rules, err := lc.RuleSet()
	if err != nil {
		return nil, err
	}
	engine, err := logrules.Compile(rules)
	if err != nil {
		return nil, err
	}
	return &logSource{key: root + "\x00" + lc.Name(), root: root, cfg: lc, store: store, engine: engine,
		logger: logger, followers: map[string]*tail.Follower{}}, nil
}

func (s *logSource) start() {
	s.quit, s.done = make(chan struct{}), make(chan struct{})
	go s.loop(s.quit, s.done, s.backlog)
}

// stop ends the loop and saves the positions of what was counted.
func (s *logSource) stop() {
	if s.quit == nil {
		return
	}
	close(s.quit)
	<-s.done
	s.quit = nil
	s.commit(true)
}

func (s *logSource) closeFiles() {
	for _, f := range s.followers {
		f.Close()
	}
	if s.journal != nil {
		s.journal.Close()
	}
}

// loop polls at each tick; a backlog (a poll stopped at its cap) is read
// round after round without waiting for the tick, and published as soon
// as it is read, not at the next save: a backlog goes at engine speed.
func (s *logSource) loop(quit, done chan struct{}, backlog bool) {
	defer close(done)
	ticker := time.NewTicker(s.cfg.PollInterval)
	defer ticker.Stop()
	for {
		if !backlog {
			select {
			case <-quit:
				return
			case <-ticker.C:
			}
			backlog = s.round()
		}
		if backlog && !s.drain(quit) {
			return
		}
		s.commit(backlog)
		backlog = false
	}
}

// drain reads round after round, committing as it goes (saves debounced),
// until caught up, with every CPU (procs.Busy): the rules engine matches
// a backlog's blocks on two at once. False when told to quit.
func (s *logSource) drain(quit chan struct{}) bool {
	defer procs.Busy()()
	for {
		s.commit(false)
		select {
		case <-quit:
			return false
		default:
		}
		if !s.round() {
			return true
		}
	}
}

// catchUp reads what is there before the collector is first scraped, so
// that the first scrape already serves it (and the demo is deterministic).
// One round only (up to 64 MiB a file): a big backlog must not hold up
// the start or a reload; the background loop reads the rest at once.
//
// When more is waiting, the positions are not saved here: the loop saves
// them within a second or once caught up, so the rest of the backlog does
// not wait for an fsync (3 to 30 ms on this machine's disk).
func (s *logSource) catchUp() {
	release := procs.Busy()
	s.backlog = s.round()
	release()
	if s.backlog {
		s.lastSave = time.Now()
	}
	s.commit(!s.backlog)
}

// round polls every file once; it says whether any stopped at the
// per-poll cap with more to read.
func (s *logSource) round() (more bool) {
	if s.cfg.Journal != nil {
		return s.roundJournal()
	}
	var errs []string
	for _, path := range s.files() {
		f := s.followers[path]
		if f == nil {
			f = tail.New(path, s.tailOptions(), s.savedState(path))
			s.followers[path] = f
		}
		n, err := f.PollBlocks(s.countBlock)
		s.pending.bytes += uint64(n)
		if err != nil {
			errs = append(errs, err.Error())
		}
		if n >= logsMaxBytesPerPoll {
			more = true
		}
		if _, ok := f.State(); ok {
			s.markSeen()
		}
		if !f.IsOpen() && path != s.plainPath() {
			delete(s.followers, path) // a glob match gone for good
		}
	}
	s.setErr(strings.Join(errs, "; "))
	return more
}

// roundJournal hands over what journalctl wrote since the last round; a
// full queue means more is waiting.
func (s *logSource) roundJournal() (more bool) {
	if s.journal == nil {
		s.journal = journal.New(journal.Options{
			Directory:    s.journalDir(),
			Root:         s.root,
			Matches:      s.cfg.Journal.Matches,
			MaxLineBytes: int(s.cfg.MaxLineBytes),
			StartAtEnd:   s.cfg.StartAt != config.LogStartAtBeginning,
		}, s.savedCursor())
	}
	before := s.pending.lines
	n, err := s.journal.Poll(s.countLine)
	s.pending.bytes += uint64(n)
	msg := ""
	if err != nil {
		msg = err.Error()
	} else {
		s.markSeen()
	}
	s.setErr(msg)
	return s.pending.lines-before >= journal.QueueLen
}

func (s *logSource) journalDir() string {
	if s.cfg.Journal.Directory == "" {
		return ""
	}
	return filepath.Join(s.root, s.cfg.Journal.Directory)
}

// journalStateKey names a journal source's saved cursor.
func (s *logSource) journalStateKey() string { return "journal\x00" + s.key }

func (s *logSource) savedCursor() string {
	if st := s.savedState(s.journalStateKey()); st != nil {
		return st.Cursor
	}
	return ""
}

// countBlock counts a block of lines (see tail.BlockFunc) at once.
func (s *logSource) countBlock(block []byte, truncated bool) {
	if truncated {
		s.countLine(block, true)
		return
	}
	s.pending.lines += uint64(s.engine.MatchBlock(block, &s.pending.delta))
}

func (s *logSource) countLine(line []byte, truncated bool) {
	s.pending.lines++
	if truncated {
		s.pending.truncated++
	}
	s.engine.Match(line, &s.pending.delta)
}

func (s *logSource) tailOptions() tail.Options {
	return tail.Options{MaxLineBytes: int(s.cfg.MaxLineBytes), StartAtEnd: s.cfg.StartAt != config.LogStartAtBeginning,
		MaxBytesPerPoll: logsMaxBytesPerPoll, RotateGrace: s.cfg.RotateGrace}
}

func (s *logSource) savedState(path string) *tail.State {
	if s.store == nil {
		return nil
	}
	st, err := s.store.Load(path)
	if err != nil {
		_ = level.Warn(s.logger).Log("msg", "saved log position unreadable; starting afresh", "file", path, "err", err)
		return nil
	}
	return st
}

// plainPath is the file of a configured path without glob characters, or "".
func (s *logSource) plainPath() string {
	if strings.ContainsAny(s.cfg.Path, "*?[") {
		return ""
	}
	return filepath.Join(s.root, s.cfg.Path)
}

// files lists the files of the configured path: the path itself, or the
// glob's current matches, plus the files already followed (a rotated-away
// glob match is read to its end).
func (s *logSource) files() []string {
	pattern := filepath.Join(s.root, s.cfg.Path)
	set := map[string]bool{}
	for p := range s.followers {
		set[p] = true
	}
	if plain := s.plainPath(); plain != "" {
		set[plain] = true
	} else {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() && !tail.IsCompressed(m) {
				set[m] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// commit publishes what was counted, after saving the positions past it:
// a count becomes visible only once its lines are durably behind the
// saved position, so a crash can re-read unpublished lines but never
// publish a line twice. Saves are debounced to one a second unless forced.
func (s *logSource) commit(force bool) {
	if s.pending.bytes == 0 && s.pending.lines == 0 {
		return
	}
	if s.store != nil {
		if !force && time.Since(s.lastSave) < saveEvery {
			return
		}
		s.lastSave = time.Now()
		if err := s.saveStates(); err != nil {
			s.holdBack(err)
			return
		}
	}
	s.mu.Lock()
	if _, recovered := s.saveErr.ObserveText(""); recovered {
		_ = level.Info(s.logger).Log("msg", "log positions saved again; the lines held back are published", "log", s.cfg.Name(), "lines", s.pending.lines)
	}
	s.heldBack = 0
	for id, v := range s.pending.delta.Counts {
		for id >= len(s.published) {
			s.published = append(s.published, 0)
		}
		s.published[id] += v
	}
	s.stats.bytes += s.pending.bytes
	s.stats.lines += s.pending.lines
	s.stats.truncated += s.pending.truncated
	s.lastRead = time.Now()
	s.mu.Unlock()
	s.pending.bytes, s.pending.lines, s.pending.truncated = 0, 0, 0
	s.pending.delta.Reset()
}

// holdBack keeps what was counted unpublished after a failed save: its
// lines are behind no saved position, so a crash would read them again;
// they are published with the next save that succeeds.
func (s *logSource) holdBack(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saveFailures++
	s.heldBack = s.pending.lines
	if report, _ := s.saveErr.Observe(err); report {
		_ = level.Error(s.logger).Log("msg", "cannot save log positions: what is read is held back (not published) until a save succeeds, so that nothing is counted twice after a crash", "log", s.cfg.Name(), "err", err.Error())
	}
}

// saveStates saves every position of the source, stopping at the first
// failure.
func (s *logSource) saveStates() error {
	if s.journal != nil && s.journal.Cursor() != "" {
		st := tail.State{Path: s.journalStateKey(), Cursor: s.journal.Cursor()}
		if err := s.store.Save(st); err != nil {
			return fmt.Errorf("journal cursor: %w", err)
		}
	}
	for _, f := range s.followers {
		st, ok := f.State()
		if !ok {
			continue
		}
		if err := s.store.Save(st); err != nil {
			return err
		}
	}
	return nil
}

func (s *logSource) markSeen() {
	s.mu.Lock()
	s.seen = true
	s.mu.Unlock()
}

func (s *logSource) setErr(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if report, _ := s.err.ObserveText(msg); report {
		_ = level.Error(s.logger).Log("msg", "log unreadable", "log", s.cfg.Name(), "err", msg)
	}
}

type sourceSnapshot struct {
	bytes, lines, truncated uint64
	saveFailures, heldBack  uint64
	lastRead                time.Time
	seen                    bool
	err                     string
	series                  []logrules.Series
	counts                  []uint64
}

func (s *logSource) snapshot() sourceSnapshot {
	series := s.engine.Series()
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := make([]uint64, len(series))
	copy(counts, s.published)
	return sourceSnapshot{bytes: s.stats.bytes, lines: s.stats.lines, truncated: s.stats.truncated,
		saveFailures: s.saveFailures, heldBack: s.heldBack, lastRead: s.lastRead, seen: s.seen, err: s.err.Text(), series: series, counts: counts}
}
