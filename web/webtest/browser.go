package webtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium is wrapped by the error of [Start] when no Chromium binary is
// found.
var ErrNoChromium = errors.New("webtest: chromium not found: install chromium (apt-get install chromium)")

// DefaultActionTimeout bounds one action of a [Browser] when
// Options.ActionTimeout is zero.
const DefaultActionTimeout = 20 * time.Second

// maxConsole caps the console lines that a Browser keeps, so that a chatty
// page cannot grow the memory of a long test without a limit.
const maxConsole = 5000

// Options configure [Start]. The zero value runs a headless Chromium whose
// fake microphone plays Chromium's built-in beep.
type Options struct {
	// FakeAudioWAV is a WAV file that the fake microphone plays in a loop.
	// Chromium reads 16-bit PCM; 48 kHz mono is known to work. Empty means
	// Chromium's built-in beep.
	FakeAudioWAV string

	// Headless asks for headless mode. Headless is also what the zero
	// Options give; the field exists so that callers can say so. Visible
	// overrides it.
	Headless bool

	// Visible shows a browser window, to watch a test by eye. It needs a
	// display (DISPLAY or WAYLAND_DISPLAY).
	Visible bool

	// ExecPath is the Chromium binary. Empty means /usr/bin/chromium, then
	// chromium, chromium-browser and google-chrome on PATH.
	ExecPath string

	// ActionTimeout bounds each Navigate, Click, SetValue and Eval. Zero
	// means DefaultActionTimeout.
	ActionTimeout time.Duration
}

// Browser is one running Chromium with one tab. Its methods are not safe for
// concurrent use, except Console.
type Browser struct {
	ctx         context.Context // the tab's chromedp context
	cancelTab   context.CancelFunc
	cancelAlloc context.CancelFunc
	dataDir     string
	timeout     time.Duration

	wg        sync.WaitGroup // the console reader
	closeOnce sync.Once

	mu      sync.Mutex
	console []string
}

// Start launches Chromium and opens a blank tab. ctx bounds the life of the
// browser; Close ends it earlier and must be called.
func Start(ctx context.Context, opts Options) (*Browser, error) {
	execPath, err := findChromium(opts.ExecPath)
	if err != nil {
		return nil, err
	}
	if opts.FakeAudioWAV != "" {
		abs, err := filepath.Abs(opts.FakeAudioWAV)
		if err != nil {
			return nil, fmt.Errorf("webtest: fake audio %q: %w", opts.FakeAudioWAV, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("webtest: fake audio: %w", err)
		}
		opts.FakeAudioWAV = abs
	}
	dataDir, err := os.MkdirTemp("", "webtest-chromium-")
	if err != nil {
		return nil, fmt.Errorf("webtest: user data dir: %w", err)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, allocatorOptions(execPath, dataDir, opts)...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	b := &Browser{
		ctx:         tabCtx,
		cancelTab:   cancelTab,
		cancelAlloc: cancelAlloc,
		dataDir:     dataDir,
		timeout:     opts.ActionTimeout,
	}
	if b.timeout <= 0 {
		b.timeout = DefaultActionTimeout
	}

	// Start the browser and subscribe to its console before any page
	// runs, so that no line is lost.
	// The first run must not carry a deadline (chromedp stops the browser
	// when that context ends), so a timer bounds the start instead.
	watchdog := time.AfterFunc(b.timeout, cancelTab)
	err = chromedp.Do(tabCtx)
	watchdog.Stop()
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("webtest: start %s: %w", execPath, err)
	}
	messages := chromedp.Console(tabCtx)
	b.wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.addConsole(m.String())
		}
	})
	return b, nil
}

// allocatorOptions are the Chromium flags verified in
// /work/shared/notes/browser-webrtc.md. They do not start from chromedp's
// defaults because its Headless option adds --mute-audio, and the pages under
// test measure the audio they play.
func allocatorOptions(execPath, dataDir string, opts Options) []chromedp.ExecAllocatorOption {
	o := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(dataDir),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	if opts.FakeAudioWAV != "" {
		o = append(o, chromedp.Flag("use-file-for-fake-audio-capture", opts.FakeAudioWAV))
	}
	if !opts.Visible {
		o = append(o, chromedp.Flag("headless", true), chromedp.Flag("hide-scrollbars", true))
	}
	return o
}

