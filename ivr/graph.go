package ivr

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/contactd/contactd/hours"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // flows name time zones; do not depend on the host's zoneinfo

	"gopkg.in/yaml.v3"
)

// Kind is what a flow node does.
type Kind string

// Node kinds.
const (
	KindPrompt   Kind = "prompt"   // say something, go on
	KindBranch   Kind = "branch"   // say nothing, choose by conditions
	KindAsk      Kind = "ask"      // ask an open question (intent) or for one slot
	KindMenu     Kind = "menu"     // keypad menu (speech still works)
	KindAnswer   Kind = "answer"   // speak a knowledge-base passage, ask if it helped
	KindTransfer Kind = "transfer" // end the flow: queue for an agent
	KindHangup   Kind = "hangup"   // end the flow: say goodbye and hang up
)

// Slot types an ask node can request.
const (
	SlotOrderNumber   = "order_number"
	SlotAccountNumber = "account_number"
	SlotDate          = "date"
	SlotAmount        = "amount"
	SlotYesNo         = "yes_no"
)

var slotTypes = map[string]bool{SlotOrderNumber: true, SlotAccountNumber: true, SlotDate: true, SlotAmount: true, SlotYesNo: true}

// ErrBadFlow is wrapped by every flow validation error.
var ErrBadFlow = errors.New("ivr: bad flow")

// FlowError is one problem in a flow file: where and why.
type FlowError struct {
	File  string
	Line  int    // 0 when unknown
	Node  string // "" for the file's top level
	Field string // e.g. "next[1].goto"
	Why   string
}

func (e *FlowError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Node != "" {
		fmt.Fprintf(&b, "node %q: ", e.Node)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Why)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrBadFlow) true.
func (e *FlowError) Unwrap() error { return ErrBadFlow }

// Duration is a time.Duration written "8s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses Go duration syntax.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration like \"8s\", got %q", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Text is a prompt: one string for every language, or one per language
// ({en: "...", es: "..."}).
type Text map[string]string

// UnmarshalYAML accepts a string or a map of language to string.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*t = Text{"": n.Value}
		return nil
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return err
		}
		*t = m
		return nil
	}
	return fmt.Errorf("line %d: want a string or a map of language to string", n.Line)
}

// In returns the text in lang, else the text for all languages, else the
// fallback language's.
func (t Text) In(lang, fallback string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	if s, ok := t[""]; ok {
		return s
	}
	return t[fallback]
}

// StringList is one string or a list of them.
type StringList []string

// UnmarshalYAML accepts "a" or [a, b].
func (s *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = StringList{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
	}
	*s = l
	return nil
}

// Edge is one way out of a node: every condition set must hold (an edge
// with none is the default). Edges are tried in order.
type Edge struct {
	Intent   StringList `yaml:"intent"`         // the caller's intent is one of these ("unknown" allowed)
	Slot     string     `yaml:"slot"`           // this slot is filled
	Missing  string     `yaml:"missing"`        // this slot is not filled
	Open     *bool      `yaml:"open"`           // within business hours and not a holiday
	Holiday  *bool      `yaml:"holiday"`        // today is a holiday
	VIP      *bool      `yaml:"vip"`            // the caller's number is on the VIP list
	Known    *bool      `yaml:"known_customer"` // the caller's number belongs to a customer
	Language string     `yaml:"language"`       // the call's language
	Goto     string     `yaml:"goto"`
}

func (e Edge) unconditional() bool {
	return len(e.Intent) == 0 && e.Slot == "" && e.Missing == "" && e.Open == nil && e.Holiday == nil &&
		e.VIP == nil && e.Known == nil && e.Language == ""
}

// Edges is a node's way out: a node name, or a list of Edge.
type Edges []Edge

