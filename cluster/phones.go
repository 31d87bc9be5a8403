package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Phone is one registered desk phone of an agent.
type Phone struct {
	User      string
	Node      string
	Contact   string // the phone's Contact URI
	Source    string // host:port the REGISTER came from (the SIP front)
	Transport string
	Expires   time.Time
}

// PhoneBook publishes the desk phones registered on this node and finds
// those registered on others. Registrations stay in each node's memory;
// the table is their cluster-wide index.
type PhoneBook struct {
	node      *Node
	published map[string]Phone // by user: what the table has from us
	synced    bool             // the rows of an earlier run are gone
}

// Phones returns the node's phone book.
func (n *Node) Phones() *PhoneBook {
	return &PhoneBook{node: n, published: map[string]Phone{}}
}

// Sync makes the table's rows of this node match phones (one per user at
// most); it writes only what changed.
func (p *PhoneBook) Sync(ctx context.Context, phones []Phone) error {
	me := p.node.ID()
	if !p.synced {
		if _, err := p.node.pool.Exec(ctx, `DELETE FROM acd_phones WHERE node = $1`, me); err != nil {
			return err
		}
		p.synced = true
	}
	now := map[string]Phone{}
	for _, ph := range phones {
		ph.Node = me
		now[ph.User] = ph
	}
	for user := range p.published {
		if _, ok := now[user]; ok {
			continue
		}
		if _, err := p.node.pool.Exec(ctx, `DELETE FROM acd_phones WHERE username = $1 AND node = $2`, user, me); err != nil {
			return err
		}
		delete(p.published, user)
	}
	for user, ph := range now {
		if old, ok := p.published[user]; ok && old.Contact == ph.Contact && old.Source == ph.Source &&
			old.Transport == ph.Transport && old.Expires.Sub(ph.Expires).Abs() < time.Second {
			continue
		}
		if _, err := p.node.pool.Exec(ctx, `INSERT INTO acd_phones (username, node, contact, source, transport, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username, node) DO UPDATE
			SET contact = $3, source = $4, transport = $5, expires_at = $6`,
			user, me, ph.Contact, ph.Source, ph.Transport, ph.Expires); err != nil {
			return err
		}
		p.published[user] = ph
	}
	return nil
}

// Remote returns a live phone of user registered on another node that is
// up; ok is false when there is none.
func (p *PhoneBook) Remote(ctx context.Context, user string) (Phone, bool, error) {
	ph := Phone{User: user}
	err := p.node.pool.QueryRow(ctx, `SELECT p.node, p.contact, p.source, p.transport, p.expires_at
		FROM acd_phones p JOIN nodes n ON n.id = p.node AND n.status = 'up'
		WHERE p.username = $1 AND p.node <> $2 AND p.expires_at > now()
		ORDER BY p.expires_at DESC LIMIT 1`, user, p.node.ID()).Scan(&ph.Node, &ph.Contact, &ph.Source, &ph.Transport, &ph.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return ph, false, nil
	}
	return ph, err == nil, err
}
