package ivr

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/contactd/contactd/ivr/kb"
	"github.com/contactd/contactd/ivr/slots"
)

// maxSteps bounds one call's walk through the flow: a flow whose edges
// form a loop without input would otherwise spin.
const maxSteps = 200

// interDigit is how long slot collection waits for the next key.
const interDigit = 3 * time.Second

// phrases are the built-in words per language for text the flow author
// does not write.
var phrases = map[string]map[string]string{
	"en": {"item": "For %s, press %s.", "agent": "To speak to an agent, press 0.", "confirm": "Is this about %s?",
		"check": "Did that answer your question?"},
	"es": {"item": "Para %s, pulse %s.", "agent": "Para hablar con un agente, pulse 0.", "confirm": "¿Se trata de %s?",
		"check": "¿Ha resuelto eso su pregunta?", "transfer": "Gracias. Le paso con un agente."},
}

func phrase(lang, key string) string {
	if p, ok := phrases[lang][key]; ok {
		return p
	}
	return phrases["en"][key]
}

type runner struct {
	ctx  context.Context
	s    Session
	cfg  FlowConfig
	f    *Flow
	nlu  Understander
	log  *slog.Logger
	info CallInfo
	now  func() time.Time

	lang        string
	d           Decision
	slots       map[string]string
	frustration int
	lastText    string
	heardText   bool
	answered    bool
	pendingHit  *kb.Hit
	known       *bool
}

