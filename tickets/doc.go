// Package tickets turns a call's transcript into a structured support
// ticket and holds the helpdesk's rules for it.
//
// Draft (and Writer, which adds an optional OpenAI-compatible LLM for the
// subject and summary, falling back to the embedded text) writes the
// ticket: category from the IVR intent, a sub-category and tags from what
// was said, entities (order and account numbers, amounts, dates, e-mails,
// phone numbers, with spoken digits normalised and read across turns,
// corrections and the agent's read-back: numbers.go), the caller's
// sentiment (a lexicon, swearing, threats, repeat calls, capitals) at
// the start, the end and overall, a priority from configurable rules (an
// angry caller, by the lexicon or by a naive Bayes anger model trained on
// the dev calls, is never below high), an extractive summary of the
// problem, what the agent did, the outcome and next steps, and follow-ups
// with due dates.
//
// Categorize picks the category of a call that has no IVR intent (an
// imported one) from the whole conversation with the IVR's classifier: the
// caller's lines, and the agent's at half weight; a request for a person or
// an angry outburst is not a topic, nor a want the caller denies or a
// threat (category.go, topics.go); a naive Bayes model of the categories
// trained on the dev calls adds its posterior (learned.go).
//
// Redact masks payment cards (Luhn-checked), CVV codes and national IDs;
// call's post-call pipeline redacts transcripts before anything is stored.
//
// The lifecycle: statuses new → open → pending / on-hold → solved →
// closed, assignee and team, notes, SLA due times on a business-hours
// Calendar (the IVR flow's hours format) with breach detection, and Diff,
// from which the store writes the audit trail of every change (by the
// actor WithActor puts on the context). The Watcher finds SLA targets that
// pass while their ticket is open, without anyone reading it: it flags each
// breach once in the store (with an "sla" audit event), escalates the
// ticket (priority one step up, tag sla_breached) and tells its
// BreachNotifiers (the events hub, the webhooks, the audit log).
// Sub-package webhook tells other systems about ticket changes.
package tickets
