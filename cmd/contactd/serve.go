package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/contactd/contactd/asr"
	_ "github.com/contactd/contactd/asr/deepgram" // asr providers register themselves
	_ "github.com/contactd/contactd/asr/none"     // speech recognition off (DTMF only)
	_ "github.com/contactd/contactd/asr/openai"
	_ "github.com/contactd/contactd/asr/sphinx" // the embedded default recogniser
	_ "github.com/contactd/contactd/asr/vosk"
	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/cluster"
	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/ivr"
	"github.com/contactd/contactd/ivr/kb"
	"github.com/contactd/contactd/ivr/llm"
	"github.com/contactd/contactd/media"
	"github.com/contactd/contactd/metrics"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/routing"
	"github.com/contactd/contactd/sip"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/open"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/tickets/webhook"
	"github.com/contactd/contactd/tts"
	_ "github.com/contactd/contactd/tts/espeak" // tts providers register themselves
	_ "github.com/contactd/contactd/tts/openai"
	_ "github.com/contactd/contactd/tts/prompts"
	"github.com/contactd/contactd/web"
)

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := fs.String("config", os.Getenv("CONTACTD_CONFIG"), "YAML config file (env CONTACTD_CONFIG; empty: built-in demo)")
	httpAddr := fs.String("http-addr", "", "HTTP listen address (env CONTACTD_HTTP_ADDR)")
	sipAddr := fs.String("sip-addr", "", "SIP listen address, UDP and TCP (env CONTACTD_SIP_ADDR)")
	dataDir := fs.String("data-dir", "", "data directory (env CONTACTD_DATA_DIR)")
	dbURL := fs.String("database-url", "", "Postgres URL (env CONTACTD_DATABASE_URL; empty: embedded SQLite)")
	logLevel := fs.String("log-level", envOr("CONTACTD_LOG_LEVEL", "info"), "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(*logLevel)
	slog.SetDefault(log)
	if n, set := procs(os.Getenv, runtime.GOMAXPROCS(0)); set {
		runtime.GOMAXPROCS(n)
		log.Debug("GOMAXPROCS", "procs", n)
	}
	readers, err := mediaReaders(os.Getenv)
	if err != nil {
		return err
	}
	media.SetReaders(readers)
	cfg, err := config.Load(*cfgPath, os.Getenv)
	if err != nil {
		return err
	}
	for dst, v := range map[*string]string{&cfg.HTTP.Addr: *httpAddr, &cfg.SIP.Addr: *sipAddr, &cfg.DataDir: *dataDir, &cfg.Database: *dbURL} {
		if v != "" {
			*dst = v
		}
	}
	return run(ctx, cfg, log)
}

// procs is how many Ps the Go scheduler gets: twice the CPUs it would
// use (cpus), unless GOMAXPROCS is set. Work that waits for a P (SIP
// messages, a media reader coming back from epoll_wait) waited while every
// P was busy; a spare P blocks in the network poller instead and the
// kernel wakes it. Measured when each leg still had its own reader
// goroutine, at 1,000 relayed calls on 2 CPUs (bench/README.md, session
// 6): added latency p50 / p99 0.9 / 12 ms against 12 / 33 ms, and the
// call set-up rate doubled.
func procs(getenv func(string) string, cpus int) (int, bool) {
	if getenv("GOMAXPROCS") != "" {
		return cpus, false
	}
	return 2 * cpus, true
}

// mediaReaders is CONTACTD_MEDIA_READERS: how many goroutines read RTP
// (media.SetReaders; unset: one per CPU).
func mediaReaders(getenv func(string) string) (int, error) {
	v := getenv("CONTACTD_MEDIA_READERS")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1024 {
		return 0, fmt.Errorf("CONTACTD_MEDIA_READERS=%q: want a whole number from 1 to 1024", v)
	}
	return n, nil
}

