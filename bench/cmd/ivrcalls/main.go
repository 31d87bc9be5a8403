// Command ivrcalls places spoken calls at a running contactd and reports
// how many land in the queue their words ask for, and how long the IVR
// takes to answer (end of the caller's speech to the next prompt
// starting). bench/ivr-spoken.sh runs it; see bench/README.md.
//
//	ivrcalls -sip 127.0.0.1:5060 -http http://127.0.0.1:8080 -token T -list calls.tsv
//
// calls.tsv lines: path.wav<TAB>intent; the intent's queue comes from
// the config (-config, default the built-in demo config); intents without
// one (unknown) are placed but not scored.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/sip"
)

type item struct{ wav, intent, queue string }

type result struct {
	item
	got     string // queue the call landed in ("" none)
	turn    time.Duration
	heardOK bool
	over    bool // the IVR spoke before the caller had finished
	err     error
}

func main() {
	sipAddr := flag.String("sip", "127.0.0.1:5060", "contactd's SIP address")
	httpURL := flag.String("http", "http://127.0.0.1:8080", "contactd's HTTP base")
	token := flag.String("token", "", "an admin token")
	list := flag.String("list", "", "calls.tsv")
	codec := flag.String("codec", "opus", "opus (wideband), PCMU or PCMA")
	par := flag.Int("parallel", 2, "calls at once")
	cfgPath := flag.String("config", "", "contactd's config (default: the demo config)")
	flag.Parse()
	var cfg *config.Config
	var err error
	if *cfgPath != "" {
		cfg, err = config.Load(*cfgPath, func(string) string { return "" })
	} else {
		cfg, err = config.Parse("demo.yaml", config.Demo())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ivrcalls:", err)
		os.Exit(2)
	}
	queues := map[string]string{}
	for _, in := range cfg.Intents {
		queues[in.Name] = in.Queue
	}
	items, err := readList(*list, queues)
	if err != nil || len(items) == 0 {
		fmt.Fprintln(os.Stderr, "ivrcalls:", err, "(need -list with lines wav<TAB>intent<TAB>queue)")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(len(items))*40*time.Second/time.Duration(max(*par, 1))+time.Minute)
	defer cancel()
	res := make([]result, len(items))
	sem := make(chan struct{}, max(*par, 1))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res[i] = place(ctx, *sipAddr, *httpURL, *token, *codec, fmt.Sprintf("+1555300%04d", i), it)
		}()
	}
	wg.Wait()

	right, queued, scored, errs, over, silent := 0, 0, 0, 0, 0, 0
	var turns []time.Duration
	for _, r := range res {
		status := "ok"
		switch {
		case r.err != nil:
			errs++
			status = "error: " + r.err.Error()
		case r.queue == "":
			status = "not scored (out of scope)"
		default:
			scored++
			if r.got != "" {
				queued++
			}
			if r.got == r.queue {
				right++
			} else {
				status = "WRONG"
			}
		}
		turn := "    - ms"
		switch {
		case r.err != nil:
		case r.over:
			over++
			turn = "    over"
		case r.heardOK:
			turns = append(turns, r.turn)
			turn = fmt.Sprintf("%5d ms", r.turn.Milliseconds())
		default:
			silent++
		}
		fmt.Printf("%-14s want %-10s got %-10s turn %s  %s  %s\n", r.intent, r.queue, r.got, turn, status, r.wav)
	}
	sort.Slice(turns, func(i, j int) bool { return turns[i] < turns[j] })
	pct := func(p float64) int64 {
		if len(turns) == 0 {
			return -1
		}
		return turns[min(len(turns)-1, int(p*float64(len(turns))))].Milliseconds()
	}
	fmt.Printf("calls %d, scored %d, queued %d, right queue %d (%.1f %%), errors %d\n", len(res), scored, queued, right, 100*float64(right)/float64(max(scored, 1)), errs)
	fmt.Printf("turn latency (end of speech to the next prompt) over %d calls: p50 %d ms, p95 %d ms, max %d ms\n", len(turns), pct(0.5), pct(0.95), pct(1))
	fmt.Printf("the IVR spoke before the caller had finished in %d calls; no prompt within 6 s of the speech in %d\n", over, silent)
	fmt.Printf("SPOKEN_ROUTING=%.3f TURN_P50_MS=%d TURN_P95_MS=%d TALKED_OVER=%d\n", float64(right)/float64(max(scored, 1)), pct(0.5), pct(0.95), over)
}

