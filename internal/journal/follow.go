package journal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Options say which journal to follow and how.
type Options struct {
	Journalctl   string   // the program; "" = journalctl from PATH
	Directory    string   // --directory (journal files of another machine, a container); "" = the system journal
	Root         string   // --root, when Directory is "" and the host is seen under a root ("" or "/" = none)
	Matches      []string // journalctl's FIELD=VALUE matches and "+" (OR)
	MaxLineBytes int      // longer lines are cut and handed over as truncated (default 64 KiB)
	StartAtEnd   bool     // with no cursor: only entries written from now on
	// RetryAfter is how long after journalctl ended it is started again
	// (default 10s): a journal that cannot be read must not fork a
	// journalctl each poll.
	RetryAfter time.Duration
}

// QueueLen bounds the entries read ahead of Poll: journalctl waits when
// the queue is full.
const QueueLen = 4096

// maxJSONLine bounds one line of journalctl's output kept in memory.
const maxJSONLine = 4 << 20

// Follower runs journalctl and hands its entries over at each Poll. Not
// safe for concurrent use, except Close.
type Follower struct {
	opts   Options
	cursor string // of the last entry handed over

	run     *process // nil: not running
	line    []byte
	retryAt time.Time // after a failed run: not started again before
	lastErr error
}

type process struct {
	cmd     *exec.Cmd
	entries chan []byte // raw JSON lines; closed when journalctl's output ends
	stderr  *limitedBuffer
	done    chan struct{}
	waitErr error
}

// New follows the journal after cursor ("" = none saved: from the end or
// the beginning, as opts say).
func New(opts Options, cursor string) *Follower {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = 64 << 10
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 10 * time.Second
	}
	return &Follower{opts: opts, cursor: cursor}
}

// Cursor is the cursor of the last entry handed over ("" before the first).
func (f *Follower) Cursor() string { return f.cursor }

// Args are journalctl's arguments for the next start.
func (f *Follower) Args() []string {
	args := []string{"--output=json", "--follow", "--no-pager", "--all", "--quiet",
		"--output-fields=MESSAGE,SYSLOG_IDENTIFIER,_COMM,SYSLOG_PID,_PID,_HOSTNAME"}
	switch {
	case f.opts.Directory != "":
		args = append(args, "--directory="+f.opts.Directory)
	case f.opts.Root != "" && f.opts.Root != "/":
		args = append(args, "--root="+f.opts.Root)
	}
	switch {
	case f.cursor != "":
		args = append(args, "--after-cursor="+f.cursor, "--lines=all")
	case f.opts.StartAtEnd:
		args = append(args, "--lines=0")
	default:
		args = append(args, "--lines=all")
	}
	return append(args, f.opts.Matches...)
}

// Poll hands each entry read since the last call to fn as a line and
// returns how many bytes of journalctl's output they took. journalctl is
// started when it is not running; when it has ended, Poll returns its
// error (again until RetryAfter has passed) and then starts it again,
// after the last cursor.
func (f *Follower) Poll(fn func(line []byte, truncated bool)) (int, error) {
	if f.run == nil {
		if time.Now().Before(f.retryAt) {
			return 0, f.lastErr
		}
		if err := f.start(); err != nil {
			f.failed(err)
			return 0, err
		}
	}
	n := 0
	for {
		select {
		case raw, ok := <-f.run.entries:
			if !ok {
				err := f.ended()
				f.failed(err)
				return n, err
			}
			n += len(raw) + 1
			f.hand(raw, fn)
		default:
			return n, nil
		}
	}
}

func (f *Follower) hand(raw []byte, fn func([]byte, bool)) {
	if len(raw) > maxJSONLine { // cut by the reader: no cursor to resume after
		fn(nil, true)
		return
	}
	e, err := ParseEntry(raw)
	if err != nil {
		return // not an entry (journalctl prints nothing else with --quiet)
	}
	f.line = e.AppendLine(f.line[:0])
	truncated := len(f.line) > f.opts.MaxLineBytes
	if truncated {
		f.line = f.line[:f.opts.MaxLineBytes]
	}
	fn(f.line, truncated)
	f.cursor = e.Cursor
}

func (f *Follower) start() error {
	prog := f.opts.Journalctl
	if prog == "" {
		prog = "journalctl"
	}
	cmd := exec.Command(prog, f.Args()...)
	dieWithParent(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	p := &process{cmd: cmd, entries: make(chan []byte, QueueLen), stderr: &limitedBuffer{max: 4096}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	go p.read(stdout)
	f.run = p
	return nil
}

// read sends each output line (cut at maxJSONLine+1 bytes) until the
// output ends, then waits for the process.
func (p *process) read(stdout io.Reader) {
	defer close(p.done)
	r := bufio.NewReaderSize(stdout, 64<<10)
	for {
		line, err := readLine(r)
		if len(line) > 0 {
			p.entries <- line
		}
		if err != nil {
			break
		}
	}
	close(p.entries)
	p.waitErr = p.cmd.Wait()
}

// readLine reads one line without its newline, keeping at most
// maxJSONLine+1 bytes of it (the rest is skipped).
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line) <= maxJSONLine {
			keep := min(len(chunk), maxJSONLine+1-len(line))
			line = append(line, chunk[:keep]...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return bytes.TrimSuffix(line, []byte("\n")), err
		}
	}
}

func (f *Follower) failed(err error) {
	f.lastErr, f.retryAt = err, time.Now().Add(f.opts.RetryAfter)
}

// ended collects the end of journalctl's run as an error.
func (f *Follower) ended() error {
	p := f.run
	f.run = nil
	<-p.done
	msg := strings.TrimSpace(p.stderr.String())
	switch {
	case p.waitErr != nil && msg != "":
		return fmt.Errorf("journalctl %v: %s", p.waitErr, msg)
	case p.waitErr != nil:
		return fmt.Errorf("journalctl: %w", p.waitErr)
	case msg != "":
		return fmt.Errorf("journalctl ended: %s", msg)
	}
	return errors.New("journalctl ended")
}

// Close stops journalctl.
func (f *Follower) Close() {
	p := f.run
	if p == nil {
		return
	}
	f.run = nil
	_ = p.cmd.Process.Kill()
	go func() { // let the reader finish: it may be blocked on a full queue
		for range p.entries {
		}
	}()
	<-p.done
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
