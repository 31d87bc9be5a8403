package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/contactd/contactd/asr"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/sqlite"
)

// scrape fetches the handler's text output and parses it.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse the exposition: %v\n%s", err, body)
	}
	return fams
}

func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fs {
		out[f.GetName()] = f
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// find returns the series of family name with every label in want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		got := labels(m)
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func TestCallQueueAndGaugeSeries(t *testing.T) {
	m := New()
	active := 3
	m.GaugeFunc("contactd_calls_active", "Calls in progress.", func() float64 { return float64(active) })
	m.Queues(func() []QueueSize {
		return []QueueSize{{Name: "billing", Waiting: 2, LongestWait: 90 * time.Second}, {Name: "orders"}}
	})
	m.Invite(200)
	m.Invite(200)
	m.Invite(183)
	m.QueueWait("billing", 12*time.Second, true)
	m.QueueWait("billing", 200*time.Second, false)
	m.CallEnded(store.Call{AnsweredAt: time.Now(), IVROutcome: store.IVRTransferred, Quality: map[string]store.MediaQuality{
		"caller": {PacketsIn: 1000, LossPct: 2.5, JitterMS: 12, MOS: 4.1},
		"agent":  {PacketsIn: 0}, // nothing measured: skipped
	}})
	m.CallEnded(store.Call{IVROutcome: store.IVRContained})

	fams := scrape(t, m)
	if g := find(fams, "contactd_calls_active", nil); g == nil || g.GetGauge().GetValue() != 3 {
		t.Errorf("calls_active: %v", g)
	}
	if c := find(fams, "contactd_sip_invites_total", map[string]string{"code": "200"}); c == nil || c.GetCounter().GetValue() != 2 {
		t.Errorf("invites 200: %v", c)
	}
	if g := find(fams, "contactd_queue_waiting", map[string]string{"queue": "billing"}); g == nil || g.GetGauge().GetValue() != 2 {
		t.Errorf("queue_waiting: %v", g)
	}
	if g := find(fams, "contactd_queue_longest_wait_seconds", map[string]string{"queue": "billing"}); g == nil || g.GetGauge().GetValue() != 90 {
		t.Errorf("longest wait: %v", g)
	}
	h := find(fams, "contactd_queue_wait_seconds", map[string]string{"queue": "billing", "outcome": "answered"})
	if h == nil || h.GetHistogram().GetSampleCount() != 1 || h.GetHistogram().GetSampleSum() != 12 {
		t.Errorf("queue wait answered: %v", h)
	}
	for _, b := range h.GetHistogram().GetBucket() {
		if want := uint64(0); b.GetUpperBound() >= 20 {
			want = 1
			if b.GetCumulativeCount() != want {
				t.Errorf("bucket le=%g: %d", b.GetUpperBound(), b.GetCumulativeCount())
			}
		} else if b.GetUpperBound() < 10 && b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%g: %d", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
	if h := find(fams, "contactd_rtp_loss_ratio", map[string]string{"leg": "caller"}); h == nil || h.GetHistogram().GetSampleSum() != 0.025 {
		t.Errorf("rtp loss: %v", h)
	}
	if h := find(fams, "contactd_rtp_jitter_seconds", map[string]string{"leg": "caller"}); h == nil || h.GetHistogram().GetSampleSum() != 0.012 {
		t.Errorf("rtp jitter: %v", h)
	}
	if h := find(fams, "contactd_rtp_loss_ratio", map[string]string{"leg": "agent"}); h != nil {
		t.Errorf("an unmeasured leg was observed: %v", h)
	}
	if c := find(fams, "contactd_calls_ended_total", map[string]string{"answered": "false", "ivr_outcome": "contained"}); c == nil ||
		c.GetCounter().GetValue() != 1 {
		t.Errorf("calls ended: %v", c)
	}
	if fams["go_goroutines"] == nil || fams["process_open_fds"] == nil {
		t.Error("no runtime or process series")
	}
}

// TestStoreWrapperTimesEveryMethod calls every store.Store method through
// the wrapper (on a real SQLite store, with zero arguments) and checks
// each left a latency sample under its own name: a method added to the
// interface without regenerating store_gen.go fails here.
func TestStoreWrapperTimesEveryMethod(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := New()
	wrapped := m.Store(st)
	v := reflect.ValueOf(wrapped)
	it := reflect.TypeOf((*store.Store)(nil)).Elem()
	for i := 0; i < it.NumMethod(); i++ {
		name := it.Method(i).Name
		if name == "Close" {
			continue
		}
		fn := v.MethodByName(name)
		args := []reflect.Value{reflect.ValueOf(context.Background())}
		for j := 1; j < fn.Type().NumIn(); j++ {
			args = append(args, reflect.Zero(fn.Type().In(j)))
		}
		func() {
			defer func() { _ = recover() }()
			fn.Call(args)
		}()
		if h := find(gather(t, m), "contactd_db_operation_seconds", map[string]string{"op": name}); h.GetHistogram().GetSampleCount() != 1 {
			t.Errorf("%s: no latency sample (regenerate store_gen.go with go generate ./metrics)", name)
		}
	}
	// Failures count; answers like "not found" do not.
	_, _ = wrapped.Call(context.Background(), "absent")
	if n := testutil.ToFloat64(m.dbErrors.WithLabelValues("Call")); n != 0 {
		t.Errorf("not found counted as an error: %g", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := wrapped.CreateCall(ctx, store.Call{ID: "x"}); err == nil {
		t.Fatal("CreateCall with a cancelled context succeeded")
	}
	if n := testutil.ToFloat64(m.dbErrors.WithLabelValues("CreateCall")); n != 1 {
		t.Errorf("failed CreateCall counted %g times", n)
	}
}

// fakeASR emits a final result for each utterance a fixed delay after the
// audio of its end was written.
type fakeASR struct{ delay time.Duration }

func (f fakeASR) NewStream(ctx context.Context, _ asr.StreamOptions) (asr.Stream, error) {
	return &fakeStream{delay: f.delay, out: make(chan asr.Result, 4)}, nil
}
func (fakeASR) Recognize(context.Context, []int16) (asr.Result, error) { return asr.Result{}, nil }
func (fakeASR) Close() error                                           { return nil }

type fakeStream struct {
	delay   time.Duration
	out     chan asr.Result
	samples int
}

func (s *fakeStream) Write(pcm []int16) {
	s.samples += len(pcm)
	if s.samples == asr.SampleRate { // one second: the utterance ends here
		go func() {
			time.Sleep(s.delay)
			s.out <- asr.Result{Kind: asr.Final, Text: "where is my order", StartMS: 100, EndMS: 1000}
		}()
	}
}
func (s *fakeStream) Results() <-chan asr.Result { return s.out }
func (s *fakeStream) Close() error {
	go func() { time.Sleep(2 * s.delay); close(s.out) }()
	return nil
}

func TestASRLatency(t *testing.T) {
	m := New()
	rec := m.Recognizer(fakeASR{delay: 300 * time.Millisecond})
	s, err := rec.NewStream(context.Background(), asr.StreamOptions{Label: "call_1/caller"})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, asr.SampleRate/50)
	for range 60 { // 1.2 s of audio written at once
		s.Write(frame)
	}
	r := <-s.Results()
	if r.Kind != asr.Final || r.Text != "where is my order" {
		t.Fatalf("result passed through as %+v", r)
	}
	_ = s.Close()
	for range s.Results() {
	}
	fams := scrape(t, m)
	h := find(fams, "contactd_asr_final_latency_seconds", map[string]string{"channel": "caller"})
	if h == nil || h.GetHistogram().GetSampleCount() != 1 {
		t.Fatalf("asr latency: %v", h)
	}
	if got := h.GetHistogram().GetSampleSum(); got < 0.29 || got > 1 {
		t.Errorf("latency %.3f s, want about 0.3", got)
	}
}

// TestASRWrapperEndsWhenResultsAreAbandoned: a call that stops reading
// after Close (it gave up flushing) does not leave the wrapper's
// goroutine blocked.
func TestASRWrapperEndsWhenResultsAreAbandoned(t *testing.T) {
	old := abandonAfter
	abandonAfter = 20 * time.Millisecond
	defer func() { abandonAfter = old }()
	inner := &burstStream{out: make(chan asr.Result)}
	s, _ := New().Recognizer(burstASR{inner}).NewStream(context.Background(), asr.StreamOptions{Label: "c/caller"})
	_ = s.Close()
	select {
	case <-s.(*stream).done:
	case <-time.After(5 * time.Second):
		t.Fatal("the forwarding goroutine is stuck")
	}
}

type burstASR struct{ s *burstStream }

func (b burstASR) NewStream(context.Context, asr.StreamOptions) (asr.Stream, error) { return b.s, nil }
func (burstASR) Recognize(context.Context, []int16) (asr.Result, error)             { return asr.Result{}, nil }
func (burstASR) Close() error                                                       { return nil }

// burstStream sends 100 results at Close, more than any buffer.
type burstStream struct{ out chan asr.Result }

func (b *burstStream) Write([]int16)              {}
func (b *burstStream) Results() <-chan asr.Result { return b.out }
func (b *burstStream) Close() error {
	go func() {
		for range 100 {
			b.out <- asr.Result{Kind: asr.Partial, Text: "x"}
		}
		close(b.out)
	}()
	return nil
}