// UnmarshalYAML accepts "node" or a list of edges.
func (es *Edges) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*es = Edges{{Goto: n.Value}}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: want a node name or a list of {conditions..., goto}", n.Line)
	}
	var out Edges
	for _, item := range n.Content {
		var e Edge
		if err := decodeStrict(item, &e); err != nil {
			return err
		}
		out = append(out, e)
	}
	*es = out
	return nil
}

// Option is one key of a menu: go to a node, choose an intent (then the
// menu's next edges decide), and/or switch language.
type Option struct {
	Goto     string `yaml:"goto"`
	Intent   string `yaml:"intent"`
	Language string `yaml:"language"`
	Label    Text   `yaml:"label"` // read out when the menu has no say text
}

// UnmarshalYAML decodes strictly (unknown fields are errors).
func (o *Option) UnmarshalYAML(n *yaml.Node) error {
	type plain Option
	var p plain
	if err := decodeStrict(n, &p); err != nil {
		return err
	}
	*o = Option(p)
	return nil
}

// decodeStrict decodes n into v rejecting unknown fields, which
// yaml.Node.Decode does not.
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("line %d: %s", n.Line, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// Node is one step of a flow. Which fields apply depends on Kind; the
// validator rejects the others.
type Node struct {
	ID   string `yaml:"-"`
	Kind Kind   `yaml:"kind"`
	// Say is the prompt (prompt, ask, menu, transfer, hangup; answer: said
	// before the passage).
	Say Text `yaml:"say"`
	// Reprompt is said instead of Say after a miss (ask, menu).
	Reprompt Text `yaml:"reprompt"`
	// NoInput is how long to wait for the caller (ask, menu, answer).
	NoInput Duration `yaml:"no_input"`
	// Retries is how many misses (no input, no match) are followed by
	// another try before OnFail (ask, menu).
	Retries *int `yaml:"retries"`
	// Next chooses the following node (prompt, branch, ask, menu).
	Next Edges `yaml:"next"`
	// OnFail is where a caller goes after Retries+1 misses (ask, menu);
	// unset: a human at raised priority, except for a slot question, which
	// goes on to Next without the value.
	OnFail string `yaml:"on_fail"`
	// Slot makes an ask node ask for one value, spoken or keyed (digits
	// then #); it is skipped when the slot is already filled.
	Slot string `yaml:"slot"`
	// Confirm is the low-confidence question for an intent ask node; %s is
	// the intent's label. Empty: no confirmation, low confidence is a miss.
	Confirm Text `yaml:"confirm"`
	// Answer names an answer node tried when an ask node hears speech that
	// fits no intent: if the knowledge base has a good passage for it, the
	// caller hears it instead of a reprompt.
	Answer string `yaml:"answer"`
	// Options are a menu's keys ("1".."9", "*", "#"); 0 is always an agent.
	Options map[string]Option `yaml:"options"`
	// FromIntents makes a menu's options the intents' keypad keys.
	FromIntents bool `yaml:"from_intents"`
	// Query is an answer node's fixed question; empty: what the caller said.
	Query string `yaml:"query"`
	// MinScore is the knowledge-base score (0-1) an answer needs.
	MinScore float64 `yaml:"min_score"`
	// Check is asked after the passage ("Did that answer your question?").
	Check Text `yaml:"check"`
	// Yes, No and NoMatch are an answer node's ways out: the caller was
	// helped, was not, or no passage was good enough (default No).
	Yes     string `yaml:"yes"`
	No      string `yaml:"no"`
	NoMatch string `yaml:"no_match"`
	// Queue, Priority and Intent make a transfer; empty Queue and Priority
	// come from the intent's route.
	Queue    string `yaml:"queue"`
	Priority string `yaml:"priority"`
	Intent   string `yaml:"intent"`
	// Language switches the call's language (prompt, branch).
	Language string `yaml:"language"`

	line int
}

// LanguageChoice says how a call's language is chosen.
type LanguageChoice struct {
	Default string            `yaml:"default"` // "en" when unset
	DID     map[string]string `yaml:"did"`     // dialled number → language
	// Detect switches language when the first utterance is clearly in
	// another known language.
	Detect bool `yaml:"detect"`
}

// Defaults apply to every node that does not set its own.
type Defaults struct {
	NoInput      Duration `yaml:"no_input"`      // unset: FlowConfig.NoInput, else 8s
	Retries      *int     `yaml:"retries"`       // 1
	Threshold    float64  `yaml:"threshold"`     // intent accepted at or above (0.3)
	ConfirmBelow float64  `yaml:"confirm_below"` // accepted intents below this are confirmed (0 = never)
	MinScore     float64  `yaml:"min_score"`     // knowledge-base score for an answer (0.35)
	// Frustration is the frustration score that sends a caller to a human
	// at raised priority: each miss is 1, each request for an agent 1,
	// swearing 2. Default 3.
	Frustration int `yaml:"frustration_limit"`
	// EarlyTurn is the least intent confidence at which a pause ends the
	// caller's turn (with a recogniser that reports the words so far at
	// pauses; see TurnListener), before the end-of-speech silence. 0: the
	// default, 0.6 or confirm_below + 0.15 if higher; "off": never.
	EarlyTurn EarlyTurn `yaml:"early_turn"`
}

// EarlyTurn is a confidence between 0 and 1, or "off" (stored as 2).
type EarlyTurn float64

// UnmarshalYAML accepts a number or "off".
func (e *EarlyTurn) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && strings.EqualFold(strings.TrimSpace(n.Value), "off") {
		*e = 2
		return nil
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		return fmt.Errorf("line %d: early_turn: want a confidence between 0 and 1, or off", n.Line)
	}
	*e = EarlyTurn(f)
	return nil
}

