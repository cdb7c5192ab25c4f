package logrules

import (
	"bytes"
	"math/bits"
	"runtime"
	"sync"
)

// MatchBlock counts every line of block into d: lines end in '\n', the
// last one may lack it. Rather than every rule looking at every line, the
// block is searched once per anchor byte (see plan) for the literals of
// all the rules anchored on it, marking the lines where a rule's literal
// occurs; only marked lines are matched against that rule. The errors
// rule finds its lines with nextErrorWord, a rule for a line's end (clamd's
// FOUND) checks each line's end; only rules with none of these look at
// every line. Counts are what matching each line with every rule gives
// (within a rule lines are matched in order, the one thing a capture's
// "first come" values depend on). It returns the number of lines in block
// (a line ends at a '\n' or at the end of block).
func (e *Engine) MatchBlock(block []byte, d *Delta) (lines int) {
	if e.orderFree && len(block) >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		return e.matchHalves(block, d)
	}
	return e.matchSerial(block, d)
}

// parallelMin is the least block matched as two halves at once: a
// backlog, read up to 1 MiB at a time, uses two CPUs where it has them.
const parallelMin = 128 << 10

// matchHalves matches the two halves of block (cut at a line end) in two
// goroutines, the second into d's second Delta, and adds that into d.
// Only for an engine whose counts do not depend on the order of lines
// (orderFree): the halves' lines are matched in no known order.
func (e *Engine) matchHalves(block []byte, d *Delta) (lines int) {
	cut := len(block)
	if i := bytes.IndexByte(block[len(block)/2:], '\n'); i >= 0 {
		cut = len(block)/2 + i + 1
	}
	if d.second == nil {
		d.second = &Delta{}
	}
	var wg sync.WaitGroup
	var second int
	wg.Add(1)
	go func() {
		defer wg.Done()
		second = e.matchSerial(block[cut:], d.second)
	}()
	lines = e.matchSerial(block[:cut], d)
	wg.Wait()
	for id, v := range d.second.Counts {
		if v > 0 {
			d.addN(id, v)
		}
	}
	d.second.Reset()
	return lines + second
}

// matchSerial is MatchBlock on one goroutine.
func (e *Engine) matchSerial(block []byte, d *Delta) (lines int) {
	for len(block) > maxBlock { // bound the per-line memory a Delta keeps
		cut := bytes.LastIndexByte(block[:maxBlock], '\n') + 1
		if cut == 0 {
			cut = lineEnd(block, maxBlock) + 1
		}
		lines += e.matchBlock(block[:min(cut, len(block))], d)
		block = block[min(cut, len(block)):]
	}
	if len(block) > 0 {
		lines += e.matchBlock(block, d)
	}
	return lines
}

// maxBlock bounds the block matched at once, and so the line table and
// stops a Delta holds meanwhile: 8 bytes a line and a stop, so a hostile
// block (one line or one '[' a byte) costs at most 3 x 2 MiB a goroutine.
const maxBlock = 256 << 10

// maxKeptLines bounds the per-line memory a Delta keeps between blocks:
// a block of a log of empty lines has one line a byte.
const maxKeptLines = 16 << 10

func (e *Engine) matchBlock(block []byte, d *Delta) (lines int) {
	defer func() {
		if cap(d.ends) > maxKeptLines {
			d.ends, d.marks = nil, nil
		}
		if cap(d.stops) > maxKeptLines {
			d.stops = nil
		}
	}()
	p := e.planFor(block, d)
	d.ends = lineEnds(block, d.ends[:0])
	if len(p.sweeps) > 0 {
		d.marks = append(d.marks[:0], make([]uint64, len(d.ends))...)
		for i := range p.sweeps {
			sweep(block, &p.sweeps[i], d)
		}
		for li, m := range d.marks {
			for ; m != 0; m &= m - 1 {
				e.matchLine(p.marked[bits.TrailingZeros64(m)], d.line(block, li), d)
			}
		}
	}
	for _, c := range p.alone {
		e.matchAnchored(c, p.aloneAnchors[c], block, d)
	}
	for _, c := range e.suffixed {
		for li := range d.ends {
			if line := d.line(block, li); hasSuffix(line, c.rule.suffix) {
				e.matchLine(c, line, d)
			}
		}
	}
	for _, c := range e.nexted {
		for from := 0; from < len(block); {
			at := c.next(block, from)
			if at < 0 {
				break
			}
			end := lineEnd(block, at)
			e.matchLine(c, block[from+bytes.LastIndexByte(block[from:at], '\n')+1:end], d)
			from = end + 1
		}
	}
	for _, c := range e.everyLine {
		for li := range d.ends {
			e.matchLine(c, d.line(block, li), d)
		}
	}
	return len(d.ends)
}

