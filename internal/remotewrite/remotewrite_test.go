package remotewrite

import (
	"encoding/hex"
	"math"
	"reflect"
	"testing"
)

func sampleRequest() *WriteRequest {
	return &WriteRequest{Timeseries: []TimeSeries{
		{
			Labels:  []Label{{"__name__", "up"}, {"job", "j"}},
			Samples: []Sample{{Value: 1, TimestampMs: 1700000000000}},
		},
		{
			Labels:  []Label{{"__name__", "heartbeat_load1"}, {"instance", "gw-1"}},
			Samples: []Sample{{Value: -0.5, TimestampMs: 0}, {Value: math.Inf(1), TimestampMs: -1}},
		},
	}}
}

// The bytes of a one-sample request, worked out by hand from the
// remote-write 1.0 schema, so the encoding is checked against the wire
// format and not only against our own decoder.
func TestMarshalKnownBytes(t *testing.T) {
	r := &WriteRequest{Timeseries: []TimeSeries{{
		Labels:  []Label{{"__name__", "up"}},
		Samples: []Sample{{Value: 1, TimestampMs: 2}},
	}}}
	want := "0a1d" + // timeseries, 29 bytes
		"0a0e" + "0a085f5f6e616d655f5f" + "12027570" + // label __name__="up"
		"120b" + "09000000000000f03f" + "1002" // sample 1.0 @ 2, 11 bytes
	if got := hex.EncodeToString(r.Marshal()); got != want {
		t.Fatalf("encoded\n %s\nwant\n %s", got, want)
	}
	if r.SizeVT() != len(want)/2 {
		t.Errorf("SizeVT = %d, want %d", r.SizeVT(), len(want)/2)
	}
}

func TestRoundTrip(t *testing.T) {
	r := sampleRequest()
	got, err := Unmarshal(r.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip changed the request:\n got %+v\nwant %+v", got, r)
	}
}

func TestMarshalToSizedBuffer(t *testing.T) {
	r := sampleRequest()
	buf := make([]byte, r.SizeVT())
	n, err := r.MarshalToSizedBufferVT(buf)
	if err != nil || n != len(buf) {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if _, err := r.MarshalToSizedBufferVT(make([]byte, 3)); err == nil {
		t.Error("a buffer of the wrong size was accepted")
	}
}

func TestStaleNaNIsTheMarker(t *testing.T) {
	if !math.IsNaN(StaleNaN) || math.Float64bits(StaleNaN) != 0x7ff0000000000002 {
		t.Errorf("StaleNaN bits %x", math.Float64bits(StaleNaN))
	}
}

func TestUnmarshalRefusesTruncation(t *testing.T) {
	b := sampleRequest().Marshal()
	if _, err := Unmarshal(b[:len(b)-3]); err == nil {
		t.Error("truncated request decoded without error")
	}
}

// FuzzUnmarshal: no input panics, and whatever decodes re-encodes to
// bytes that decode to the same request.
func FuzzUnmarshal(f *testing.F) {
	f.Add(sampleRequest().Marshal())
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Unmarshal(b)
		if err != nil {
			return
		}
		again, err := Unmarshal(r.Marshal())
		if err != nil {
			t.Fatalf("re-encoded request does not decode: %v", err)
		}
		if len(again.Timeseries) != len(r.Timeseries) {
			t.Fatalf("series count %d -> %d", len(r.Timeseries), len(again.Timeseries))
		}
	})
}
