// Package tickets turns a call's transcript into a structured support
// ticket and holds the helpdesk's rules for it.
//
// Draft (and Writer, which adds an optional OpenAI-compatible LLM for the
// subject and summary, falling back to the embedded text) writes the
// ticket: category from the IVR intent, a sub-category and tags from what
// was said, entities (order and account numbers, amounts, dates, e-mails,
// phone numbers, with spoken digits normalised), the caller's sentiment at
// the start, the end and overall, a priority from configurable rules (an
// angry caller is never below high), an extractive summary of the
// problem, what the agent did, the outcome and next steps, and follow-ups
// with due dates.
//
// Redact masks payment cards (Luhn-checked), CVV codes and national IDs;
// call's post-call pipeline redacts transcripts before anything is stored.
//
// The lifecycle: statuses new → open → pending / on-hold → solved →
// closed, assignee and team, notes, SLA due times on a business-hours
// Calendar (the IVR flow's hours format) with breach detection, and Diff,
// from which the store writes the audit trail of every change (by the
// actor WithActor puts on the context). Sub-package webhook tells other
// systems about ticket changes.
package tickets