// run builds every part from cfg, serves until ctx ends, then shuts down
// gracefully: refuse new calls, let current ones finish within the grace
// period, hang up the rest, flush the store.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	cl, err := readClusterSettings(cfg, os.Getenv)
	if err != nil {
		return err
	}
	var clu *clusterNode // nil: this node works alone
	// In a cluster the node's connections tag the calls it creates (calls.node).
	if cl.on {
		if cfg.Database, err = cluster.DatabaseURL(cfg.Database, cl.id); err != nil {
			return err
		}
	}
	st, err := open.Open(ctx, cfg.Database, cfg.DataDir, log)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close()
	obs := metrics.New()
	st = obs.Store(st) // contactd_db_operation_seconds
	files, recKey, box, live, err := dataProtection(cfg, log)
	if err != nil {
		return err
	}
	defer box.Close() // after everything else (deferred later) has stopped
	defer live.Close()

	stateLog := func(c routing.StateChange) {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := st.LogAgentState(sctx, store.AgentStateChange{Username: c.Username, State: string(c.State), Reason: c.Reason, At: c.At}); err != nil {
			log.Warn("agent state log", "err", err)
		}
	}
	routerOpts := routing.Options{OfferTimeout: cfg.Routing.OfferTimeout.D(), WrapUp: cfg.Routing.WrapUp.D(), Log: log, OnStateChange: stateLog}
	router := routing.New(nil, routerOpts)
	defer router.Close()
	var acd acdPort = router
	if cl.on { // several nodes: the ACD is shared through Postgres
		engine := func(n routing.Notifier, onState func(routing.StateChange)) *routing.Router {
			o := routerOpts
			o.OnStateChange = onState
			r := routing.New(n, o)
			for _, q := range cfg.Queues {
				_ = r.SetQueue(queueConfig(q)) // checked by bootstrap
			}
			return r
		}
		if clu, err = joinCluster(ctx, cfg, cl, log, engine, stateLog); err != nil {
			return err
		}
		defer clu.leave()
		acd = clu.acd
	}
	if err := bootstrap(ctx, cfg, st, router, acd, log); err != nil {
		return err
	}

	go tickets.Warm() // the ticket writer's models, while the classifier trains
	nlu, err := understanding(cfg, log)
	if err != nil {
		return err
	}
	t0 := time.Now()
	phrases, err := recognizerPhrases(cfg)
	if err != nil {
		return err
	}
	rec, err := asr.New(ctx, cfg.ASR.Provider, asr.Config{Phrases: phrases, DataDir: cfg.DataDir, Options: cfg.ASR.Options})
	if err != nil {
		return fmt.Errorf("asr provider %q: %w", cfg.ASR.Provider, err)
	}
	defer rec.Close()
	log.Info("recogniser ready", "provider", cfg.ASR.Provider, "took", time.Since(t0).Round(time.Millisecond))

	synth, err := newSynth(ctx, cfg.TTS, cfg.DataDir)
	if err != nil {
		return err
	}
	voices, err := languageVoices(ctx, cfg)
	if err != nil {
		return err
	}
	flow := flowConfig(cfg)
	library, err := flowGraph(cfg, &flow)
	if err != nil {
		return err
	}
	flow.Customers = knownCustomers{st}
	flow.Log = log
	warmPrompts(ctx, synth, flow, cfg.IVR.QueueMessage, log)

	// Ticket changes go out to webhooks (signed, retried, dead-lettered
	// into the store).
	hooks, stopHooks, err := startWebhooks(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	defer stopHooks()
	if hooks != nil {
		st = webhook.Wrap(st, hooks)
	}
	post, err := postCall(cfg, st, log)
	if err != nil {
		return err
	}
	webrtcCfg := media.WebRTCConfig{IncludeLoopback: true, Logger: log}
	dialer := &trunkDialer{trunks: cfg.SIP.Trunks} // its server is set below
	manager := call.NewManager(call.Options{
		Store: st, Router: acd, ASR: obs.Recognizer(rec), TTS: synth, Voices: voices, NLU: nlu, Flow: flow,
		StickyDays: cfg.Routing.StickyDays,
		HoldText:   cfg.IVR.QueueMessage, DataDir: cfg.DataDir, Record: *cfg.Record, Post: post, Log: log,
		NewLeg: func(ctx context.Context, offer string) (media.Leg, string, error) {
			return media.NewWebRTCLeg(ctx, offer, webrtcCfg)
		},
		Dialer: dialer.orNil(),
		Outbox: box, Live: live, SealRecording: files.Seal, Observer: obs,
		Queues: queuePolicies(cfg), Redaction: post.Redaction,
	})
	hub := web.NewHub(log)
	if clu != nil { // agents' sockets may be on other nodes
		manager.SetEvents(clu.acd.Events(hub))
		// Declared dead by the others (cut off too long), the node rejoins
		// once its calls in progress, and waiting callbacks, are over.
		clu.node.RejoinWhenIdle(func() bool { return manager.Active() == 0 })
	} else {
		manager.SetEvents(hub)
	}
	defer startSLAWatch(ctx, st, hub, hooks, log)() // SLA breaches: flagged, escalated, announced
	// After a crash: close the calls it cut, repair and seal recordings.
	recoverAtStart(ctx, manager, files, box, log)
	stopOps := startOps(ctx, cfg, log, st, files, box, manager, acd, obs) // outbox, retention, gauges
	defer stopOps()

	var sipReady, httpReady atomic.Bool
	sipCfg := sip.Config{Addr: cfg.SIP.Addr, RTPPortMin: cfg.SIP.RTPPortMin, RTPPortMax: cfg.SIP.RTPPortMax,
		MaxCalls: cfg.SIP.MaxCalls, RingDelay: cfg.SIP.RingDelay.D(), Logger: log,
		Registrar: cfg.SIP.Registrar, Realm: cfg.SIP.Realm, Credentials: sipCredentials{st}, DigestAlgorithms: cfg.SIP.DigestAlgorithms,
		Guard: sip.GuardConfig{Enabled: cfg.SIP.Guard.Enabled, Rate: cfg.SIP.Guard.Rate, Burst: cfg.SIP.Guard.Burst,
			BanFor: cfg.SIP.Guard.BanFor.D(), AuthFailures: cfg.SIP.Guard.AuthFailures, Exempt: cfg.SIP.Guard.Exempt}}
	if cfg.SIP.MediaIP != "" {
		sipCfg.MediaIP = net.ParseIP(cfg.SIP.MediaIP)
	}
	sipCfg.RestrictInbound = cfg.SIP.OpenInbound != nil && !*cfg.SIP.OpenInbound
	sipCfg.EarlyMedia = cfg.SIP.EarlyMedia
	sipCfg.OnInviteRefused = obs.Invite
	sipCfg.Unavailable = clu.fence // a cluster node cut off from the database refuses calls and OPTIONS
	sipCfg.TLSAddr, sipCfg.TLSCert, sipCfg.TLSKey = cfg.SIP.TLSAddr, cfg.SIP.TLSCert, cfg.SIP.TLSKey
	sipCfg.AllowSDESWithoutTLS, sipCfg.RequireSRTPOnTLS = cfg.SIP.AllowSDESWithoutTLS, cfg.SIP.RequireSRTPOnTLS
	for _, t := range cfg.SIP.Trunks {
		sipCfg.Trunks = append(sipCfg.Trunks, sip.Trunk{Name: t.Name, Allow: t.Allow, Username: t.Username, Password: t.Password,
			DIDs: t.DIDs, AllowedPrefixes: t.AllowedPrefixes, BlockedPrefixes: t.BlockedPrefixes,
			Outbound: sip.TrunkOutbound{URI: t.Outbound.URI, Username: t.Outbound.Username, Password: t.Outbound.Password,
				From: t.Outbound.From, Requesters: t.Outbound.Requesters}})
	}
	var sipSrv *sip.Server // the handler runs only once the server does
	sipSrv, err = sip.NewServer(sipCfg, sip.HandlerFunc(func(ctx context.Context, c *sip.InboundCall) {
		in := call.Inbound{ID: string(c.ID), From: c.From, To: c.To, Leg: c.Leg, Events: c.Events(), Entry: c.Entry}
		if c.EarlyMedia {
			in.Answer = c.Answer
		}
		if c.Trunk != "" {
			in.Refer = func(ctx context.Context, requester, number string) error {
				target, err := sipSrv.TransferTarget(c, requester, number)
				if err != nil {
					return fmt.Errorf("%w: %w", call.ErrBadTarget, err)
				}
				return c.Refer(ctx, target)
			}
		}
		if c.EarlyMedia {
			obs.Invite(183)
		} else {
			obs.Invite(200)
		}
		manager.Serve(ctx, in)
	}))
	if err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	dialer.srv = sipSrv
	// Offers go to the agent's browser and, when registered, desk phone.
	if clu != nil { // the dispatcher's decisions reach every node's sockets; phones ring from the call's node
		clu.acd.SetNotifier(hub, manager.PhoneNotifier(clu.deskPhones(deskPhones{sipSrv}, log)))
		clu.start(sipSrv, acd, log)
	} else {
		router.SetNotifier(notifiers{hub, manager.PhoneNotifier(deskPhones{sipSrv})})
	}
	defer manager.StopPhones()
	// Callbacks the last run stored and never placed wait again, each in
	// its caller's place in line. In a cluster the dispatcher hands them
	// (and those of nodes that died or left) to a live node instead: a
	// node re-arming every stored callback would dial ones that another
	// node is dialling.
	if clu != nil {
		clu.acd.SetCallbacks(manager)
	} else if _, err := manager.RearmCallbacks(ctx); err != nil {
		log.Error("callbacks not re-armed", "err", err)
	}

	api := web.NewServer(web.Options{Store: st, Router: acd, Calls: manager, Importer: post, NLU: nlu, Hub: hub, KB: knowledge(library), Categories: intentNames(cfg),
		DataDir: cfg.DataDir, Log: log, SIPRealm: sipRealm(cfg),
		TokenTTL: cfg.HTTP.SessionTTL.D(), SessionIdle: cfg.HTTP.SessionIdle.D(), AllowedOrigins: cfg.HTTP.AllowedOrigins,
		Recordings: files, URLKey: urlKey(recKey), URLTTL: cfg.Recordings.URLTTL.D(),
		Metrics: obs.Handler(), MetricsToken: cfg.Metrics.Token, Webhooks: replayer(hooks), Recognizer: rec,
		Ready: func() bool { return sipReady.Load() && httpReady.Load() }, Health: clu.fence})
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	scheme := "http://"
	if cfg.HTTP.TLSCert != "" {
		tc, err := web.TLSConfig(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("http: %w", err)
		}
		ln, scheme = tls.NewListener(ln, tc), "https://"
	}
	httpSrv := &http.Server{Handler: clu.handler(api), ReadHeaderTimeout: 10 * time.Second}

	// SIP runs on its own context so that shutdown can drain it before
	// hanging up the calls that are left.
	sipCtx, stopSIP := context.WithCancel(context.Background())
	defer stopSIP()
	sipErr := make(chan error, 1)
	go func() { sipErr <- sipSrv.Run(sipCtx) }()
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(ln) }()
	httpReady.Store(true)
	select {
	case <-sipSrv.Ready():
		sipReady.Store(true)
	case err := <-sipErr:
		return fmt.Errorf("sip: %w", err)
	case <-ctx.Done():
	}
	log.Info("contactd ready", "http", scheme+ln.Addr().String(), "sip", sipSrv.Addr(), "data_dir", cfg.DataDir,
		"store", storeKind(cfg.Database), "calls_cap", cfg.SIP.MaxCalls, "cluster_node", cl.id)

	select {
	case <-ctx.Done():
	case err := <-sipErr:
		log.Error("sip stopped", "err", err)
	case err := <-httpErr:
		log.Error("http stopped", "err", err)
	}

	// Graceful shutdown.
	log.Info("shutting down: refusing new calls", "active_calls", manager.Active(), "grace", cfg.Shutdown.D())
	sipSrv.Drain()
	manager.Drain()
	graceCtx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown.D())
	if err := manager.Wait(graceCtx); err != nil {
		log.Warn("grace period over: hanging up remaining calls", "active_calls", manager.Active())
	}
	cancel()
	stopSIP() // hangs up what is left (BYE) and closes listeners
	<-sipErr
	finishCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := manager.Wait(finishCtx); err != nil {
		log.Error("calls did not finish post-call work", "err", err)
	}
	if err := httpSrv.Shutdown(finishCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	log.Info("stopped")
	return nil
}