// Flow is a validated call-flow graph; Run interprets it.
type Flow struct {
	Name      string            `yaml:"-"`
	Start     string            `yaml:"start"`
	Human     string            `yaml:"human"` // node for 0 and "agent"; unset: transfer by the human intent's route
	Timezone  string            `yaml:"timezone"`
	Hours     map[string]string `yaml:"hours"`    // "mon-fri": "08:00-20:00", "sat": "09:00-13:00, 14:00-17:00", "sun": closed
	Holidays  []string          `yaml:"holidays"` // "2025-12-25"
	VIP       []string          `yaml:"vip"`      // caller numbers
	Languages LanguageChoice    `yaml:"languages"`
	Defaults  Defaults          `yaml:"defaults"`
	Nodes     map[string]*Node  `yaml:"nodes"`

	loc      *time.Location
	hours    map[time.Weekday][]span
	holidays map[string]bool
	vip      map[string]bool
}

type span = hours.Span // minutes since midnight, [From, To)

// FlowEnv is what a flow may refer to; names outside it are errors.
type FlowEnv struct {
	Intents   []string // configured intent names
	Queues    []string // configured queue names
	Languages []string // languages with prompts and a classifier; empty: only the flow's default
	// Entries are nodes calls may start in besides start (the trunks' DID
	// tables name them); each must exist, and what they reach counts as
	// reachable.
	Entries []string
}

// LoadFlow reads and validates the flow file at path in fsys.
func LoadFlow(fsys fs.FS, path string, env FlowEnv) (*Flow, error) {
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("ivr: flow: %w", err)
	}
	return ParseFlow(path, data, env)
}

// ParseFlow decodes a flow strictly and validates it. Every problem is a
// *FlowError (file, line, node, field, why); all of them are returned,
// joined.
func ParseFlow(file string, data []byte, env FlowEnv) (*Flow, error) {
	var f Flow
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FlowError{File: file, Why: "empty flow"}
		}
		why := strings.TrimPrefix(err.Error(), "yaml: ")
		var te *yaml.TypeError
		if errors.As(err, &te) {
			why = strings.Join(te.Errors, "; ")
		}
		return nil, &FlowError{File: file, Why: why}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil && len(root.Content) > 0 {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value != "nodes" {
				continue
			}
			nodes := m.Content[i+1]
			for j := 0; j+1 < len(nodes.Content); j += 2 {
				if n := f.Nodes[nodes.Content[j].Value]; n != nil {
					n.line = nodes.Content[j].Line
				}
			}
		}
	}
	f.Name = file
	if err := f.compile(env); err != nil {
		return nil, err
	}
	return &f, nil
}

