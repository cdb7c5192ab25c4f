// Package remotewrite encodes the Prometheus remote-write 1.0 request
// (prometheus.WriteRequest: time series of labels and samples) with no
// dependency on the Prometheus server's own generated types, which would
// pull the whole server module in. Only the fields a push needs are here:
// labels and float samples; no exemplars, histograms or metadata.
//
// client_golang's exp/api/remote sends the request: WriteRequest
// implements the SizeVT/MarshalToSizedBufferVT pair it looks for.
package remotewrite

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// StaleNaN is the value Prometheus reads as "this series has ended"
// (a staleness marker), sent once on a clean shutdown.
var StaleNaN = math.Float64frombits(0x7ff0000000000002)

// Label is one name="value" pair; a series' labels are sorted by name and
// include __name__.
type Label struct {
	Name, Value string
}

// Sample is one value at a time in milliseconds since the epoch.
type Sample struct {
	Value       float64
	TimestampMs int64
}

// TimeSeries is one series and its samples.
type TimeSeries struct {
	Labels  []Label
	Samples []Sample
}

// WriteRequest is prometheus.WriteRequest (field 1: repeated TimeSeries).
type WriteRequest struct {
	Timeseries []TimeSeries
}

// Field numbers of remote-write 1.0 (prompb/remote.proto, types.proto).
const (
	fieldRequestTimeseries = 1
	fieldSeriesLabels      = 1
	fieldSeriesSamples     = 2
	fieldLabelName         = 1
	fieldLabelValue        = 2
	fieldSampleValue       = 1
	fieldSampleTimestamp   = 2
)

func labelSize(l Label) int {
	return protowire.SizeTag(fieldLabelName) + protowire.SizeBytes(len(l.Name)) +
		protowire.SizeTag(fieldLabelValue) + protowire.SizeBytes(len(l.Value))
}

func sampleSize(s Sample) int {
	return protowire.SizeTag(fieldSampleValue) + protowire.SizeFixed64() +
		protowire.SizeTag(fieldSampleTimestamp) + protowire.SizeVarint(uint64(s.TimestampMs))
}

func seriesSize(ts TimeSeries) int {
	n := 0
	for _, l := range ts.Labels {
		n += protowire.SizeTag(fieldSeriesLabels) + protowire.SizeBytes(labelSize(l))
	}
	for _, s := range ts.Samples {
		n += protowire.SizeTag(fieldSeriesSamples) + protowire.SizeBytes(sampleSize(s))
	}
	return n
}

// SizeVT is the length of the encoded request.
func (r *WriteRequest) SizeVT() int {
	n := 0
	for _, ts := range r.Timeseries {
		n += protowire.SizeTag(fieldRequestTimeseries) + protowire.SizeBytes(seriesSize(ts))
	}
	return n
}

// Marshal encodes the request.
func (r *WriteRequest) Marshal() []byte {
	b := make([]byte, 0, r.SizeVT())
	for _, ts := range r.Timeseries {
		b = protowire.AppendTag(b, fieldRequestTimeseries, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(seriesSize(ts)))
		b = appendSeries(b, ts)
	}
	return b
}

// MarshalToSizedBufferVT encodes the request into buf, which must be
// exactly SizeVT() long, as client_golang's remote API calls it.
func (r *WriteRequest) MarshalToSizedBufferVT(buf []byte) (int, error) {
	b := r.Marshal()
	if len(b) != len(buf) {
		return 0, fmt.Errorf("remotewrite: buffer of %d bytes for a %d-byte request", len(buf), len(b))
	}
	return copy(buf, b), nil
}

func appendSeries(b []byte, ts TimeSeries) []byte {
	for _, l := range ts.Labels {
		b = protowire.AppendTag(b, fieldSeriesLabels, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(labelSize(l)))
		b = protowire.AppendTag(b, fieldLabelName, protowire.BytesType)
		b = protowire.AppendString(b, l.Name)
		b = protowire.AppendTag(b, fieldLabelValue, protowire.BytesType)
		b = protowire.AppendString(b, l.Value)
	}
	for _, s := range ts.Samples {
		b = protowire.AppendTag(b, fieldSeriesSamples, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sampleSize(s)))
		b = protowire.AppendTag(b, fieldSampleValue, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(s.Value))
		b = protowire.AppendTag(b, fieldSampleTimestamp, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(s.TimestampMs))
	}
	return b
}

var errTruncated = errors.New("remotewrite: truncated or malformed field")

// Unmarshal decodes a request (what a receiver does), skipping fields this
// package does not model; tests and the fuzz target use it.
func Unmarshal(b []byte) (*WriteRequest, error) {
	r := &WriteRequest{}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != fieldRequestTimeseries || typ != protowire.BytesType {
			return nil
		}
		ts, err := unmarshalSeries(v)
		r.Timeseries = append(r.Timeseries, ts)
		return err
	})
	return r, err
}

func unmarshalSeries(b []byte) (TimeSeries, error) {
	var ts TimeSeries
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == fieldSeriesLabels && typ == protowire.BytesType:
			l, err := unmarshalLabel(v)
			ts.Labels = append(ts.Labels, l)
			return err
		case num == fieldSeriesSamples && typ == protowire.BytesType:
			s, err := unmarshalSample(v)
			ts.Samples = append(ts.Samples, s)
			return err
		}
		return nil
	})
	return ts, err
}

func unmarshalLabel(b []byte) (Label, error) {
	var l Label
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldLabelName:
			l.Name = string(v)
		case fieldLabelValue:
			l.Value = string(v)
		}
		return nil
	})
	return l, err
}

func unmarshalSample(b []byte) (Sample, error) {
	var s Sample
	err := eachField(b, func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) error {
		switch {
		case num == fieldSampleValue && typ == protowire.Fixed64Type:
			s.Value = math.Float64frombits(n)
		case num == fieldSampleTimestamp && typ == protowire.VarintType:
			s.TimestampMs = int64(n)
		}
		return nil
	})
	return s, err
}

// eachField walks the fields of one message: bytes fields come as v,
// varint and fixed ones as n.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, tagLen := protowire.ConsumeTag(b)
		if tagLen < 0 {
			return errTruncated
		}
		b = b[tagLen:]
		var (
			v    []byte
			n    uint64
			size int
		)
		switch typ {
		case protowire.BytesType:
			v, size = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			n, size = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			n, size = protowire.ConsumeFixed64(b)
		default:
			size = protowire.ConsumeFieldValue(num, typ, b)
		}
		if size < 0 {
			return errTruncated
		}
		b = b[size:]
		if err := fn(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}
