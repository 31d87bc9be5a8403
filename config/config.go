// Package config is contactd's one configuration struct: YAML with the demo
// built in, environment overrides, defaults in one place, and a Validate that
// names the bad field and why.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed demo.yaml
var demoYAML []byte

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
	Intents  []Intent `yaml:"intents"`
	Queues   []Queue  `yaml:"queues"`
	Routing  Routing  `yaml:"routing"`
	Agents   []Agent  `yaml:"agents"`
	Shutdown Duration `yaml:"shutdown_grace"`
	Record   *bool    `yaml:"record"`

	// AdminPassword comes only from the environment (CONTACTD_ADMIN_PASSWORD).
	AdminPassword string `yaml:"-"`
}

// HTTP settings.
type HTTP struct {
	Addr string `yaml:"addr"`
}

// SIP settings.
type SIP struct {
	Addr       string   `yaml:"addr"`     // host:port, UDP and TCP
	MediaIP    string   `yaml:"media_ip"` // address put in SDP; empty: the address the INVITE arrived on
	RTPPortMin int      `yaml:"rtp_port_min"`
	RTPPortMax int      `yaml:"rtp_port_max"`
	MaxCalls   int      `yaml:"max_calls"`
	RingDelay  Duration `yaml:"ring_delay"`
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
}

// Intent is one thing callers ask for and where it goes.
type Intent struct {
	Name      string   `yaml:"name"`
	Queue     string   `yaml:"queue"`
	Priority  string   `yaml:"priority"`
	DTMF      string   `yaml:"dtmf"`
	MenuLabel string   `yaml:"menu_label"`
	Examples  []string `yaml:"examples"`
}

// Queue is where calls wait for agents with a skill.
type Queue struct {
	Name  string `yaml:"name"`
	Skill string `yaml:"skill"`
}

// Routing settings.
type Routing struct {
	OfferTimeout Duration `yaml:"offer_timeout"`
	WrapUp       Duration `yaml:"wrap_up"`
}

// Agent is a demo agent created on first start when absent.
type Agent struct {
	Username string         `yaml:"username"`
	Password string         `yaml:"password"`
	Skills   map[string]int `yaml:"skills"`
	MaxCalls int            `yaml:"max_calls"`
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
	var c Config
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
	if c.Shutdown == 0 {
		c.Shutdown = Duration(10 * time.Second)
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
	if !strings.Contains(c.SIP.Addr, ":") {
		bad("sip.addr", "want host:port, got %q", c.SIP.Addr)
	}
	if c.SIP.RTPPortMin < 1024 || c.SIP.RTPPortMax > 65535 || c.SIP.RTPPortMin >= c.SIP.RTPPortMax {
		bad("sip.rtp_port_min", "want 1024 <= rtp_port_min < rtp_port_max <= 65535, got %d..%d", c.SIP.RTPPortMin, c.SIP.RTPPortMax)
	}
	if c.SIP.MaxCalls < 0 {
		bad("sip.max_calls", "must not be negative")
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

// Phrases is every example phrase, for recognisers' language models.
func (c *Config) Phrases() []string {
	var p []string
	for _, in := range c.Intents {
		p = append(p, in.Examples...)
	}
	return p
}