// compile fills defaults, checks everything and builds the lookup tables.
func (f *Flow) compile(env FlowEnv) error {
	var errs []error
	top := func(field, why string, args ...any) {
		errs = append(errs, &FlowError{File: f.Name, Field: field, Why: fmt.Sprintf(why, args...)})
	}
	if f.Languages.Default == "" {
		f.Languages.Default = "en"
	}
	d := &f.Defaults
	if d.Retries == nil {
		one := 1
		d.Retries = &one
	}
	if d.Threshold == 0 {
		d.Threshold = 0.3
	}
	if d.MinScore == 0 {
		d.MinScore = 0.35
	}
	if d.Frustration == 0 {
		d.Frustration = 3
	}
	for field, v := range map[string]float64{"defaults.threshold": d.Threshold, "defaults.confirm_below": d.ConfirmBelow, "defaults.min_score": d.MinScore} {
		if v < 0 || v > 1 {
			top(field, "must be between 0 and 1, got %v", v)
		}
	}
	if d.EarlyTurn < 0 || (d.EarlyTurn > 1 && d.EarlyTurn != 2) {
		top("defaults.early_turn", "must be between 0 and 1 or off, got %v", float64(d.EarlyTurn))
	}
	if d.Frustration < 1 {
		top("defaults.frustration_limit", "must be at least 1, got %d", d.Frustration)
	}
	checkWait := func(node, field string, v Duration, line int) {
		if v != 0 && (v.d() < 500*time.Millisecond || v.d() > time.Minute) {
			errs = append(errs, &FlowError{File: f.Name, Line: line, Node: node, Field: field, Why: fmt.Sprintf("want between 500ms and 1m, got %s", v.d())})
		}
	}
	checkWait("", "defaults.no_input", d.NoInput, 0)
	if *d.Retries < 0 || *d.Retries > 5 {
		top("defaults.retries", "want 0 to 5, got %d", *d.Retries)
	}

	langs := map[string]bool{f.Languages.Default: true}
	for _, l := range env.Languages {
		langs[l] = true
	}
	if len(env.Languages) > 0 && !contains(env.Languages, f.Languages.Default) {
		top("languages.default", "language %q has no intents configured (have %s)", f.Languages.Default, strings.Join(env.Languages, ", "))
	}
	for _, num := range sortedKeys(f.Languages.DID) {
		if l := f.Languages.DID[num]; !langs[l] {
			top("languages.did."+num, "unknown language %q (have %s)", l, strings.Join(sortedKeys(langs), ", "))
		}
	}

	// Time: zone, hours, holidays.
	f.loc = time.UTC
	if f.Timezone != "" {
		loc, err := time.LoadLocation(f.Timezone)
		if err != nil {
			top("timezone", "unknown time zone %q (want an IANA name like Europe/London)", f.Timezone)
		} else {
			f.loc = loc
		}
	}
	f.hours = map[time.Weekday][]span{}
	for _, key := range sortedKeys(f.Hours) {
		days, err := hours.ParseDays(key)
		if err != nil {
			top("hours."+key, "%v", err)
			continue
		}
		spans, err := hours.ParseSpans(f.Hours[key])
		if err != nil {
			top("hours."+key, "%v", err)
			continue
		}
		for _, wd := range days {
			if _, dup := f.hours[wd]; dup {
				top("hours."+key, "%s is already given by another entry", time.Weekday(wd))
			}
			f.hours[wd] = spans
		}
	}
	f.holidays = map[string]bool{}
	for i, h := range f.Holidays {
		if _, err := time.Parse("2006-01-02", h); err != nil {
			top(fmt.Sprintf("holidays[%d]", i), "want a date like 2025-12-25, got %q", h)
		}
		f.holidays[h] = true
	}
	f.vip = map[string]bool{}
	for i, v := range f.VIP {
		if strings.TrimSpace(v) == "" {
			top(fmt.Sprintf("vip[%d]", i), "empty number")
		}
		f.vip[v] = true
	}

	// Nodes.
	if len(f.Nodes) == 0 {
		top("nodes", "a flow needs at least one node")
		return errors.Join(errs...)
	}
	exists := func(id string) bool { return f.Nodes[id] != nil }
	if f.Start == "" {
		top("start", "must name the first node")
	} else if !exists(f.Start) {
		top("start", "node %q does not exist", f.Start)
	}
	if f.Human != "" && !exists(f.Human) {
		top("human", "node %q does not exist", f.Human)
	}
	intents := map[string]bool{Unknown: true}
	for _, in := range env.Intents {
		intents[in] = true
	}
	queues := map[string]bool{}
	for _, q := range env.Queues {
		queues[q] = true
	}
	for _, id := range sortedKeys(f.Nodes) {
		n := f.Nodes[id]
		if n == nil {
			top("nodes."+id, "empty node")
			continue
		}
		n.ID = id
		errs = append(errs, f.checkNode(n, intents, queues, langs, checkWait)...)
	}
	for _, e := range env.Entries {
		if f.Nodes[e] == nil {
			top("entries", "DID entry %q is not a node of this flow", e)
		}
	}
	if len(errs) == 0 {
		errs = append(errs, f.checkReachable(env.Entries)...)
	}
	return errors.Join(errs...)
}