func readList(path string, queues map[string]string) ([]item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []item
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) < 2 || p[0] == "" {
			continue
		}
		it := item{wav: p[0], intent: p[1], queue: queues[p[1]]}
		out = append(out, it)
	}
	return out, sc.Err()
}

// place calls, waits for the greeting to end, speaks, times the IVR's
// answer, then waits until the call is queued (or 12 s) and hangs up.
func place(ctx context.Context, sipAddr, httpURL, token, codec, from string, it item) result {
	r := result{item: it}
	f, err := os.Open(it.wav)
	if err != nil {
		r.err = err
		return r
	}
	pcm, rate, _, err := media.ReadWAV(f)
	f.Close()
	if err != nil {
		r.err = err
		return r
	}
	pcm = media.Resample(pcm, rate, media.SampleRate)
	c, err := sip.Dial(ctx, sip.DialConfig{Target: "sip:support@" + sipAddr, From: from, Codecs: []string{codec}})
	if err != nil {
		r.err = err
		return r
	}
	defer c.Hangup(context.Background())
	leg := c.Leg()
	var mu sync.Mutex
	var loud []time.Time // arrival of every loud frame
	go func() {
		for fr := range leg.Frames() {
			if media.RMS(fr) >= 300 {
				mu.Lock()
				loud = append(loud, time.Now())
				mu.Unlock()
			}
		}
	}()
	lastLoud := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		if len(loud) == 0 {
			return time.Time{}
		}
		return loud[len(loud)-1]
	}
	// The greeting: heard, then 900 ms of quiet.
	deadline := time.Now().Add(25 * time.Second)
	for {
		if ll := lastLoud(); !ll.IsZero() && time.Since(ll) > 900*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			r.err = fmt.Errorf("no greeting")
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The last voiced frame of the file leaves its offset after the start
	// (Play paces in real time).
	end := len(pcm)
	for end >= media.FrameSamples && media.RMS(pcm[end-media.FrameSamples:end]) < 300 {
		end -= media.FrameSamples
	}
	greetEnd := lastLoud()
	started := time.Now()
	speechEnd := started.Add(time.Duration(end) * time.Second / media.SampleRate)
	if err := media.Play(ctx, leg, pcm); err != nil {
		r.err = err
		return r
	}
	// Keep the line open with silence, as a phone does.
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(media.FrameDuration)
		defer t.Stop()
		silence := make([]int16, media.FrameSamples)
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = leg.WriteFrame(silence)
			}
		}
	}()
	defer close(stop)
	// The IVR's next prompt: the first loud frame after the speech. A
	// loud frame while the caller still spoke (after the greeting's last)
	// means the IVR took a pause inside the phrase for its end.
	heard := func() (time.Duration, bool, bool) {
		mu.Lock()
		defer mu.Unlock()
		over := false
		for _, at := range loud {
			if at.After(greetEnd) && at.Before(speechEnd) {
				over = true
			}
			if at.After(speechEnd) {
				return at.Sub(speechEnd), true, over
			}
		}
		return 0, false, over
	}
	// Wait until the call is queued (12 s at most) and the next prompt
	// was heard (6 s after the speech at most): the queue shows before
	// the confirmation reaches the caller, so hanging up at once would
	// miss it.
	until := time.Now().Add(12 * time.Second)
	var next time.Time
	for ; time.Now().Before(until); time.Sleep(20 * time.Millisecond) {
		if r.got == "" && time.Now().After(next) {
			r.got = queueOf(ctx, httpURL, token, from)
			next = time.Now().Add(250 * time.Millisecond)
		}
		_, ok, _ := heard()
		if r.got != "" && (ok || time.Since(speechEnd) > 6*time.Second) {
			break
		}
	}
	r.turn, r.heardOK, r.over = heard()
	return r
}

// queueOf is the queue of the newest call from number ("" not yet).
func queueOf(ctx context.Context, httpURL, token, number string) string {
	var h struct {
		Calls []struct {
			ID string `json:"id"`
		} `json:"calls"`
	}
	if get(ctx, httpURL+"/api/v1/callers/"+strings.ReplaceAll(number, "+", "%2B")+"/history", token, &h) != nil || len(h.Calls) == 0 {
		return ""
	}
	var c struct {
		Queue string `json:"queue"`
	}
	if get(ctx, httpURL+"/api/v1/calls/"+h.Calls[0].ID, token, &c) != nil {
		return ""
	}
	return c.Queue
}

func get(ctx context.Context, u, token string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