// line is line li of block, without its '\n' (d.ends is block's).
func (d *Delta) line(block []byte, li int) []byte {
	start := 0
	if li > 0 {
		start = d.ends[li-1] + 1
	}
	return block[start:d.ends[li]]
}

// lineEnds appends the index of each line's end in block (its '\n', or
// len(block) for an unterminated last line) to ends.
func lineEnds(block []byte, ends []int) []int {
	ends = appendIndexes(block, '\n', ends)
	if len(block) > 0 && block[len(block)-1] != '\n' {
		ends = append(ends, len(block))
	}
	return ends
}

// appendIndexesGeneric is appendIndexes one IndexByte at a time.
func appendIndexesGeneric(b []byte, c byte, out []int) []int {
	for from := 0; ; {
		i := bytes.IndexByte(b[from:], c)
		if i < 0 {
			return out
		}
		out = append(out, from+i)
		from += i + 1
	}
}

// lineEnd is the index of the '\n' ending the line holding index p, or
// len(block) for an unterminated last line.
func lineEnd(block []byte, p int) int {
	if i := bytes.IndexByte(block[p:], '\n'); i >= 0 {
		return p + i
	}
	return len(block)
}

// nextFunc returns the index, at or after from (a line start), of the next
// place in block that every line a rule matches holds, or -1: the lines
// without one are not looked at.
type nextFunc func(block []byte, from int) int

// sweep finds each occurrence of s's byte in block (all at once, into
// d.stops) and marks, for each literal searched by that byte found there,
// its rule on the line.
func sweep(block []byte, s *byteSweep, d *Delta) {
	d.stops = appendIndexes(block, s.b, d.stops[:0])
	li := 0
	for _, p := range d.stops {
		var at []markLiteral
		if p > 0 {
			at = s.at[block[p-1]]
		}
		if len(at) == 0 && len(s.first) == 0 {
			continue
		}
		for d.ends[li] < p {
			li++
		}
		mark(block, p, li, at, d)
		mark(block, p, li, s.first, d)
	}
}

// mark marks line li for the rules of the literals of lits found with
// their search byte at p.
func mark(block []byte, p, li int, lits []markLiteral, d *Delta) {
	for i := range lits {
		if l := &lits[i]; d.marks[li]&l.bit == 0 && l.at(block, p-l.rare) {
			d.marks[li] |= l.bit
		}
	}
}

// matchAnchored matches c against each line of block holding one of
// anchor's literals, for a rule beyond the 64 a plan marks lines for.
// Each literal's next occurrence is remembered until passed, so a literal
// is searched for only once over the block.
func (e *Engine) matchAnchored(c *compiled, anchor []literal, block []byte, d *Delta) {
	var next [maxAnchorLiterals]int // -2: not searched yet, -1: none left
	for i := range anchor {
		next[i] = -2
	}
	for from := 0; from < len(block); {
		p := -1
		for i, lit := range anchor {
			if next[i] == -1 {
				continue
			}
			if next[i] < from {
				j := lit.in(block[from:])
				if j < 0 {
					next[i] = -1
					continue
				}
				next[i] = from + j
			}
			if p < 0 || next[i] < p {
				p = next[i]
			}
		}
		if p < 0 {
			return
		}
		end := lineEnd(block, p)
		e.matchLine(c, block[from+bytes.LastIndexByte(block[from:p], '\n')+1:end], d)
		from = end + 1
	}
}