func storeKind(url string) string {
	if url == "" {
		return "sqlite"
	}
	return "postgres"
}

// newSynth builds the configured tts provider behind a prompt cache (keyed
// by text and voice).
// modelCacheDir is where trained classifiers are kept across restarts:
// CONTACTD_MODEL_CACHE when set (a directory several instances may share),
// else models/ in the data directory.
func modelCacheDir(cfg *config.Config) string {
	if d := os.Getenv("CONTACTD_MODEL_CACHE"); d != "" {
		return d
	}
	return filepath.Join(cfg.DataDir, "models")
}

// executableHash names this build of contactd for the model cache: a
// model trained by one build is not loaded by another, whose training may
// differ. "" (so no cache: ModelCache needs a salt) when the executable
// cannot be read.
func executableHash() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// understanding trains the embedded classifier for every configured
// language and, with nlu.provider openai, puts the LLM in front of it.
func understanding(cfg *config.Config, log *slog.Logger) (ivr.IntentClassifier, error) {
	en, err := cfg.ClassifierExamples()
	if err != nil {
		return nil, fmt.Errorf("nlu: config: %w", err)
	}
	byLang := map[string]map[string][]string{"en": en}
	var names []string
	for _, in := range cfg.Intents {
		names = append(names, in.Name)
	}
	for lang, l := range cfg.IVR.Languages {
		byLang[lang] = l.Intents
	}
	cache := &ivr.ModelCache{Dir: modelCacheDir(cfg), Salt: executableHash(), Log: log}
	langs, err := cache.TrainLanguages("en", byLang)
	if err != nil {
		return nil, fmt.Errorf("nlu: %w", err)
	}
	if cfg.NLU.Provider != "openai" {
		return langs, nil
	}
	c, err := llm.FromOptions(cfg.NLU.Options, names, langs, log)
	if err != nil {
		return nil, fmt.Errorf("nlu provider openai: %w", err)
	}
	return c, nil
}

