// Package config is contactd's one configuration struct: YAML with the demo
// built in, environment overrides, defaults in one place, and a Validate that
// names the bad field and why.
package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

//go:embed demo.yaml
var demoYAML []byte

// demoDir holds the files the demo config refers to (IVR flow, knowledge
// base, classifier training data), relative to the config directory.
//
//go:embed flows kb training
var demoDir embed.FS

// DemoDir is the built-in demo's config directory (flows/, kb/).
func DemoDir() fs.FS { return demoDir }

// overlay reads from dir, and from the built-in demo's files for paths dir
// lacks, so that a copy of demo.yaml elsewhere still finds the demo's flow
// and knowledge base.
type overlay struct{ dir, fallback fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.dir.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return o.fallback.Open(name)
	}
	return f, err
}

// Demo returns the built-in demo configuration's YAML.
func Demo() []byte { return bytes.Clone(demoYAML) }

// Config is the whole configuration.
type Config struct {
	HTTP     HTTP     `yaml:"http"`
	SIP      SIP      `yaml:"sip"`
	DataDir  string   `yaml:"data_dir"`
	Database string   `yaml:"database_url"`
	ASR      Provider `yaml:"asr"`
	TTS      Provider `yaml:"tts"`
	IVR      IVR      `yaml:"ivr"`
	NLU      Provider `yaml:"nlu"` // embedded (default) or openai {url, model, api_key, timeout}
	Intents  []Intent `yaml:"intents"`
	Queues   []Queue  `yaml:"queues"`
	Routing  Routing  `yaml:"routing"`
	Agents   []Agent  `yaml:"agents"`
	Shutdown Duration `yaml:"shutdown_grace"`
	Record   *bool    `yaml:"record"`
	// Tickets tunes the ticket writer and the helpdesk.
	Tickets Tickets `yaml:"tickets"`
	// Webhooks are told about ticket changes.
	Webhooks []Webhook `yaml:"webhooks"`
	// QA configures call scoring: the scorecard, company names, the LLM judge.
	QA QA `yaml:"qa"`
	// Recordings, Retention and Metrics: data protection and operations
	// (privacy.go).
	Recordings Recordings `yaml:"recordings"`
	Retention  Retention  `yaml:"retention"`
	Metrics    Metrics    `yaml:"metrics"`

	// Dir is the config file's directory (the built-in demo's for the demo);
	// ivr.flow and ivr.kb are paths in it.
	Dir fs.FS `yaml:"-"`

	// AdminPassword comes only from the environment (CONTACTD_ADMIN_PASSWORD).
	AdminPassword string `yaml:"-"`
}

