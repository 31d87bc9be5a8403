// Package routing is the ACD: it knows every agent's skills (proficiency
// 1–10) and state, keeps the waiting contacts of every queue, and offers each
// contact to the best free agent.
//
// # Rules
//
// A queue (QueueConfig) names its skill, a Strategy, Steps, an SLA target, a
// wrap-up time and a sticky window.
//
//   - Steps relax the requirement as the wait grows: e.g. proficiency ≥ 7 at
//     first, ≥ 3 after 30 s, and after 90 s the agents of an overflow queue
//     too. Relaxation happens on time alone, without any other event.
//   - The strategy picks among eligible free agents: longest idle, least
//     occupied (talk time, then calls handled today), most skilled (ties to
//     longest idle) or round robin (least recently offered).
//   - Contacts are served by score, highest first (ties: earlier arrival):
//     100×Priority, plus 150 if VIP, plus Value (0–100), plus 100×anger
//     (−Sentiment, 0–1), plus 1 per second waited, plus 1000 once the wait
//     reaches 80% of the SLA target. See PriorityWeight and the other weights.
//   - Sticky agent: a contact's PreferredAgent, if logged in and skilled, has
//     it exclusively for the queue's Sticky time; a reject, a miss or a break
//     ends the hold early.
//   - An unanswered offer moves to the next agent; MaxMissedOffers misses in
//     a row put the agent on break. After a call the agent wraps up for the
//     queue's WrapUp (else Options.WrapUp).
//   - Every agent state change goes to Options.OnStateChange with its time
//     and reason; AgentView and QueueView carry time in state and today's
//     counters for wallboards.
//
// # Mechanics
//
// The Router is an in-memory state machine behind one mutex. It never calls
// out while holding the lock: notifications are collected and delivered after
// unlocking, so a Notifier may call back into the Router.
//
// Nothing scans all agents or all contacts on an event. Free agents are
// indexed per (skill, proficiency) in heaps ordered for each strategy, so a
// contact finds its agent by looking at no more than ten heap tops per skill.
// Waiting contacts sit in a heap per (queue, step), so a freed agent finds its
// contact by looking at one top per step it qualifies for. Time-driven changes
// (a step reached, the SLA-risk bonus, a sticky window or an offer timing
// out, a wrap-up ending) sit in two heaps by due time; one time.AfterFunc
// timer is armed for the earliest and runs Tick. Tests inject Options.Now and
// call Tick themselves.
package routing