// languageVoices is a synthesizer per extra IVR language with its voice.
func languageVoices(ctx context.Context, cfg *config.Config) (map[string]tts.Synthesizer, error) {
	voices := map[string]tts.Synthesizer{}
	for lang, l := range cfg.IVR.Languages {
		if l.Voice == "" {
			continue
		}
		p := config.Provider{Provider: cfg.TTS.Provider, Options: map[string]string{}}
		for k, v := range cfg.TTS.Options {
			p.Options[k] = v
		}
		p.Options["voice"] = l.Voice
		s, err := newSynth(ctx, p, cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("ivr.languages.%s.voice: %w", lang, err)
		}
		voices[lang] = s
	}
	return voices, nil
}

// flowGraph loads the configured flow and knowledge base into f. The
// library (nil without one) also serves the agents' knowledge suggestions.
func flowGraph(cfg *config.Config, f *ivr.FlowConfig) (*kb.Library, error) {
	var library *kb.Library
	if cfg.IVR.KB != "" {
		l, err := kb.LoadLibrary(cfg.Dir, cfg.IVR.KB, "en")
		if err != nil {
			return nil, fmt.Errorf("ivr.kb: %w", err)
		}
		library, f.KB = l, l
	}
	if cfg.IVR.Flow == "" {
		return library, nil
	}
	env := ivr.FlowEnv{Languages: []string{"en"}}
	for _, in := range cfg.Intents {
		env.Intents = append(env.Intents, in.Name)
	}
	for _, q := range cfg.Queues {
		env.Queues = append(env.Queues, q.Name)
	}
	for lang := range cfg.IVR.Languages {
		env.Languages = append(env.Languages, lang)
	}
	for _, t := range cfg.SIP.Trunks {
		for _, entry := range t.DIDs {
			env.Entries = append(env.Entries, entry)
		}
	}
	g, err := ivr.LoadFlow(cfg.Dir, cfg.IVR.Flow, env)
	if err != nil {
		return nil, err
	}
	f.Graph = g
	return library, nil
}

