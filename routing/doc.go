// Package routing is the ACD: it knows every agent's skills and state, keeps
// a waiting list per queue, and offers each waiting contact to the best free
// agent (today: the longest-idle available agent with the queue's skill).
//
// The Router is an in-memory state machine behind one mutex. It never calls
// out while holding the lock: notifications are collected and delivered after
// unlocking, so a Notifier may call back into the Router.
//
// Agents are indexed by skill, so finding candidates for a queue touches only
// agents who have that skill, not all 10,000 agents of a large centre.
package routing
