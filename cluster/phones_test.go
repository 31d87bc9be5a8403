package cluster

import (
	"context"
	"testing"
	"time"
)

// A phone registered on one node is found from another while that node is
// up and the registration lives; it goes when unregistered or the node dies.
func TestPhoneBook(t *testing.T) {
	db := freshDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := startNode(t, db, "a", nil)
	b := startNode(t, db, "b", nil)
	pa, pb := a.node.Phones(), b.node.Phones()
	exp := time.Now().Add(time.Minute)
	if err := pa.Sync(ctx, []Phone{{User: "bob", Contact: "sip:bob@127.0.0.8:5062", Source: "127.0.0.10:5060", Transport: "udp", Expires: exp}}); err != nil {
		t.Fatal(err)
	}
	p, ok, err := pb.Remote(ctx, "bob")
	if err != nil || !ok || p.Node != "a" || p.Contact != "sip:bob@127.0.0.8:5062" || p.Source != "127.0.0.10:5060" {
		t.Fatalf("from b: %+v %v %v", p, ok, err)
	}
	if _, ok, _ := pa.Remote(ctx, "bob"); ok {
		t.Fatal("a's own phone listed as remote to a")
	}
	if err := pa.Sync(ctx, nil); err != nil { // unregistered
		t.Fatal(err)
	}
	if _, ok, _ := pb.Remote(ctx, "bob"); ok {
		t.Fatal("an unregistered phone is still listed")
	}
	// Expired registrations and dead nodes' phones are not offered.
	if err := pa.Sync(ctx, []Phone{{User: "old", Contact: "sip:old@127.0.0.8", Expires: time.Now().Add(-time.Second)},
		{User: "bob", Contact: "sip:bob@127.0.0.8:5062", Expires: exp}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := pb.Remote(ctx, "old"); ok {
		t.Fatal("an expired registration is listed")
	}
	a.crash()
	waitFor(t, "a declared dead", 5*time.Second, func() bool {
		_, ok, _ := pb.Remote(ctx, "bob")
		return !ok
	})
	// A node's restart starts its phone book afresh.
	pb2 := b.node.Phones()
	if err := pb.Sync(ctx, []Phone{{User: "carol", Contact: "sip:carol@127.0.0.8", Expires: exp}}); err != nil {
		t.Fatal(err)
	}
	if err := pb2.Sync(ctx, nil); err != nil {
		t.Fatal(err)
	}
	c := startNode(t, db, "c", nil)
	if _, ok, _ := c.node.Phones().Remote(ctx, "carol"); ok {
		t.Fatal("a restarted node's earlier phones are still listed")
	}
}