// knownCustomers: a caller is known once they have called before.
type knownCustomers struct{ st store.Store }

func (k knownCustomers) KnownCustomer(ctx context.Context, number string) (bool, error) {
	cs, err := k.st.CallsByCaller(ctx, number, 2)
	if err != nil {
		return false, err
	}
	return len(cs) > 1, nil // the call in progress is already stored
}

func newSynth(ctx context.Context, p config.Provider, dataDir string) (tts.Synthesizer, error) {
	s, err := tts.New(ctx, p.Provider, tts.Config{Options: p.Options, DataDir: dataDir})
	if err != nil {
		return nil, fmt.Errorf("tts provider %q: %w", p.Provider, err)
	}
	return tts.NewCache(s, 256), nil
}

func flowConfig(cfg *config.Config) ivr.FlowConfig {
	f := ivr.FlowConfig{Greeting: cfg.IVR.Greeting, Reprompt: cfg.IVR.Reprompt, MenuIntro: cfg.IVR.MenuIntro,
		Confirm: cfg.IVR.Confirm, Threshold: cfg.IVR.ConfidenceThreshold, NoInput: cfg.IVR.NoInputTimeout.D(),
		MaxMisses: cfg.IVR.MaxMisses, HumanIntent: cfg.IVR.HumanIntent}
	for _, in := range cfg.Intents {
		f.Routes = append(f.Routes, ivr.Route{Intent: in.Name, Queue: in.Queue, Priority: in.Priority, DTMF: in.DTMF, Label: in.MenuLabel})
	}
	return f
}

