package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contactd/contactd/call"
	"github.com/contactd/contactd/qa"
	"github.com/contactd/contactd/store/sqlite"
	"github.com/contactd/contactd/tickets"
	"github.com/contactd/contactd/transcript"
)

// TestExport fills a data dir the way the server does (calls through the
// post-call pipeline) and exports it: one JSON line per call with its
// transcript, tickets, notes and evaluations, oldest first, --since
// honoured, to stdout or a private file.
func TestExport(t *testing.T) {
	t.Setenv("CONTACTD_DATABASE_URL", "")
	t.Setenv("CONTACTD_CONFIG", "")
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	start := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	now := start
	post := &call.PostCall{Store: st, Scorecard: qa.DefaultScorecard(), Now: func() time.Time { return now }, RepeatWindow: -1}
	var ids []string
	for i, text := range []string{"where is my order five eight two one three", "my internet is down", "i want to cancel"} {
		now = start.Add(time.Duration(i) * day)
		res, err := post.Import(ctx, transcript.Transcript{CallerNumber: "+1555010" + string(rune('0'+i)), Segments: []transcript.Segment{
			{Speaker: transcript.Caller, StartMS: 0, EndMS: 2000, Text: text},
			{Speaker: transcript.Agent, StartMS: 2500, EndMS: 4000, Text: "thank you for calling i can help with that"}}}, "order_status")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.CallID)
		if i == 1 {
			if _, err := st.AddTicketNote(ctx, tickets.Note{TicketID: res.TicketID, Author: "alice", Body: "engineer booked"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()

	var out bytes.Buffer
	if err := export(ctx, []string{"--data-dir", dir, "--since", "2025-05-02"}, &out); err != nil {
		t.Fatal(err)
	}
	var got []exportCall
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c exportCall
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, c)
	}
	if len(got) != 2 || got[0].ID != ids[1] || got[1].ID != ids[2] {
		t.Fatalf("exported %d calls %v, want %v since the 2nd", len(got), got, ids[1:])
	}
	c := got[0]
	if c.From != "+15550101" || c.StartedAt == nil || len(c.Transcript) != 2 || c.Transcript[0].Text != "my internet is down" ||
		len(c.Tickets) != 1 || c.Tickets[0].CallID != ids[1] || len(c.Tickets[0].Notes) != 1 ||
		c.Tickets[0].Notes[0].Body != "engineer booked" || len(c.Evaluations) != 1 || len(c.Evaluations[0].Items) == 0 {
		t.Errorf("exported call %+v", c)
	}

	// All of it, to a file only its owner can read.
	file := filepath.Join(t.TempDir(), "export.jsonl")
	if err := export(ctx, []string{"--data-dir", dir, "--out", file}, &out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 3 {
		t.Errorf("%d lines in the file, want 3", n)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v", fi.Mode().Perm())
	}
	var first map[string]any
	if err := json.Unmarshal(b[:bytes.IndexByte(b, '\n')], &first); err != nil || first["id"] != ids[0] {
		t.Errorf("first line %v %v", first, err)
	}
	for _, key := range []string{"transcript", "tickets", "evaluations", "started_at", "from"} {
		if _, ok := first[key]; !ok {
			t.Errorf("no %q in a line", key)
		}
	}

	for _, bad := range [][]string{
		{"--data-dir", dir, "--since", "yesterday"},
		{"--data-dir", filepath.Join(dir, "absent")},
		{"--data-dir", dir, "extra"},
	} {
		if err := export(ctx, bad, &out); err == nil {
			t.Errorf("export %v succeeded", bad)
		}
	}
}