// fieldsOf lists the fields each kind takes (besides kind).
var fieldsOf = map[Kind][]string{
	KindPrompt:   {"say", "next", "language"},
	KindBranch:   {"next", "language"},
	KindAsk:      {"say", "reprompt", "no_input", "retries", "next", "on_fail", "slot", "confirm", "answer"},
	KindMenu:     {"say", "reprompt", "no_input", "retries", "next", "on_fail", "options", "from_intents"},
	KindAnswer:   {"say", "no_input", "query", "min_score", "check", "yes", "no", "no_match"},
	KindTransfer: {"say", "queue", "priority", "intent"},
	KindHangup:   {"say"},
}

// setFields lists which of a node's fields are set, by YAML name.
func (n *Node) setFields() []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("say", len(n.Say) > 0)
	add("reprompt", len(n.Reprompt) > 0)
	add("no_input", n.NoInput != 0)
	add("retries", n.Retries != nil)
	add("next", len(n.Next) > 0)
	add("on_fail", n.OnFail != "")
	add("slot", n.Slot != "")
	add("confirm", len(n.Confirm) > 0)
	add("answer", n.Answer != "")
	add("options", len(n.Options) > 0)
	add("from_intents", n.FromIntents)
	add("query", n.Query != "")
	add("min_score", n.MinScore != 0)
	add("check", len(n.Check) > 0)
	add("yes", n.Yes != "")
	add("no", n.No != "")
	add("no_match", n.NoMatch != "")
	add("queue", n.Queue != "")
	add("priority", n.Priority != "")
	add("intent", n.Intent != "")
	add("language", n.Language != "")
	return out
}

