package snfxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// appendedFile is n copies of the seed sample, each a minute apart, as
// SNF appends them.
func appendedFile(tb testing.TB, n int) []byte {
	seed, err := os.ReadFile("testdata/seed_sample.xml")
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("<?xml version='1.0' encoding='UTF-8'?>\n")
	for i := range n {
		b.WriteString(strings.Replace(string(seed), "basetime='20080602033557'",
			fmt.Sprintf("basetime='2008%02d%02d%02d%02d00'", 6+i/44640, 1+i/1440%31, i/60%24, i%60), 1))
	}
	return b.Bytes()
}

// BenchmarkDecode: parse throughput of appended snapshots (MB/s, and
// allocations per snapshot via allocs/op / snapshots).
func BenchmarkDecode(b *testing.B) {
	data := appendedFile(b, 1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(data), 0)
		n := 0
		for {
			_, err := d.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 1000 {
			b.Fatalf("%d snapshots", n)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "snapshots/s")
}
