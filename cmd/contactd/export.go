package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/contactd/contactd/config"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store"
	"github.com/contactd/contactd/store/open"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// exportCall is one line of `contactd export`: a call with its
// transcript, tickets (with their notes) and evaluations.
type exportCall struct {
	ID            string                        `json:"id"`
	From          string                        `json:"from"`
	To            string                        `json:"to"`
	StartedAt     *time.Time                    `json:"started_at"`
	AnsweredAt    *time.Time                    `json:"answered_at"`
	EndedAt       *time.Time                    `json:"ended_at"`
	Intent        string                        `json:"intent"`
	Queue         string                        `json:"queue"`
	Agent         string                        `json:"agent"`
	Disposition   string                        `json:"disposition"`
	IVROutcome    string                        `json:"ivr_outcome,omitempty"`
	RecordingPath string                        `json:"recording_path,omitempty"`
	Quality       map[string]store.MediaQuality `json:"quality,omitempty"`
	Transcript    []transcript.Segment          `json:"transcript"`
	Tickets       []exportTicket                `json:"tickets"`
	Evaluations   []qa.Evaluation               `json:"evaluations"`
}

type exportTicket struct {
	tickets.Ticket
	Notes []tickets.Note `json:"notes"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// export is `contactd export [--since DATE] [--out FILE]`: every call
// (started at or after --since) as one JSON object per line, oldest first.
func export(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	cfgPath := fs.String("config", os.Getenv("CONTACTD_CONFIG"), "YAML config file (env CONTACTD_CONFIG; empty: built-in demo)")
	dataDir := fs.String("data-dir", "", "data directory (env CONTACTD_DATA_DIR)")
	dbURL := fs.String("database-url", "", "Postgres URL (env CONTACTD_DATABASE_URL; empty: embedded SQLite in the data dir)")
	sinceArg := fs.String("since", "", "only calls started at or after this: YYYY-MM-DD (UTC) or an RFC 3339 time")
	outPath := fs.String("out", "", "write to this file (created with mode 0600) instead of stdout")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: contactd export [--since DATE] [--out FILE]\n\n"+
			"Writes calls with their transcripts, tickets (and notes) and QA evaluations as JSON lines, oldest first.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export: unexpected argument %q", fs.Arg(0))
	}
	var since time.Time
	if *sinceArg != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, *sinceArg); err != nil {
			if since, err = time.Parse("2006-01-02", *sinceArg); err != nil {
				return fmt.Errorf("export: --since %q: want YYYY-MM-DD or an RFC 3339 time", *sinceArg)
			}
		}
	}
	cfg, err := config.Load(*cfgPath, os.Getenv)
	if err != nil {
		return err
	}
	for dst, v := range map[*string]string{&cfg.DataDir: *dataDir, &cfg.Database: *dbURL} {
		if v != "" {
			*dst = v
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if cfg.Database == "" {
		if _, err := os.Stat(cfg.DataDir); err != nil {
			return fmt.Errorf("export: data dir: %w", err)
		}
	}
	st, err := open.Open(ctx, cfg.Database, cfg.DataDir, log)
	if err != nil {
		return fmt.Errorf("export: store: %w", err)
	}
	defer st.Close()

	w := stdout
	var f *os.File
	if *outPath != "" {
		// The export holds personal data: only the owner may read it.
		f, err = os.OpenFile(*outPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		w = f
	}
	n, err := exportCalls(ctx, st, w, since)
	if f != nil {
		if serr := f.Sync(); err == nil {
			err = serr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("export: after %d calls: %w", n, err)
	}
	fmt.Fprintf(os.Stderr, "contactd export: %d calls\n", n)
	return nil
}

// exportCalls writes the calls started at or after since to w, one JSON
// object per line, and returns how many.
func exportCalls(ctx context.Context, st store.Store, w io.Writer, since time.Time) (int, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	page := store.CallPage{Since: since, Limit: 200}
	n := 0
	for {
		cs, err := st.CallsSince(ctx, page)
		if err != nil {
			return n, err
		}
		for _, c := range cs {
			line, err := exportOne(ctx, st, c)
			if err != nil {
				return n, err
			}
			if err := enc.Encode(line); err != nil {
				return n, err
			}
			n++
		}
		if len(cs) < page.Limit {
			break
		}
		last := cs[len(cs)-1]
		page.AfterStarted, page.AfterID = last.StartedAt, last.ID
	}
	if err := bw.Flush(); err != nil {
		return n, err
	}
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	return n, nil
}

func exportOne(ctx context.Context, st store.Store, c store.Call) (exportCall, error) {
	out := exportCall{ID: c.ID, From: c.From, To: c.To, StartedAt: timeOrNil(c.StartedAt), AnsweredAt: timeOrNil(c.AnsweredAt),
		EndedAt: timeOrNil(c.EndedAt), Intent: c.Intent, Queue: c.Queue, Agent: c.Agent, Disposition: c.Disposition,
		IVROutcome: c.IVROutcome, RecordingPath: c.RecordingPath, Quality: c.Quality,
		Transcript: []transcript.Segment{}, Tickets: []exportTicket{}, Evaluations: []qa.Evaluation{}}
	segs, err := st.Segments(ctx, c.ID)
	if err != nil {
		return out, err
	}
	if segs != nil {
		out.Transcript = segs
	}
	ts, err := st.TicketsByCall(ctx, c.ID)
	if err != nil {
		return out, err
	}
	for _, t := range ts {
		notes, err := st.TicketNotes(ctx, t.ID)
		if err != nil {
			return out, err
		}
		if notes == nil {
			notes = []tickets.Note{}
		}
		out.Tickets = append(out.Tickets, exportTicket{Ticket: t, Notes: notes})
	}
	es, err := st.EvaluationsByCall(ctx, c.ID)
	if err != nil {
		return out, err
	}
	if es != nil {
		out.Evaluations = es
	}
	return out, nil
}