func (f *Flow) checkNode(n *Node, intents, queues, langs map[string]bool, checkWait func(string, string, Duration, int)) []error {
	var errs []error
	bad := func(field, why string, args ...any) {
		errs = append(errs, &FlowError{File: f.Name, Line: n.line, Node: n.ID, Field: field, Why: fmt.Sprintf(why, args...)})
	}
	allowed, ok := fieldsOf[n.Kind]
	if !ok {
		bad("kind", "want prompt, branch, ask, menu, answer, transfer or hangup, got %q", n.Kind)
		return errs
	}
	for _, fld := range n.setFields() {
		if !contains(allowed, fld) {
			bad(fld, "a %s node does not take %s (it takes %s)", n.Kind, fld, strings.Join(allowed, ", "))
		}
	}
	ref := func(field, id string, kinds ...Kind) {
		if id == "" {
			return
		}
		t := f.Nodes[id]
		switch {
		case t == nil:
			bad(field, "node %q does not exist", id)
		case len(kinds) > 0 && !containsKind(kinds, t.Kind):
			bad(field, "node %q is a %s node, want %s", id, t.Kind, kinds[0])
		}
	}
	text := func(field string, t Text, required bool) {
		if required && len(t) == 0 {
			bad(field, "a %s node needs %s", n.Kind, field)
		}
		if _, all := t[""]; all || len(t) == 0 {
			return
		}
		for l := range langs {
			if _, ok := t[l]; !ok {
				bad(field, "no text for language %q", l)
			}
		}
		for _, l := range sortedKeys(t) {
			if !langs[l] {
				bad(field+"."+l, "unknown language %q", l)
			}
		}
	}
	text("say", n.Say, n.Kind == KindPrompt || (n.Kind == KindAsk && n.Slot != "") || (n.Kind == KindMenu && len(n.Options) > 0 && !n.FromIntents && !optionsLabelled(n.Options)))
	if n.Kind == KindAsk && n.Slot == "" && len(n.Say) == 0 {
		bad("say", "an ask node needs say (the question)")
	}
	text("reprompt", n.Reprompt, false)
	text("confirm", n.Confirm, false)
	text("check", n.Check, false)
	for l, s := range n.Confirm {
		if strings.Count(s, "%s") > 1 {
			bad("confirm", "may contain at most one %%s (language %q)", l)
		}
	}
	checkWait(n.ID, "no_input", n.NoInput, n.line)
	if n.Retries != nil && (*n.Retries < 0 || *n.Retries > 5) {
		bad("retries", "want 0 to 5, got %d", *n.Retries)
	}
	if n.MinScore < 0 || n.MinScore > 1 {
		bad("min_score", "must be between 0 and 1, got %v", n.MinScore)
	}
	if n.Language != "" && !langs[n.Language] {
		bad("language", "unknown language %q", n.Language)
	}
	if n.Slot != "" && !slotTypes[n.Slot] {
		bad("slot", "want one of %s, got %q", strings.Join(sortedKeys(slotTypes), ", "), n.Slot)
	}
	ref("on_fail", n.OnFail)
	ref("answer", n.Answer, KindAnswer)
	ref("yes", n.Yes)
	ref("no", n.No)
	ref("no_match", n.NoMatch)
	if n.Kind == KindAnswer && (n.Yes == "" || n.No == "") {
		bad("yes", "an answer node needs yes (caller helped) and no (not helped)")
	}
	if n.Kind == KindMenu && len(n.Options) == 0 && !n.FromIntents {
		bad("options", "a menu needs options or from_intents: true")
	}
	for _, key := range sortedKeys(n.Options) {
		o := n.Options[key]
		fld := "options." + key
		switch {
		case key == "0":
			bad(fld, "key 0 always reaches an agent; it cannot be an option")
		case len(key) != 1 || !strings.Contains("123456789*#", key):
			bad(fld, "want one key 1-9, * or #, got %q", key)
		}
		if o.Goto == "" && o.Intent == "" && o.Language == "" {
			bad(fld, "an option needs goto, intent or language")
		}
		ref(fld+".goto", o.Goto)
		if o.Intent != "" && (!intents[o.Intent] || o.Intent == Unknown) {
			bad(fld+".intent", "unknown intent %q", o.Intent)
		}
		if o.Language != "" && !langs[o.Language] {
			bad(fld+".language", "unknown language %q", o.Language)
		}
		text(fld+".label", o.Label, false)
	}
	if n.Kind == KindTransfer {
		if n.Queue != "" && !queues[n.Queue] {
			bad("queue", "queue %q is not in the config's queues", n.Queue)
		}
		if n.Intent != "" && (!intents[n.Intent] || n.Intent == Unknown) {
			bad("intent", "unknown intent %q", n.Intent)
		}
	}
	if n.Priority != "" && !validPriority(n.Priority) {
		bad("priority", "want low, normal, high or urgent, got %q", n.Priority)
	}
	// Ways out.
	switch n.Kind {
	case KindPrompt, KindBranch, KindAsk, KindMenu:
		allOptionsGo := len(n.Options) > 0
		for _, o := range n.Options {
			allOptionsGo = allOptionsGo && o.Goto != ""
		}
		if len(n.Next) == 0 && !(n.Kind == KindMenu && allOptionsGo) {
			bad("next", "a %s node needs next", n.Kind)
		} else if len(n.Next) > 0 && !n.Next[len(n.Next)-1].unconditional() {
			bad(fmt.Sprintf("next[%d]", len(n.Next)-1), "the last edge must have no conditions (the default way out)")
		}
	}
	for i, e := range n.Next {
		fld := fmt.Sprintf("next[%d]", i)
		if e.Goto == "" {
			bad(fld+".goto", "missing")
		} else {
			ref(fld+".goto", e.Goto)
		}
		for _, in := range e.Intent {
			if !intents[in] {
				bad(fld+".intent", "unknown intent %q", in)
			}
		}
		for _, s := range []string{e.Slot, e.Missing} {
			if s != "" && !slotTypes[s] {
				bad(fld+".slot", "want one of %s, got %q", strings.Join(sortedKeys(slotTypes), ", "), s)
			}
		}
		if e.Language != "" && !langs[e.Language] {
			bad(fld+".language", "unknown language %q", e.Language)
		}
		if i < len(n.Next)-1 && e.unconditional() {
			bad(fld, "an edge without conditions must be the last (the ones after it can never be taken)")
		}
	}
	return errs
}