// warmPrompts synthesises the fixed prompts once so the first caller
// doesn't wait for espeak-ng; then, in the background, each route's
// confirmation with the hold message (what a caller hears as soon as the
// IVR has understood: synthesis would add to that turn's latency).
func warmPrompts(ctx context.Context, s tts.Synthesizer, f ivr.FlowConfig, hold string, log *slog.Logger) {
	for _, p := range []string{f.Greeting, f.Reprompt} {
		if _, err := s.Synthesize(ctx, p); err != nil {
			log.Warn("prompt synthesis failed; callers will get DTMF only", "err", err)
			return
		}
	}
	var confirms []string
	for _, r := range f.Routes {
		d := ivr.Decision{Intent: r.Intent, Outcome: ivr.OutcomeTransfer}
		if p := strings.TrimSpace(f.ConfirmText(d) + " " + hold); p != "" && !slices.Contains(confirms, p) {
			confirms = append(confirms, p)
		}
	}
	go func() {
		for _, p := range confirms {
			if _, err := s.Synthesize(ctx, p); err != nil {
				return
			}
		}
	}()
}

// recognizerPhrases is what the recogniser's domain model is built from: the
// intents' examples, what agents commonly say, and the knowledge base's
// text (its words are the ones callers ask about).
func recognizerPhrases(cfg *config.Config) ([]string, error) {
	p := append(cfg.Phrases(), agentPhrases...)
	if cfg.IVR.KB != "" {
		l, err := kb.LoadLibrary(cfg.Dir, cfg.IVR.KB, "en")
		if err != nil {
			return nil, fmt.Errorf("ivr.kb: %w", err)
		}
		p = append(p, l.Texts()...)
	}
	return p, nil
}

var agentPhrases = []string{
	"hello thank you for calling my name is anna how can i help you today",
	"hello thanks for calling how can i help",
	"good morning you are speaking with alex how may i help you",
	"can i have your order number please",
	"can you confirm your name and date of birth please",
	"i am sorry to hear that i understand how frustrating that is",
	"let me check that for you",
	"your order is on its way and will arrive tomorrow",
	"i have processed your refund",
	"is there anything else i can help you with",
	"thank you for calling have a great day goodbye",
}

// bootstrap makes sure the demo/configured agents, queues and the admin exist.
// Queues are set on router; agents go to acd (the router itself on one
// node).
func bootstrap(ctx context.Context, cfg *config.Config, st store.Store, router *routing.Router, acd acdPort, log *slog.Logger) error {
	for _, q := range cfg.Queues {
		if err := router.SetQueue(queueConfig(q)); err != nil {
			return fmt.Errorf("queue %s: %w", q.Name, err)
		}
		if err := st.UpsertQueue(ctx, store.Queue{Name: q.Name, Skill: q.Skill}); err != nil {
			return fmt.Errorf("store queue %s: %w", q.Name, err)
		}
	}
	if cfg.AdminPassword != "" {
		_, err := st.UserByName(ctx, "admin")
		if errors.Is(err, store.ErrNotFound) {
			// ErrConflict: another node starting at the same time made it.
			if _, err := web.CreateUser(ctx, st, acd, sipRealm(cfg), "admin", cfg.AdminPassword, store.RoleAdmin); err != nil && !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("create admin: %w", err)
			}
			log.Info("created user admin")
		} else if err != nil {
			return fmt.Errorf("look up admin: %w", err)
		}
	}
	for _, a := range cfg.Agents {
		_, err := st.UserByName(ctx, a.Username)
		if errors.Is(err, store.ErrNotFound) {
			if _, err := web.CreateUser(ctx, st, acd, sipRealm(cfg), a.Username, a.Password, store.RoleAgent); errors.Is(err, store.ErrConflict) {
				continue // another node starting at the same time made it
			} else if err != nil {
				return fmt.Errorf("create agent %s: %w", a.Username, err)
			}
			if a.Team != "" {
				if err := st.SetUserTeam(ctx, a.Username, a.Team); err != nil {
					return fmt.Errorf("team of agent %s: %w", a.Username, err)
				}
			}
			if err := st.UpsertAgent(ctx, store.Agent{Username: a.Username, Skills: a.Skills, MaxCalls: a.MaxCalls,
				State: string(routing.Offline), StateSince: time.Now()}); err != nil {
				return fmt.Errorf("store agent %s: %w", a.Username, err)
			}
		} else if err != nil {
			return fmt.Errorf("look up agent %s: %w", a.Username, err)
		}
	}
	agents, err := st.ListAgents(ctx)
	if err != nil {
		return fmt.Errorf("list agents: %w", err)
	}
	for _, a := range agents {
		acd.SetAgent(a.Username, a.Skills, a.MaxCalls) // alone: every agent starts offline after a restart; in a cluster they keep their state
	}
	return nil
}