func newRunner(ctx context.Context, s Session, cfg FlowConfig, f *Flow, nlu IntentClassifier) *runner {
	r := &runner{ctx: ctx, s: s, cfg: cfg, f: f, log: cfg.Log, now: cfg.Now, slots: map[string]string{}}
	if nlu != nil {
		r.nlu = understanderOf(nlu)
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.now == nil {
		r.now = time.Now
	}
	if ci, ok := s.(CallInformer); ok {
		r.info = ci.CallInfo()
	}
	r.setLang(f.Languages.Default)
	if l, ok := f.Languages.DID[r.info.To]; ok {
		r.setLang(l)
	}
	return r
}

func (r *runner) setLang(l string) {
	if l == "" || l == r.lang {
		return
	}
	r.lang = l
	if ls, ok := r.s.(LanguageSetter); ok {
		ls.SetLanguage(l)
	}
}

// step is what executing one node led to.
type step struct {
	next string // the node to go to
	done bool   // the flow ended (r.d is final)
}

func (r *runner) run() (Decision, error) {
	id := r.f.Start
	if e := r.info.Entry; e != "" {
		if r.f.Nodes[e] != nil {
			id = e
		} else {
			r.log.Warn("ivr: unknown entry node; starting at the flow's start", "entry", e, "start", id)
		}
	}
	for i := 0; i < maxSteps; i++ {
		n := r.f.Nodes[id]
		if n == nil {
			return r.d, fmt.Errorf("%w: node %q does not exist", ErrBadFlow, id)
		}
		r.d.Path = append(r.d.Path, id)
		r.event(n, false, "")
		st, err := r.exec(n)
		if err != nil {
			to := ExitCallerHangup
			if r.ctx.Err() == nil {
				to = "(error)"
			}
			r.event(n, true, to)
			return r.d, err
		}
		if st.done {
			to := ExitTransfer
			if r.d.Outcome == OutcomeHangup {
				to = ExitHangup
			}
			r.event(n, true, to)
			r.finish()
			return r.d, nil
		}
		r.event(n, true, st.next)
		id = st.next
	}
	return r.d, fmt.Errorf("%w (%d), last %q", ErrLoop, maxSteps, id)
}

func (r *runner) finish() {
	r.d.Language = r.lang
	r.d.Frustration = r.frustration
	if len(r.slots) > 0 {
		r.d.Slots = r.slots
	}
}

func (r *runner) event(n *Node, exit bool, to string) {
	if r.cfg.Observer == nil {
		return
	}
	r.cfg.Observer.NodeEvent(NodeEvent{CallID: r.info.ID, Flow: r.f.Name, Node: n.ID, Kind: n.Kind,
		Exit: exit, To: to, Language: r.lang, At: r.now()})
}

func (r *runner) exec(n *Node) (step, error) {
	switch n.Kind {
	case KindPrompt, KindBranch:
		r.setLang(n.Language)
		if err := r.say(n.Say); err != nil {
			return step{}, err
		}
		return step{next: r.pick(n.Next)}, nil
	case KindAsk:
		if n.Slot != "" {
			return r.askSlot(n)
		}
		return r.askIntent(n)
	case KindMenu:
		return r.menu(n)
	case KindAnswer:
		return r.answer(n)
	case KindTransfer:
		return r.transfer(n.Intent, n.Queue, n.Priority, n.Say.In(r.lang, r.f.Languages.Default))
	case KindHangup:
		if err := r.say(n.Say); err != nil {
			return step{}, err
		}
		r.d.Outcome, r.d.Contained = OutcomeHangup, r.answered
		return step{done: true}, nil
	}
	return step{}, fmt.Errorf("%w: node %q has kind %q", ErrBadFlow, n.ID, n.Kind)
}

func (r *runner) say(t Text) error {
	text := t.In(r.lang, r.f.Languages.Default)
	if strings.TrimSpace(text) == "" {
		return nil
	}
	_, err := r.s.Say(r.ctx, text)
	return err
}

func (r *runner) sayString(text string) error {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	_, err := r.s.Say(r.ctx, text)
	return err
}

// listen waits for the caller's answer to node n. With judge and a
// TurnListener session, the caller's turn may end at a pause that judge
// finds whole (see TurnListener).
func (r *runner) listen(n *Node, judge func(string) Turn) (Input, error) {
	wait := n.NoInput.d()
	if wait == 0 {
		wait = r.f.Defaults.NoInput.d()
	}
	if wait == 0 {
		wait = r.cfg.NoInput
	}
	if wait <= 0 {
		wait = 8 * time.Second
	}
	var in Input
	var err error
	if tl, ok := r.s.(TurnListener); ok && judge != nil {
		in, err = tl.ListenTurn(r.ctx, wait, judge)
	} else {
		in, err = r.s.Listen(r.ctx, wait)
	}
	if err != nil {
		return in, err
	}
	if t := strings.TrimSpace(in.Text); t != "" {
		in.Text = t
		r.lastText = t
		if !r.heardText && r.f.Languages.Detect {
			langs := r.languages()
			l := detectLanguage(t, langs)
			if in.Language != "" && contains(langs, in.Language) {
				l = in.Language // the recogniser knows better than function words
			}
			if l != "" {
				r.setLang(l)
			}
		}
		r.heardText = true
	}
	return in, nil
}

func (r *runner) languages() []string {
	langs := []string{r.f.Languages.Default}
	for _, l := range r.f.Languages.DID {
		if !contains(langs, l) {
			langs = append(langs, l)
		}
	}
	for _, n := range r.f.Nodes {
		for _, o := range n.Options {
			if o.Language != "" && !contains(langs, o.Language) {
				langs = append(langs, o.Language)
			}
		}
	}
	return langs
}

func (r *runner) retries(n *Node) int {
	if n.Retries != nil {
		return *n.Retries
	}
	return *r.f.Defaults.Retries
}

// outcome is how one input to a question went.
type outcome int

const (
	miss outcome = iota
	accepted
	human
	toAnswer
)

// miss counts a miss and says whether the caller is frustrated enough to
// go straight to a human.
func (r *runner) addMiss() (frustrated bool) {
	r.d.Misses++
	r.frustration++
	return r.frustration >= r.f.Defaults.Frustration
}

// afterMisses is where a question goes when its tries are used up.
func (r *runner) afterMisses(n *Node) (step, error) {
	if n.OnFail != "" {
		return step{next: n.OnFail}, nil
	}
	if n.Kind == KindAsk && n.Slot != "" {
		return step{next: r.pick(n.Next)}, nil
	}
	r.frustration = max(r.frustration, r.f.Defaults.Frustration)
	return r.toHuman()
}

// toHuman sends the caller to the flow's human node, or queues them by the
// human intent's route.
func (r *runner) toHuman() (step, error) {
	r.d.Intent, r.d.Confidence = r.cfg.humanIntent(), 1
	if r.f.Human != "" {
		return step{next: r.f.Human}, nil
	}
	return r.transfer("", "", "", "")
}

func (r *runner) frustrated() bool { return r.frustration >= r.f.Defaults.Frustration }

func (r *runner) transfer(intent, queue, prio, say string) (step, error) {
	if intent == "" {
		intent = r.d.Intent
	}
	if intent == "" || intent == Unknown {
		intent = r.cfg.humanIntent()
	}
	rt, ok := r.cfg.route(intent)
	if !ok && queue == "" {
		if rt, ok = r.cfg.route(r.cfg.humanIntent()); !ok {
			return step{}, fmt.Errorf("%w %q", ErrNoRoute, intent)
		}
	}
	if queue == "" {
		queue = rt.Queue
	}
	if prio == "" {
		prio = rt.Priority
	}
	if prio == "" {
		prio = "normal"
	}
	if r.frustrated() {
		prio = raise(prio)
	}
	r.d.Intent, r.d.Queue, r.d.Priority, r.d.Outcome = intent, queue, prio, OutcomeTransfer
	if say != "" {
		r.d.Confirm = say
	} else if r.lang != r.f.Languages.Default {
		// FlowConfig.Confirm is in the default language.
		r.d.Confirm = phrases[r.lang]["transfer"]
	}
	return step{done: true}, nil
}

func raise(p string) string {
	switch p {
	case "low":
		return "normal"
	case "normal":
		return "high"
	}
	return "urgent"
}

// askIntent asks an open question and classifies the answer.
func (r *runner) askIntent(n *Node) (step, error) {
	for attempt := 0; ; attempt++ {
		prompt := n.Say
		if attempt > 0 && len(n.Reprompt) > 0 {
			prompt = n.Reprompt
		}
		if err := r.say(prompt); err != nil {
			return step{}, err
		}
		in, err := r.listen(n, r.judgeIntent(n))
		if err != nil {
			return step{}, err
		}
		o, err := r.understand(n, in, true)
		if err != nil {
			return step{}, err
		}
		switch o {
		case accepted:
			return step{next: r.pick(n.Next)}, nil
		case human:
			return r.toHuman()
		case toAnswer:
			return step{next: n.Answer}, nil
		}
		if r.addMiss() {
			return r.toHuman()
		}
		if attempt >= r.retries(n) {
			return r.afterMisses(n)
		}
	}
}

// understand handles one input to an intent question (ask or menu).
func (r *runner) understand(n *Node, in Input, confirm bool) (outcome, error) {
	switch {
	case in.Digit == '0':
		r.d.ViaDTMF = true
		r.frustration++
		return human, nil
	case in.Digit != 0:
		for _, rt := range r.cfg.Routes {
			if rt.DTMF != "" && rune(rt.DTMF[0]) == in.Digit && rt.Intent != r.cfg.humanIntent() {
				r.d.Intent, r.d.Confidence, r.d.ViaDTMF = rt.Intent, 1, true
				return accepted, nil
			}
		}
		return miss, nil
	case in.Text == "":
		return miss, nil
	}
	if swears(in.Text) {
		r.frustration += 2
		if r.frustrated() {
			return human, nil
		}
	}
	if r.nlu == nil {
		return miss, nil
	}
	u, err := r.nlu.Understand(r.ctx, in.Text, r.lang)
	if err != nil {
		if r.ctx.Err() != nil {
			return miss, r.ctx.Err()
		}
		r.log.Warn("ivr: nlu failed", "err", err)
		return miss, nil
	}
	for k, v := range u.Slots {
		if _, ok := r.slots[k]; !ok {
			r.slots[k] = v
		}
	}
	if u.Intent == r.cfg.humanIntent() {
		r.frustration++
		r.d.Utterance, r.d.EarlyTurn = in.Text, in.Early
		return human, nil
	}
	def := r.f.Defaults
	cand := u.Intent
	if cand == Unknown || cand == "" {
		cand = u.Candidate
	}
	accept := func() (outcome, error) {
		r.d.Intent, r.d.Confidence, r.d.Utterance, r.d.ViaDTMF = cand, u.Confidence, in.Text, false
		r.d.EarlyTurn = in.Early
		return accepted, nil
	}
	if cand != "" && cand != Unknown && cand != r.cfg.humanIntent() {
		if _, routed := r.cfg.route(cand); routed || r.cfg.Graph != nil {
			askConfirm := confirm && len(n.Confirm) > 0 && u.Confidence >= def.Threshold && u.Confidence < def.ConfirmBelow
			if askConfirm {
				yes, err := r.confirm(n, cand)
				if err != nil {
					return miss, err
				}
				if yes {
					return accept()
				}
				return miss, nil
			}
			if u.Intent != Unknown && u.Confidence >= def.Threshold {
				return accept()
			}
		}
	}
	if n.Answer != "" && r.cfg.KB != nil {
		an := r.f.Nodes[n.Answer]
		if hit, ok := r.search(an, in.Text); ok {
			r.pendingHit = &hit
			r.d.Intent, r.d.Utterance = Unknown, in.Text
			return toAnswer, nil
		}
	}
	return miss, nil
}

// confirm asks "Is this about <label>?" and reads yes or no.
func (r *runner) confirm(n *Node, intent string) (bool, error) {
	label := intent
	if rt, ok := r.cfg.route(intent); ok && rt.Label != "" && r.lang == r.f.Languages.Default {
		label = rt.Label
	}
	text := n.Confirm.In(r.lang, r.f.Languages.Default)
	if strings.Contains(text, "%s") {
		text = fmt.Sprintf(text, label)
	}
	if err := r.sayString(text); err != nil {
		return false, err
	}
	in, err := r.listen(n, r.judgeYesNo)
	if err != nil {
		return false, err
	}
	switch in.Digit {
	case '1':
		return true, nil
	case '2':
		return false, nil
	}
	yes, ok := yesNo(in.Text, r.lang)
	return ok && yes, nil
}

// askSlot asks for one value, spoken or keyed.
func (r *runner) askSlot(n *Node) (step, error) {
	if _, ok := r.slots[n.Slot]; ok {
		return step{next: r.pick(n.Next)}, nil
	}
	for attempt := 0; ; attempt++ {
		prompt := n.Say
		if attempt > 0 && len(n.Reprompt) > 0 {
			prompt = n.Reprompt
		}
		if err := r.say(prompt); err != nil {
			return step{}, err
		}
		in, err := r.listen(n, nil)
		if err != nil {
			return step{}, err
		}
		var value string
		ok := false
		switch {
		case in.Digit != 0:
			digits, err := r.collectDigits(in.Digit)
			if err != nil {
				return step{}, err
			}
			if digits == "0" {
				r.frustration++
				return r.toHuman()
			}
			value, ok = keyedSlot(n.Slot, digits)
			r.d.ViaDTMF = r.d.ViaDTMF || ok
		case in.Text != "":
			if wantsHuman(tokenize(in.Text)) {
				r.frustration++
				return r.toHuman()
			}
			if swears(in.Text) {
				r.frustration += 2
			}
			value, ok = extractSlot(n.Slot, in.Text, r.lang, r.now().In(r.f.loc))
		}
		if ok {
			r.slots[n.Slot] = value
			return step{next: r.pick(n.Next)}, nil
		}
		if r.addMiss() {
			return r.toHuman()
		}
		if attempt >= r.retries(n) {
			return r.afterMisses(n)
		}
	}
}

// collectDigits reads keys after first until #, a pause, or speech; *
// starts again.
func (r *runner) collectDigits(first rune) (string, error) {
	var b strings.Builder
	add := func(d rune) bool {
		switch {
		case d == '#':
			return true
		case d == '*':
			b.Reset()
		case d >= '0' && d <= '9':
			b.WriteRune(d)
		}
		return false
	}
	if add(first) {
		return b.String(), nil
	}
	for b.Len() < 20 {
		in, err := r.s.Listen(r.ctx, interDigit)
		if err != nil {
			return "", err
		}
		if in.Digit == 0 {
			if in.Text != "" {
				b.WriteString(slots.ParseDigits(in.Text))
			}
			break
		}
		if add(in.Digit) {
			break
		}
	}
	return b.String(), nil
}

// menuText builds the menu prompt: the intro (first time), then each
// labelled option and the agent key.
func (r *runner) menuText(n *Node, first bool) string {
	opts := r.options(n)
	labelled := n.FromIntents || (len(opts) > 0 && optionsLabelled(opts))
	if !labelled {
		if !first && len(n.Reprompt) > 0 {
			return n.Reprompt.In(r.lang, r.f.Languages.Default)
		}
		return n.Say.In(r.lang, r.f.Languages.Default)
	}
	var b strings.Builder
	intro := n.Say
	if !first {
		intro = n.Reprompt
	}
	if s := intro.In(r.lang, r.f.Languages.Default); s != "" {
		b.WriteString(s + " ")
	}
	for _, key := range sortedKeys(opts) {
		label := opts[key].Label.In(r.lang, r.f.Languages.Default)
		if label == "" {
			continue
		}
		fmt.Fprintf(&b, phrase(r.lang, "item")+" ", label, key)
	}
	b.WriteString(phrase(r.lang, "agent"))
	return b.String()
}

// options are a menu's keys; from_intents adds the routes' keys.
func (r *runner) options(n *Node) map[string]Option {
	if !n.FromIntents {
		return n.Options
	}
	opts := map[string]Option{}
	for _, rt := range r.cfg.Routes {
		if rt.DTMF == "" || rt.Intent == r.cfg.humanIntent() {
			continue
		}
		opts[rt.DTMF] = Option{Intent: rt.Intent, Label: Text{"": rt.Label}}
	}
	for k, o := range n.Options {
		opts[k] = o
	}
	return opts
}

func (r *runner) menu(n *Node) (step, error) {
	opts := r.options(n)
	for attempt := 0; ; attempt++ {
		if err := r.sayString(r.menuText(n, attempt == 0)); err != nil {
			return step{}, err
		}
		in, err := r.listen(n, nil)
		if err != nil {
			return step{}, err
		}
		key := ""
		if in.Digit != 0 {
			key = string(in.Digit)
		} else if d := slots.ParseDigits(in.Text); len(d) == 1 && len(strings.Fields(in.Text)) <= 3 {
			key = d // "one", "press two"
		}
		if key == "0" {
			r.frustration++
			return r.toHuman()
		}
		if o, ok := opts[key]; ok {
			r.setLang(o.Language)
			if o.Intent != "" {
				r.d.Intent, r.d.Confidence, r.d.ViaDTMF = o.Intent, 1, in.Digit != 0
			}
			if o.Goto != "" {
				return step{next: o.Goto}, nil
			}
			return step{next: r.pick(n.Next)}, nil
		}
		if in.Digit == 0 && in.Text != "" && len(n.Next) > 0 {
			o, err := r.understand(n, in, false)
			if err != nil {
				return step{}, err
			}
			switch o {
			case accepted:
				return step{next: r.pick(n.Next)}, nil
			case human:
				return r.toHuman()
			}
		}
		if r.addMiss() {
			return r.toHuman()
		}
		if attempt >= r.retries(n) {
			return r.afterMisses(n)
		}
	}
}

// search finds the best passage for query good enough for answer node n.
func (r *runner) search(n *Node, query string) (kb.Hit, bool) {
	if r.cfg.KB == nil || strings.TrimSpace(query) == "" {
		return kb.Hit{}, false
	}
	min := n.MinScore
	if min == 0 {
		min = r.f.Defaults.MinScore
	}
	hits := r.cfg.KB.SearchLang(r.lang, query, 1)
	if len(hits) == 0 || hits[0].Score < min {
		return kb.Hit{}, false
	}
	return hits[0], true
}

// maxSpoken bounds a spoken passage: two or three sentences.
const maxSpoken = 320

func (r *runner) answer(n *Node) (step, error) {
	var hit kb.Hit
	ok := false
	if r.pendingHit != nil {
		hit, ok = *r.pendingHit, true
		r.pendingHit = nil
	} else {
		q := n.Query
		if q == "" {
			q = r.lastText
		}
		hit, ok = r.search(n, q)
	}
	if !ok {
		if n.NoMatch != "" {
			return step{next: n.NoMatch}, nil
		}
		return step{next: n.No}, nil
	}
	r.d.Articles = append(r.d.Articles, hit.Path)
	text := strings.TrimSpace(n.Say.In(r.lang, r.f.Languages.Default) + " " + kb.Speakable(hit.Passage, maxSpoken))
	barged, err := r.s.Say(r.ctx, text)
	if err != nil {
		return step{}, err
	}
	check := n.Check.In(r.lang, r.f.Languages.Default)
	if check == "" {
		check = phrase(r.lang, "check")
	}
	for attempt := 0; attempt < 2; attempt++ {
		if !barged || attempt > 0 {
			if err := r.sayString(check); err != nil {
				return step{}, err
			}
		}
		in, err := r.listen(n, r.judgeYesNo)
		if err != nil {
			return step{}, err
		}
		switch {
		case in.Digit == '0':
			r.frustration++
			return r.toHuman()
		case in.Digit == '1':
			r.answered = true
			return step{next: n.Yes}, nil
		case in.Digit == '2':
			return step{next: n.No}, nil
		case in.Text != "":
			if wantsHuman(tokenize(in.Text)) {
				r.frustration++
				return r.toHuman()
			}
			if yes, ok := yesNo(in.Text, r.lang); ok {
				if yes {
					r.answered = true
					return step{next: n.Yes}, nil
				}
				return step{next: n.No}, nil
			}
		}
	}
	return step{next: n.No}, nil
}

// pick returns the first edge whose conditions hold.
func (r *runner) pick(es Edges) string {
	for _, e := range es {
		if r.holds(e) {
			return e.Goto
		}
	}
	return ""
}

func (r *runner) holds(e Edge) bool {
	if len(e.Intent) > 0 {
		in := r.d.Intent
		if in == "" {
			in = Unknown
		}
		if !contains(e.Intent, in) {
			return false
		}
	}
	if e.Slot != "" && r.slots[e.Slot] == "" {
		return false
	}
	if e.Missing != "" && r.slots[e.Missing] != "" {
		return false
	}
	if e.Language != "" && e.Language != r.lang {
		return false
	}
	if e.Open != nil && *e.Open != r.f.Open(r.now()) {
		return false
	}
	if e.Holiday != nil && *e.Holiday != r.f.Holiday(r.now()) {
		return false
	}
	if e.VIP != nil && *e.VIP != r.f.vip[r.info.From] {
		return false
	}
	if e.Known != nil && *e.Known != r.knownCustomer() {
		return false
	}
	return true
}

func (r *runner) knownCustomer() bool {
	if r.known != nil {
		return *r.known
	}
	k := false
	if r.cfg.Customers != nil && r.info.From != "" {
		var err error
		if k, err = r.cfg.Customers.KnownCustomer(r.ctx, r.info.From); err != nil {
			r.log.Warn("ivr: known-customer lookup failed", "err", err)
			k = false
		}
	}
	r.known = &k
	return k
}