func optionsLabelled(opts map[string]Option) bool {
	for _, o := range opts {
		if len(o.Label) == 0 {
			return false
		}
	}
	return true
}

// checkReachable reports nodes no path from start (or an entry) reaches.
func (f *Flow) checkReachable(entries []string) []error {
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if id == "" || seen[id] || f.Nodes[id] == nil {
			return
		}
		seen[id] = true
		n := f.Nodes[id]
		for _, e := range n.Next {
			walk(e.Goto)
		}
		for _, o := range n.Options {
			walk(o.Goto)
		}
		for _, t := range []string{n.OnFail, n.Answer, n.Yes, n.No, n.NoMatch} {
			walk(t)
		}
	}
	walk(f.Start)
	walk(f.Human)
	for _, e := range entries {
		walk(e)
	}
	var errs []error
	for _, id := range sortedKeys(f.Nodes) {
		if !seen[id] {
			errs = append(errs, &FlowError{File: f.Name, Line: f.Nodes[id].line, Node: id, Why: "not reachable from start"})
		}
	}
	return errs
}

// Open reports whether t is within business hours and not a holiday. A
// flow without hours is always open.
func (f *Flow) Open(t time.Time) bool {
	if f.Holiday(t) {
		return false
	}
	if len(f.hours) == 0 {
		return true
	}
	lt := t.In(f.loc)
	min := lt.Hour()*60 + lt.Minute()
	for _, s := range f.hours[lt.Weekday()] {
		if min >= s.From && min < s.To {
			return true
		}
	}
	return false
}

// Holiday reports whether t's date, in the flow's time zone, is a holiday.
func (f *Flow) Holiday(t time.Time) bool {
	return f.holidays[t.In(f.loc).Format("2006-01-02")]
}

func (d Duration) d() time.Duration { return time.Duration(d) }

func validPriority(p string) bool {
	switch p {
	case "low", "normal", "high", "urgent":
		return true
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsKind(list []Kind, k Kind) bool {
	for _, v := range list {
		if v == k {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