// knowledge keeps a nil library a nil interface.
func knowledge(l *kb.Library) web.Knowledge {
	if l == nil {
		return nil
	}
	return l
}

// intentNames are the ticket categories agents may choose at wrap-up.
func intentNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Intents)+1)
	for _, in := range cfg.Intents {
		names = append(names, in.Name)
	}
	return append(names, "unknown")
}

// postCall builds the post-call pipeline from the config: the ticket
// writer (priority rules, optional LLM), SLA calendar, repeat-contact
// window, and the QA scorecard (optional LLM judge).
func postCall(cfg *config.Config, st store.Store, log *slog.Logger) (*call.PostCall, error) {
	w := &tickets.Writer{Log: log, Options: tickets.DraftOptions{Labels: map[string]string{}}}
	for _, in := range cfg.Intents {
		if in.MenuLabel != "" {
			w.Options.Labels[in.Name] = in.MenuLabel
		}
	}
	for _, r := range cfg.Tickets.PriorityRules {
		w.Options.Rules = append(w.Options.Rules, tickets.PriorityRule{Set: r.Set, If: tickets.Condition{
			Sentiment: r.If.Sentiment, Keywords: r.If.Keywords, Categories: r.If.Categories, VIP: r.If.VIP, Repeat: r.If.Repeat}})
	}
	if cfg.Tickets.LLM.Provider == "openai" {
		o := cfg.Tickets.LLM.Options
		l := &tickets.LLM{URL: o["url"], Model: o["model"], APIKey: o["api_key"]}
		if l.APIKey == "" {
			l.APIKey = os.Getenv("CONTACTD_OPENAI_API_KEY")
		}
		if t, err := time.ParseDuration(o["timeout"]); err == nil {
			l.Timeout = t
		}
		w.LLM = l
	}
	cal, err := tickets.NewCalendar(cfg.Tickets.SLA.Timezone, cfg.Tickets.SLA.Hours, cfg.Tickets.SLA.Holidays)
	if err != nil {
		return nil, fmt.Errorf("tickets.sla: %w", err)
	}
	targets := map[string]tickets.SLATarget{}
	for p, t := range tickets.DefaultSLATargets {
		targets[p] = t
	}
	for p, t := range cfg.Tickets.SLA.Targets {
		targets[p] = tickets.SLATarget{FirstResponse: t.FirstResponse.D(), Resolution: t.Resolution.D()}
	}
	base := map[string]string{}
	for _, in := range cfg.Intents {
		base[in.Name] = in.Priority
	}
	post := &call.PostCall{Store: st, Scorecard: cfg.QA.ActiveScorecard(), Writer: w, Log: log,
		SLA: &tickets.SLAPolicy{Calendar: cal, Targets: targets}, BasePriority: base,
		Redaction: tickets.Redaction{Emails: cfg.Tickets.Redact.Emails}}
	switch {
	case cfg.Tickets.RepeatDays < 0:
		post.RepeatWindow = -1
	case cfg.Tickets.RepeatDays > 0:
		post.RepeatWindow = time.Duration(cfg.Tickets.RepeatDays) * 24 * time.Hour
	}
	if o, ok := cfg.QA.LLMOptions(); ok {
		o.Log = log
		j, err := qa.NewLLM(o)
		if err != nil {
			return nil, fmt.Errorf("qa.llm: %w", err)
		}
		post.Judge = j
	}
	return post, nil
}
