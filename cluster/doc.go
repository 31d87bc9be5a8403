// Package cluster runs several contactd nodes on one shared Postgres.
//
// Each node has an id and a heartbeat (nodes table). Calls are tagged with
// the node that took them (calls.node): their media stays there, and the
// HTTP requests about a call (an agent answering it with its SDP offer,
// hang-up, hold, its recording) are passed to that node by Proxy.
//
// The ACD is coordinated through Postgres: the waiting calls (acd_queue)
// and the agents' presence (acd_agents) are rows, changes are sent with
// NOTIFY, and one node, holding a session advisory lock, is the dispatcher
// that runs a routing.Router. It commits each offer with a conditional
// update (the call still unoffered, the agent free) in one transaction,
// and unique indexes make a second concurrent offer impossible. When the
// dispatcher's connection dies its lock goes with it; another node takes
// over within a tick and rebuilds its router from the tables. The
// dispatcher also marks nodes whose heartbeat stopped dead, and ends their
// calls ("node lost"). deploy/cluster.md has the reasoning.
//
// A node that cannot renew its heartbeat within its lease fences itself
// (Node.Fence) and serves again when a heartbeat gets through. One that
// the others declared dead meanwhile stays fenced while it still holds
// calls in progress: their records were ended, their agents released and
// its waiting callbacks adopted, so it must not report on them as a live
// member. Once it holds none (Node.RejoinWhenIdle) it rejoins as a
// restart would: up under a new epoch (nodes.started_at), giving up what
// the database still lists as its own. Each run heartbeats only its own
// epoch's row, so a process that another one with the same id has
// replaced stays fenced for good.
package cluster