// HTTP settings.
type HTTP struct {
	Addr string `yaml:"addr"`
	// TLSCert and TLSKey are PEM files; with both set the server speaks
	// only HTTPS (and sends HSTS).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// SessionTTL is a login's absolute lifetime (12h); SessionIdle ends it
	// sooner when unused that long (1h).
	SessionTTL  Duration `yaml:"session_ttl"`
	SessionIdle Duration `yaml:"session_idle"`
	// AllowedOrigins are other origins whose pages may open the events
	// WebSocket ("desk.example.com", "https://*.example.com"); the
	// server's own is always allowed.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// SIP settings.
type SIP struct {
	Addr       string   `yaml:"addr"`     // host:port, UDP and TCP
	MediaIP    string   `yaml:"media_ip"` // address put in SDP; empty: the address the INVITE arrived on
	RTPPortMin int      `yaml:"rtp_port_min"`
	RTPPortMax int      `yaml:"rtp_port_max"`
	MaxCalls   int      `yaml:"max_calls"`
	RingDelay  Duration `yaml:"ring_delay"`
	// Registrar lets agents' SIP phones REGISTER (digest auth with the
	// user's password) and take calls there.
	Registrar bool   `yaml:"registrar"`
	Realm     string `yaml:"realm"`
	// DigestAlgorithms in order of preference: SHA-256 and/or MD5.
	DigestAlgorithms []string `yaml:"digest_algorithms"`
	Guard            Guard    `yaml:"guard"`
	// OpenInbound takes INVITEs from anyone (default true: the demo, a
	// lab). false accepts only trunks (allow-list or digest credentials)
	// and, with the registrar on, registered users; others get 401/403.
	OpenInbound *bool `yaml:"open_inbound"`
	// EarlyMedia plays the IVR in early media (183) before answering.
	EarlyMedia bool `yaml:"early_media"`
	// TLSAddr, when set, also listens for SIP over TLS (sips) with the PEM
	// files TLSCert and TLSKey.
	TLSAddr string `yaml:"tls_addr"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// SRTP with SDES keys (RFC 4568): RTP/SAVP offers that arrive over TLS
	// get encrypted media. AllowSDESWithoutTLS also takes them over UDP and
	// TCP, where the keys travel in clear text (default: 488).
	// RequireSRTPOnTLS refuses plain RTP/AVP offers over TLS (default:
	// taken).
	AllowSDESWithoutTLS bool `yaml:"allow_sdes_without_tls"`
	RequireSRTPOnTLS    bool `yaml:"require_srtp_on_tls"`
	// Trunks are the carriers/PBXs we take calls from and call out through.
	Trunks []Trunk `yaml:"trunks"`
}

// Trunk is one SIP trunk (see package sip's Trunk).
type Trunk struct {
	Name     string   `yaml:"name"`
	Allow    []string `yaml:"allow"`    // source IPs/CIDRs trusted without auth
	Username string   `yaml:"username"` // digest credentials the trunk authenticates with
	Password string   `yaml:"password"`
	// DIDs maps dialled numbers to an entry name; "*" catches the rest.
	DIDs     map[string]string `yaml:"dids"`
	Outbound TrunkOutbound     `yaml:"outbound"`
	// AllowedPrefixes (when set) and BlockedPrefixes limit the numbers
	// outbound calls may reach (toll fraud).
	AllowedPrefixes []string `yaml:"allowed_prefixes"`
	BlockedPrefixes []string `yaml:"blocked_prefixes"`
}

// TrunkOutbound is where and how calls go out through a trunk.
type TrunkOutbound struct {
	URI        string   `yaml:"uri"` // e.g. sip:sip.carrier.example:5060
	Username   string   `yaml:"username"`
	Password   string   `yaml:"password"`
	From       string   `yaml:"from"`       // caller ID user part
	Requesters []string `yaml:"requesters"` // users allowed to call out; empty: any authenticated user
}

// Guard is SIP flood and brute-force protection per source address.
type Guard struct {
	Enabled      bool     `yaml:"enabled"`
	Rate         float64  `yaml:"rate"`          // requests per second per source
	Burst        int      `yaml:"burst"`         // bucket size
	BanFor       Duration `yaml:"ban_for"`       // how long an offender is ignored
	AuthFailures int      `yaml:"auth_failures"` // failed digest logins before a ban
	Exempt       []string `yaml:"exempt"`        // trusted IPs/CIDRs (trunks, a front proxy)
}

// Provider picks a pluggable implementation and passes it options.
type Provider struct {
	Provider string            `yaml:"provider"`
	Options  map[string]string `yaml:"options"`
}

// IVR settings: what the caller hears and how patient we are.
type IVR struct {
	Greeting            string   `yaml:"greeting"`
	Reprompt            string   `yaml:"reprompt"`
	MenuIntro           string   `yaml:"menu_intro"`
	Confirm             string   `yaml:"confirm"` // spoken before queueing; %s = the intent's menu label
	QueueMessage        string   `yaml:"queue_message"`
	ConfidenceThreshold float64  `yaml:"confidence_threshold"`
	NoInputTimeout      Duration `yaml:"no_input_timeout"`
	MaxMisses           int      `yaml:"max_misses"`
	HumanIntent         string   `yaml:"human_intent"`
	// Flow is a flow file (see ivr.ParseFlow) relative to the config's
	// directory; empty: the built-in flow from the fields above.
	Flow string `yaml:"flow"`
	// KB is the knowledge-base directory relative to the config's
	// directory (markdown articles; one sub-directory per extra language).
	KB string `yaml:"kb"`
	// Languages beyond the default (English) one: the intents' examples
	// in that language and the synthesiser voice.
	Languages map[string]IVRLanguage `yaml:"languages"`
	// OutOfScopeExamples are things (English) callers say that are for no
	// intent. They train the classifier's out-of-scope class (text it puts
	// there is unknown: the caller is asked again) and stay out of the
	// recogniser's language model.
	OutOfScopeExamples []string `yaml:"out_of_scope_examples"`
	// TrainingData are files of labelled callers' utterances, relative to
	// the config's directory: one `intent<TAB>utterance` a line (ivr-eval's
	// format, so a test set, or the misrouted calls of GET
	// /api/v1/ivr/misroutes.tsv, can be added as they are),
	// '#' comments and blank lines ignored. They train the English intent
	// classifier only, like classifier_examples; lines labelled unknown
	// train its out-of-scope class.
	TrainingData []string `yaml:"training_data"`
}

// IVRLanguage is one extra IVR language.
type IVRLanguage struct {
	Voice   string              `yaml:"voice"`   // TTS voice, e.g. "es"
	Intents map[string][]string `yaml:"intents"` // intent name → examples in this language
}

// Intent is one thing callers ask for and where it goes.
type Intent struct {
	Name      string `yaml:"name"`
	Queue     string `yaml:"queue"`
	Priority  string `yaml:"priority"`
	DTMF      string `yaml:"dtmf"`
	MenuLabel string `yaml:"menu_label"`
	// Examples train the intent classifier and are also the intent's
	// phrases in the recogniser's domain language model.
	Examples []string `yaml:"examples"`
	// ClassifierExamples train the classifier only. The language model
	// learns word sequences from what it is given, and every phrase moves
	// its probabilities (a larger set once made espeak's "five eight two
	// one three" decode as 59213), so phrasings added for the classifier's
	// sake go here and leave what the recogniser hears unchanged.
	ClassifierExamples []string `yaml:"classifier_examples"`
}

// TrainingExamples is what the intent classifier learns the intent from:
// Examples, then ClassifierExamples.
func (in Intent) TrainingExamples() []string {
	out := make([]string, 0, len(in.Examples)+len(in.ClassifierExamples))
	out = append(out, in.Examples...)
	return append(out, in.ClassifierExamples...)
}

// Queue is where calls wait for agents with a skill.
type Queue struct {
	Name  string `yaml:"name"`
	Skill string `yaml:"skill"`
	// Retention overrides the top-level retention for this queue's calls.
	Retention *Retention `yaml:"retention"`
	// Strategy picks among free agents: longest_idle (default),
	// least_occupied, most_skilled or round_robin.
	Strategy string `yaml:"strategy"`
	// Steps relax the requirements as the wait grows; none = any proficiency.
	Steps []QueueStep `yaml:"steps"`
	// SLATarget is the answer-time target (service level; contacts near it
	// jump the line). 0 = none.
	SLATarget Duration `yaml:"sla_target"`
	// WrapUp overrides routing.wrap_up for this queue's calls; "0s" = none.
	WrapUp *Duration `yaml:"wrap_up"`
	// StickySeconds: the caller's last agent (within routing.sticky_days)
	// gets the first offer exclusively for this long. 0 = off.
	StickySeconds int `yaml:"sticky_seconds"`
	// AnnounceEvery tells a waiting caller their place in line and the
	// estimated wait this often (the first time after the hold message);
	// 0 = never.
	AnnounceEvery Duration `yaml:"announce_every"`
	// Callback offers waiting callers, with each announcement, to hang up
	// and be called back through a trunk keeping their place in line
	// (needs a trunk with an outbound uri).
	Callback bool `yaml:"callback"`
	// MaxWait ends the wait: the caller may leave a voicemail, which
	// becomes a ticket (OnMaxWait "voicemail", the default), or is told to
	// call later ("hangup"). 0 = wait for ever (overflow with steps).
	MaxWait   Duration `yaml:"max_wait"`
	OnMaxWait string   `yaml:"on_max_wait"`
}

// QueueStep is one stage of a queue's requirements: from After on, agents
// need MinProficiency (1-10; 0 keeps the previous step's) in the queue's
// skill, or, once an Overflow queue is named, that queue's skill.
type QueueStep struct {
	After          Duration `yaml:"after"`
	MinProficiency int      `yaml:"min_proficiency"`
	Overflow       string   `yaml:"overflow"`
}

// Routing settings.
type Routing struct {
	OfferTimeout Duration `yaml:"offer_timeout"`
	WrapUp       Duration `yaml:"wrap_up"`
	// StickyDays: the agent who handled the caller within this many days is
	// the preferred agent (queues' sticky_seconds). Default 30.
	StickyDays int `yaml:"sticky_days"`
}

// Agent is a demo agent created on first start when absent.
type Agent struct {
	Username string         `yaml:"username"`
	Password string         `yaml:"password"`
	Skills   map[string]int `yaml:"skills"`
	MaxCalls int            `yaml:"max_calls"`
	// Team groups agents for QA reports and supervisors ("" for none).
	Team string `yaml:"team"`
}

// Duration is a time.Duration written as "20s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses Go duration syntax.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("want a duration like \"20s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration like \"20s\", got %q", s)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// FieldError names a bad field.
type FieldError struct {
	Field string
	Why   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Why }

// Parse decodes YAML strictly (unknown fields are errors), applies defaults,
// and validates. name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	c := Config{Dir: DemoDir()}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	c.defaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return &c, nil
}

// Load reads the file at path, or the demo config when path is empty, then
// applies environment overrides (CONTACTD_*).
func Load(path string, getenv func(string) string) (*Config, error) {
	data, name := Demo(), "(built-in demo)"
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		data, name = b, path
	}
	c, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	if path != "" {
		c.Dir = overlay{dir: os.DirFS(filepath.Dir(path)), fallback: DemoDir()}
	}
	c.applyEnv(getenv)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s (after environment): %w", name, err)
	}
	return c, nil
}

func (c *Config) applyEnv(getenv func(string) string) {
	set := func(dst *string, key string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	set(&c.HTTP.Addr, "CONTACTD_HTTP_ADDR")
	set(&c.SIP.Addr, "CONTACTD_SIP_ADDR")
	set(&c.DataDir, "CONTACTD_DATA_DIR")
	set(&c.Database, "CONTACTD_DATABASE_URL")
	set(&c.AdminPassword, "CONTACTD_ADMIN_PASSWORD")
	c.applyPrivacyEnv(getenv)
}

// defaults fills every unset field; the only place defaults live.
func (c *Config) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.HTTP.Addr, "127.0.0.1:8080")
	def(&c.SIP.Addr, "0.0.0.0:5060")
	def(&c.DataDir, "./data")
	def(&c.ASR.Provider, "sphinx")
	def(&c.TTS.Provider, "espeak")
	def(&c.NLU.Provider, "embedded")
	def(&c.SIP.Realm, "contactd")
	if c.SIP.RTPPortMin == 0 && c.SIP.RTPPortMax == 0 {
		c.SIP.RTPPortMin, c.SIP.RTPPortMax = 20000, 29999
	}
	if c.SIP.MaxCalls == 0 {
		c.SIP.MaxCalls = 200
	}
	def(&c.IVR.Greeting, "Thanks for calling. In a few words, how can I help you today?")
	def(&c.IVR.Reprompt, "Sorry, I didn't catch that. Please tell me briefly what you are calling about, or say agent.")
	def(&c.IVR.MenuIntro, "Let's try the keypad.")
	def(&c.IVR.Confirm, "Thanks. Connecting you to %s.")
	def(&c.IVR.QueueMessage, "Please hold for the next available agent.")
	def(&c.IVR.HumanIntent, "human")
	if c.IVR.ConfidenceThreshold == 0 {
		c.IVR.ConfidenceThreshold = 0.5
	}
	if c.IVR.NoInputTimeout == 0 {
		c.IVR.NoInputTimeout = Duration(8 * time.Second)
	}
	if c.IVR.MaxMisses == 0 {
		c.IVR.MaxMisses = 2
	}
	if c.Routing.OfferTimeout == 0 {
		c.Routing.OfferTimeout = Duration(20 * time.Second)
	}
	if c.Routing.WrapUp == 0 {
		c.Routing.WrapUp = Duration(5 * time.Second)
	}
	if c.Routing.StickyDays == 0 {
		c.Routing.StickyDays = 30
	}
	for i := range c.Queues {
		def(&c.Queues[i].Strategy, "longest_idle")
	}
	if c.Shutdown == 0 {
		c.Shutdown = Duration(10 * time.Second)
	}
	if c.HTTP.SessionTTL == 0 {
		c.HTTP.SessionTTL = Duration(12 * time.Hour)
	}
	if c.HTTP.SessionIdle == 0 {
		c.HTTP.SessionIdle = Duration(time.Hour)
	}
	if c.Record == nil {
		t := true
		c.Record = &t
	}
	for i := range c.Intents {
		def(&c.Intents[i].Priority, "normal")
	}
	for i := range c.Agents {
		if c.Agents[i].MaxCalls == 0 {
			c.Agents[i].MaxCalls = 1
		}
	}
}

// Validate checks every field and returns the first problem as a *FieldError
// joined with the others.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, why string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Why: fmt.Sprintf(why, args...)})
	}
	if !strings.Contains(c.HTTP.Addr, ":") {
		bad("http.addr", "want host:port, got %q", c.HTTP.Addr)
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		bad("http.tls_cert", "set both tls_cert and tls_key for HTTPS, or neither")
	}
	if c.HTTP.SessionTTL < 0 || c.HTTP.SessionIdle < 0 || c.HTTP.SessionIdle > c.HTTP.SessionTTL {
		bad("http.session_idle", "want 0 < session_idle <= session_ttl, got %v and %v", c.HTTP.SessionIdle.D(), c.HTTP.SessionTTL.D())
	}
	for i, o := range c.HTTP.AllowedOrigins {
		if _, err := path.Match(o, ""); err != nil || o == "" || o == "*" {
			bad(fmt.Sprintf("http.allowed_origins[%d]", i), "want a host pattern like desk.example.com, got %q", o)
		}
	}
	if !strings.Contains(c.SIP.Addr, ":") {
		bad("sip.addr", "want host:port, got %q", c.SIP.Addr)
	}
	if c.SIP.RTPPortMin < 1024 || c.SIP.RTPPortMax > 65535 || c.SIP.RTPPortMin >= c.SIP.RTPPortMax {
		bad("sip.rtp_port_min", "want 1024 <= rtp_port_min < rtp_port_max <= 65535, got %d..%d", c.SIP.RTPPortMin, c.SIP.RTPPortMax)
	}
	if c.SIP.MaxCalls < 0 {
		bad("sip.max_calls", "must not be negative")
	}
	if c.SIP.TLSAddr != "" && !strings.Contains(c.SIP.TLSAddr, ":") {
		bad("sip.tls_addr", "want host:port, got %q", c.SIP.TLSAddr)
	}
	if c.SIP.TLSAddr != "" && (c.SIP.TLSCert == "" || c.SIP.TLSKey == "") {
		bad("sip.tls_cert", "tls_addr needs both tls_cert and tls_key")
	}
	if c.SIP.RequireSRTPOnTLS && c.SIP.TLSAddr == "" {
		bad("sip.require_srtp_on_tls", "needs sip.tls_addr (SRTP keys are only taken over TLS)")
	}
	trunkNames := map[string]bool{}
	for i, t := range c.SIP.Trunks {
		f := fmt.Sprintf("sip.trunks[%d]", i)
		switch {
		case t.Name == "":
			bad(f+".name", "must not be empty")
		case trunkNames[t.Name]:
			bad(f+".name", "%q is used twice", t.Name)
		}
		trunkNames[t.Name] = true
		for _, a := range t.Allow {
			if _, err := netip.ParsePrefix(a); err != nil {
				if _, err := netip.ParseAddr(a); err != nil {
					bad(f+".allow", "%q is not an IP address or CIDR", a)
				}
			}
		}
		if (t.Username == "") != (t.Password == "") {
			bad(f+".password", "username and password go together")
		}
		if u := t.Outbound.URI; u != "" && !strings.HasPrefix(u, "sip:") && !strings.HasPrefix(u, "sips:") {
			bad(f+".outbound.uri", "want a sip: URI, got %q", u)
		}
	}
	if c.IVR.ConfidenceThreshold < 0 || c.IVR.ConfidenceThreshold > 1 {
		bad("ivr.confidence_threshold", "must be between 0 and 1, got %v", c.IVR.ConfidenceThreshold)
	}
	if c.IVR.MaxMisses < 1 {
		bad("ivr.max_misses", "must be at least 1")
	}
	if strings.Count(c.IVR.Confirm, "%s") > 1 {
		bad("ivr.confirm", "may contain at most one %%s")
	}
	queues := map[string]bool{}
	for i, q := range c.Queues {
		f := fmt.Sprintf("queues[%d]", i)
		if q.AnnounceEvery.D() != 0 && q.AnnounceEvery.D() < 10*time.Second {
			bad(f+".announce_every", "want 0 (never) or at least 10s, got %s", q.AnnounceEvery.D())
		}
		if q.MaxWait.D() < 0 {
			bad(f+".max_wait", "must not be negative")
		}
		switch q.OnMaxWait {
		case "", "voicemail", "hangup":
		default:
			bad(f+".on_max_wait", "want voicemail or hangup, got %q", q.OnMaxWait)
		}
		switch {
		case q.Name == "":
			bad(f+".name", "must not be empty")
		case queues[q.Name]:
			bad(f+".name", "duplicate queue %q", q.Name)
		}
		if q.Skill == "" {
			bad(f+".skill", "must not be empty (queue %q)", q.Name)
		}
		queues[q.Name] = true
	}
	if c.Routing.StickyDays < 0 {
		bad("routing.sticky_days", "must not be negative")
	}
	for i, q := range c.Queues {
		f := fmt.Sprintf("queues[%d]", i)
		switch q.Strategy {
		case "longest_idle", "least_occupied", "most_skilled", "round_robin":
		default:
			bad(f+".strategy", "want longest_idle, least_occupied, most_skilled or round_robin, got %q", q.Strategy)
		}
		if q.SLATarget < 0 {
			bad(f+".sla_target", "must not be negative")
		}
		if q.WrapUp != nil && *q.WrapUp < 0 {
			bad(f+".wrap_up", "must not be negative")
		}
		if q.StickySeconds < 0 || q.StickySeconds > 3600 {
			bad(f+".sticky_seconds", "must be 0-3600, got %d", q.StickySeconds)
		}
		for j, st := range q.Steps {
			sf := fmt.Sprintf("%s.steps[%d]", f, j)
			if st.After < 0 || (j > 0 && st.After < q.Steps[j-1].After) {
				bad(sf+".after", "must not be negative or earlier than the step before")
			}
			if st.MinProficiency < 0 || st.MinProficiency > 10 {
				bad(sf+".min_proficiency", "must be 1-10 (0 keeps the previous step's), got %d", st.MinProficiency)
			}
			if st.Overflow != "" && (!queues[st.Overflow] || st.Overflow == q.Name) {
				bad(sf+".overflow", "names queue %q, which is not another queue in queues", st.Overflow)
			}
			if st.MinProficiency == 0 && st.Overflow == "" {
				bad(sf, "sets neither min_proficiency nor overflow")
			}
		}
	}
	if len(c.Intents) == 0 {
		bad("intents", "at least one intent is needed")
	}
	names, keys := map[string]bool{}, map[string]string{}
	for i, in := range c.Intents {
		f := fmt.Sprintf("intents[%d]", i)
		if in.Name == "" || in.Name == "unknown" {
			bad(f+".name", "must be set and not \"unknown\" (reserved), got %q", in.Name)
		}
		if names[in.Name] {
			bad(f+".name", "duplicate intent %q", in.Name)
		}
		names[in.Name] = true
		if !queues[in.Queue] {
			bad(f+".queue", "intent %q names queue %q, which is not in queues", in.Name, in.Queue)
		}
		switch in.Priority {
		case "low", "normal", "high", "urgent":
		default:
			bad(f+".priority", "want low, normal, high or urgent, got %q", in.Priority)
		}
		if in.DTMF != "" {
			if in.DTMF == "0" && in.Name != c.IVR.HumanIntent {
				bad(f+".dtmf", "key 0 always reaches an agent; only the human intent (%q) may use it", c.IVR.HumanIntent)
			} else if len(in.DTMF) != 1 || !strings.Contains("0123456789*#", in.DTMF) {
				bad(f+".dtmf", "want one key 0-9, * or #, got %q", in.DTMF)
			} else if other, dup := keys[in.DTMF]; dup {
				bad(f+".dtmf", "key %q is already used by intent %q", in.DTMF, other)
			}
			keys[in.DTMF] = in.Name
		}
		if len(in.Examples) < 3 {
			bad(f+".examples", "intent %q needs at least 3 examples, has %d", in.Name, len(in.Examples))
		}
	}
	switch c.NLU.Provider {
	case "embedded":
	case "openai":
		if c.NLU.Options["url"] == "" || c.NLU.Options["model"] == "" {
			bad("nlu.options", "provider openai needs url and model")
		}
		if t := c.NLU.Options["timeout"]; t != "" {
			if _, err := time.ParseDuration(t); err != nil {
				bad("nlu.options.timeout", "want a duration like \"2s\", got %q", t)
			}
		}
	default:
		bad("nlu.provider", "want embedded or openai, got %q", c.NLU.Provider)
	}
	langs := make([]string, 0, len(c.IVR.Languages))
	for l := range c.IVR.Languages {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		f := "ivr.languages." + l
		if l == "" || l == "en" {
			bad(f, "English is the default language; its examples are in intents")
		}
		in := make([]string, 0, len(c.IVR.Languages[l].Intents))
		for name := range c.IVR.Languages[l].Intents {
			in = append(in, name)
		}
		sort.Strings(in)
		if len(in) < 2 {
			bad(f+".intents", "need examples for at least 2 intents, have %d", len(in))
		}
		for _, name := range in {
			if !names[name] {
				bad(f+".intents."+name, "intent %q is not in intents", name)
			} else if n := len(c.IVR.Languages[l].Intents[name]); n < 2 {
				bad(f+".intents."+name, "needs at least 2 examples, has %d", n)
			}
		}
	}
	if n := len(c.IVR.OutOfScopeExamples); n == 1 {
		bad("ivr.out_of_scope_examples", "needs at least 2 examples (or none), has 1")
	}
	for i, name := range c.IVR.TrainingData {
		if !fs.ValidPath(name) || name == "." {
			bad(fmt.Sprintf("ivr.training_data[%d]", i), "want a file path relative to the config's directory, without .., got %q", name)
		}
	}
	if c.IVR.HumanIntent != "" && !names[c.IVR.HumanIntent] {
		bad("ivr.human_intent", "names intent %q, which is not in intents", c.IVR.HumanIntent)
	}
	users := map[string]bool{}
	for i, a := range c.Agents {
		f := fmt.Sprintf("agents[%d]", i)
		if !validUsername(a.Username) {
			bad(f+".username", "want 1-64 letters, digits, '.', '_' or '-', got %q", a.Username)
		}
		if users[a.Username] {
			bad(f+".username", "duplicate agent %q", a.Username)
		}
		users[a.Username] = true
		if len(a.Password) < 4 {
			bad(f+".password", "must be at least 4 characters")
		}
		if a.Team != "" && !ValidTeam(a.Team) {
			bad(f+".team", "want a lower-case name (a-z, 0-9, '_', '.', '-'), got %q", a.Team)
		}
		skills := make([]string, 0, len(a.Skills))
		for s := range a.Skills {
			skills = append(skills, s)
		}
		sort.Strings(skills)
		for _, s := range skills {
			if p := a.Skills[s]; p < 1 || p > 10 {
				bad(f+".skills."+s, "proficiency must be 1-10, got %d", p)
			}
		}
		if a.MaxCalls < 1 {
			bad(f+".max_calls", "must be at least 1")
		}
	}
	c.validateTickets(bad, names)
	c.validateQA(bad)
	c.validatePrivacy(bad)
	return errors.Join(errs...)
}

func validUsername(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// ValidUsername reports whether s can be a username.
func ValidUsername(s string) bool { return validUsername(s) }

// Intent returns the named intent.
func (c *Config) Intent(name string) (Intent, bool) {
	for _, in := range c.Intents {
		if in.Name == name {
			return in, true
		}
	}
	return Intent{}, false
}

// Queue returns the named queue.
func (c *Config) Queue(name string) (Queue, bool) {
	for _, q := range c.Queues {
		if q.Name == name {
			return q, true
		}
	}
	return Queue{}, false
}

// ClassifierExamples is what the English intent classifier is trained on:
// every intent's TrainingExamples and, under "unknown", the
// OutOfScopeExamples, then the lines of the TrainingData files (read from
// Dir). A bad file is an error naming the file, the line and why.
func (c *Config) ClassifierExamples() (map[string][]string, error) {
	m := make(map[string][]string, len(c.Intents)+1)
	for _, in := range c.Intents {
		m[in.Name] = in.TrainingExamples()
	}
	if len(c.IVR.OutOfScopeExamples) > 0 {
		m["unknown"] = append([]string(nil), c.IVR.OutOfScopeExamples...)
	}
	for i, name := range c.IVR.TrainingData {
		if err := c.readTrainingData(name, m); err != nil {
			return nil, fmt.Errorf("ivr.training_data[%d]: %w", i, err)
		}
	}
	return m, nil
}

// maxTrainingData bounds one training file: the classifier trains at
// start-up, and a few thousand lines already take seconds.
const maxTrainingData = 4 << 20

// readTrainingData adds the lines of one TrainingData file to m.
func (c *Config) readTrainingData(name string, m map[string][]string) error {
	if c.Dir == nil {
		return fmt.Errorf("%s: no config directory", name)
	}
	f, err := c.Dir.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTrainingData+1))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxTrainingData {
		return fmt.Errorf("%s: larger than %d bytes", name, maxTrainingData)
	}
	body := strings.TrimPrefix(string(data), "\ufeff") // a byte-order mark from an editor
	for i, line := range strings.Split(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		label, text, ok := strings.Cut(line, "\t")
		label, text = strings.TrimSpace(label), strings.TrimSpace(text)
		switch {
		case !ok:
			return fmt.Errorf("%s:%d: want intent<TAB>utterance, found no tab", name, i+1)
		case text == "":
			return fmt.Errorf("%s:%d: intent %q has no utterance", name, i+1, label)
		case !utf8.ValidString(text):
			return fmt.Errorf("%s:%d: not UTF-8", name, i+1)
		}
		if _, known := m[label]; !known && label != "unknown" {
			return fmt.Errorf("%s:%d: %q is not an intent (nor unknown)", name, i+1, label)
		}
		m[label] = append(m[label], text)
	}
	return nil
}

// Phrases is every intent's Examples (not ClassifierExamples), for
// recognisers' language models.
func (c *Config) Phrases() []string {
	var p []string
	for _, in := range c.Intents {
		p = append(p, in.Examples...)
	}
	return p
}

// Tickets configures the ticket writer and the helpdesk.
type Tickets struct {
	// PriorityRules decide a ticket's priority (the highest rule that
	// holds wins; none: the intent's priority). Unset: built-in rules
	// (negative → high, complaint/cancel → high, legal words, outage and
	// VIP → urgent). An angry caller is never below high either way.
	PriorityRules []PriorityRule `yaml:"priority_rules"`
	// RepeatDays: a call from the same customer about the same category
	// within this many days is added to the open ticket. Default 7; -1 off.
	RepeatDays int `yaml:"repeat_days"`
	// SLA targets and the business hours their clocks run in.
	SLA TicketSLA `yaml:"sla"`
	// LLM writes subjects and summaries with an OpenAI-compatible chat
	// endpoint: provider embedded (default) or openai {url, model,
	// api_key, timeout}.
	LLM Provider `yaml:"llm"`
	// Redact is what transcripts (live and stored) and tickets have
	// masked beyond card numbers, CVV codes and national IDs, which
	// always are.
	Redact TicketRedact `yaml:"redact"`
}

// TicketRedact turns on optional redaction.
type TicketRedact struct {
	// Emails masks e-mail addresses, typed or spoken; the ticket then has
	// no e-mail entity.
	Emails bool `yaml:"emails"`
}

// PriorityRule is {if: {sentiment, keywords, categories, vip, repeat}, set: priority}.
type PriorityRule struct {
	If  PriorityCondition `yaml:"if"`
	Set string            `yaml:"set"`
}

// PriorityCondition holds when every field that is set holds.
type PriorityCondition struct {
	Sentiment  string   `yaml:"sentiment"`  // positive | neutral | negative
	Keywords   []string `yaml:"keywords"`   // any said by caller or agent
	Categories []string `yaml:"categories"` // intent names
	VIP        *bool    `yaml:"vip"`
	Repeat     *bool    `yaml:"repeat"`
}

// TicketSLA is the SLA targets by priority and the calendar.
type TicketSLA struct {
	Timezone string            `yaml:"timezone"`
	Hours    map[string]string `yaml:"hours"` // as the IVR flow's: "mon-fri": "09:00-17:00"; none: 24x7
	Holidays []string          `yaml:"holidays"`
	// Targets by priority; unset priorities take the defaults (urgent
	// 30m/4h, high 1h/8h, normal 4h/24h, low 8h/40h of business time).
	Targets map[string]SLATarget `yaml:"targets"`
}

// SLATarget is the first-response and resolution time in business time.
type SLATarget struct {
	FirstResponse Duration `yaml:"first_response"`
	Resolution    Duration `yaml:"resolution"`
}

// ValidTeam reports whether name is a team name: lower case letters,
// digits, '_', '.' and '-', at most 64, starting with a letter or digit.
func ValidTeam(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case i > 0 && (r == '_' || r == '.' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// Webhook is an endpoint told about ticket events, signed with Secret
// (HMAC-SHA256). Events empty: all (ticket.created, ticket.updated,
// ticket.sla_breached).
type Webhook struct {
	URL    string   `yaml:"url"`
	Secret string   `yaml:"secret"`
	Events []string `yaml:"events"`
}

func (c *Config) validateTickets(bad func(field, why string, args ...any), intents map[string]bool) {
	validPrio := func(p string) bool { return p == "low" || p == "normal" || p == "high" || p == "urgent" }
	for i, r := range c.Tickets.PriorityRules {
		f := fmt.Sprintf("tickets.priority_rules[%d]", i)
		if !validPrio(r.Set) {
			bad(f+".set", "want low, normal, high or urgent, got %q", r.Set)
		}
		switch r.If.Sentiment {
		case "", "positive", "neutral", "negative":
		default:
			bad(f+".if.sentiment", "want positive, neutral or negative, got %q", r.If.Sentiment)
		}
		for j, k := range r.If.Keywords {
			if strings.TrimSpace(k) == "" {
				bad(fmt.Sprintf("%s.if.keywords[%d]", f, j), "must not be empty")
			}
		}
		for j, cat := range r.If.Categories {
			if !intents[cat] && cat != "unknown" {
				bad(fmt.Sprintf("%s.if.categories[%d]", f, j), "%q is not in intents", cat)
			}
		}
		if r.If.Sentiment == "" && len(r.If.Keywords) == 0 && len(r.If.Categories) == 0 && r.If.VIP == nil && r.If.Repeat == nil {
			bad(f+".if", "empty condition: it would hold for every ticket")
		}
	}
	if c.Tickets.RepeatDays < -1 {
		bad("tickets.repeat_days", "want days (0: default 7) or -1 (off), got %d", c.Tickets.RepeatDays)
	}
	sla := c.Tickets.SLA
	if sla.Timezone != "" {
		if _, err := time.LoadLocation(sla.Timezone); err != nil {
			bad("tickets.sla.timezone", "unknown time zone %q (want an IANA name like Europe/London)", sla.Timezone)
		}
	}
	for _, k := range sortedKeys(sla.Hours) {
		if !validHours(k, sla.Hours[k]) {
			bad("tickets.sla.hours."+k, "want days like mon-fri and times like \"09:00-17:00\" (comma-separated, or closed), got %q: %q", k, sla.Hours[k])
		}
	}
	for i, h := range sla.Holidays {
		if _, err := time.Parse("2006-01-02", h); err != nil {
			bad(fmt.Sprintf("tickets.sla.holidays[%d]", i), "want a date like 2025-12-25, got %q", h)
		}
	}
	for _, p := range sortedKeys(sla.Targets) {
		t := sla.Targets[p]
		if !validPrio(p) {
			bad("tickets.sla.targets."+p, "want a priority: low, normal, high or urgent")
		}
		if t.FirstResponse < 0 || t.Resolution < 0 {
			bad("tickets.sla.targets."+p, "durations must not be negative")
		}
	}
	switch c.Tickets.LLM.Provider {
	case "", "embedded":
	case "openai":
		if c.Tickets.LLM.Options["url"] == "" || c.Tickets.LLM.Options["model"] == "" {
			bad("tickets.llm.options", "provider openai needs url and model")
		}
		if t := c.Tickets.LLM.Options["timeout"]; t != "" {
			if _, err := time.ParseDuration(t); err != nil {
				bad("tickets.llm.options.timeout", "want a duration like \"1500ms\", got %q", t)
			}
		}
	default:
		bad("tickets.llm.provider", "want embedded or openai, got %q", c.Tickets.LLM.Provider)
	}
	for i, w := range c.Webhooks {
		f := fmt.Sprintf("webhooks[%d]", i)
		if !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") {
			bad(f+".url", "want an http(s) URL, got %q", w.URL)
		}
		if len(w.Secret) < 16 {
			bad(f+".secret", "want at least 16 characters (it signs the payloads)")
		}
		for j, e := range w.Events {
			if e != "ticket.created" && e != "ticket.updated" && e != "ticket.sla_breached" {
				bad(fmt.Sprintf("%s.events[%d]", f, j), "want ticket.created, ticket.updated or ticket.sla_breached, got %q", e)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validHours checks one business-hours entry in the IVR's format.
func validHours(days, spans string) bool {
	wd := map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}
	for _, part := range strings.Split(days, ",") {
		a, b, isRange := strings.Cut(strings.TrimSpace(strings.ToLower(part)), "-")
		if !wd[a] || (isRange && !wd[b]) {
			return false
		}
	}
	spans = strings.TrimSpace(spans)
	if spans == "closed" {
		return true
	}
	minutes := func(s string) (int, bool) {
		h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
		var hh, mm int
		if _, err := fmt.Sscanf(h+" "+m, "%d %d", &hh, &mm); err != nil || !ok || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 1440 {
			return 0, false
		}
		return hh*60 + mm, true
	}
	for _, part := range strings.Split(spans, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		from, ok1 := minutes(a)
		to, ok2 := minutes(b)
		if !ok || !ok1 || !ok2 || from >= to {
			return false
		}
	}
	return true
}