// findChromium returns the browser binary to run.
func findChromium(want string) (string, error) {
	if want != "" {
		p, err := exec.LookPath(want)
		if err != nil {
			return "", fmt.Errorf("%w: %q: %w", ErrNoChromium, want, err)
		}
		return p, nil
	}
	if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Close stops the browser, waits for it to exit and removes its profile. It is
// safe to call twice.
func (b *Browser) Close() {
	b.closeOnce.Do(func() {
		b.cancelTab()
		b.cancelAlloc() // waits for the process to exit
		b.wg.Wait()
		_ = os.RemoveAll(b.dataDir)
	})
}

// action runs a with the action timeout.
func (b *Browser) action(what string, a chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, a); err != nil {
		return fmt.Errorf("webtest: %s: %w", what, err)
	}
	return nil
}

// Navigate loads url in the tab and waits for its load event.
func (b *Browser) Navigate(url string) error {
	return b.action("navigate "+url, chromedp.Navigate(url))
}

// Click clicks the first element that matches the CSS selector sel, once it
// is visible. A page that re-renders the element between finding and
// clicking it (a table refreshed by an event) is tried again.
func (b *Browser) Click(sel string) error {
	var err error
	for range 3 {
		err = b.action("click "+sel, chromedp.Click(chromedp.CSS(sel)))
		if err == nil || !staleNode(err) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// staleNode: the element found went from the page before it was used.
func staleNode(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") || strings.Contains(msg, "Node is detached")
}

// Type focuses the first element that matches the CSS selector sel and
// types text into it as key presses ("\r" is Enter: it submits a form).
func (b *Browser) Type(sel, text string) error {
	return b.action("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// SetValue sets the value property of the first element that matches the CSS
// selector sel. It fires no input event; pages read fields on submit.
func (b *Browser) SetValue(sel, v string) error {
	return b.action("set value of "+sel, chromedp.SetValue(chromedp.CSS(sel), v))
}

// Eval evaluates js in the page, awaits the result if it is a promise, and
// decodes its JSON value into out. A nil out discards the result. A thrown
// exception or a rejected promise is an error.
func (b *Browser) Eval(js string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("webtest: eval %s: %w", short(js), err)
	}
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		return fmt.Errorf("webtest: eval %s: result is undefined", short(js))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("webtest: eval %s: decode %s: %w", short(js), short(string(raw)), err)
	}
	return nil
}

// WaitJS polls the JavaScript expression cond until it is truthy, ctx ends or
// timeout passes. The error on timeout names the condition and the last
// evaluation error, if any.
func (b *Browser) WaitJS(ctx context.Context, cond string, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	expr := "Boolean(" + cond + ")"
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		ok, err := chromedp.Run(wctx, chromedp.Evaluate[bool](expr))
		switch {
		case err == nil && ok:
			return nil
		case err != nil && wctx.Err() == nil:
			lastErr = err
		}
		select {
		case <-wctx.Done():
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("webtest: wait for %s: %w", short(cond), err)
			}
			if lastErr != nil {
				return fmt.Errorf("webtest: wait for %s: timed out after %v (last error: %w)", short(cond), timeout, lastErr)
			}
			return fmt.Errorf("webtest: wait for %s: timed out after %v", short(cond), timeout)
		case <-tick.C:
		}
	}
}

// Console returns the lines that the page wrote to the console so far, such
// as "log: text", "error: text" and "exception: text", oldest first.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

func (b *Browser) addConsole(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.console) >= maxConsole {
		b.console = b.console[1:]
	}
	b.console = append(b.console, line)
}

// short trims a script for an error message.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// Screenshot returns a PNG of the whole page, for the artefacts of a failed
// test.
func (b *Browser) Screenshot() ([]byte, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil, fmt.Errorf("webtest: screenshot: %w", err)
	}
	return png, nil
}
