package collector

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/heartbeat-exporter/heartbeat_exporter/config"
	"github.com/heartbeat-exporter/heartbeat_exporter/internal/testenv"
)

// The rule count read over netlink from a real kernel: a ruleset built
// in a network namespace of the test's own, counted, then flushed to
// zero.
func TestNftablesRulesCounted(t *testing.T) {
	testenv.RequireRoot(t, "a network namespace and its nftables ruleset need CAP_SYS_ADMIN and CAP_NET_ADMIN")
	errc := make(chan error, 1)
	counts := make(chan int, 2)
	go func() {
		// This thread moves into the new namespace and is never unlocked:
		// it exits with the goroutine instead of serving other code there.
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return errUnshare{err}
			}
			ns, err := os.Open("/proc/thread-self/ns/net")
			if err != nil {
				return err
			}
			defer ns.Close()
			conn, err := nftables.New(nftables.WithNetNSFd(int(ns.Fd())))
			if err != nil {
				return err
			}
			table := conn.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "hb"})
			chain := conn.AddChain(&nftables.Chain{Name: "input", Table: table, Type: nftables.ChainTypeFilter,
				Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
			for range 3 {
				conn.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept}}})
			}
			if err := conn.Flush(); err != nil {
				return err
			}
			n, err := countRules(conn)
			if err != nil {
				return err
			}
			counts <- n
			conn.FlushTable(table)
			if err := conn.Flush(); err != nil {
				return err
			}
			n, err = countRules(conn)
			counts <- n
			return err
		}()
	}()
	if err := <-errc; err != nil {
		var u errUnshare
		if errors.As(err, &u) && errors.Is(u.err, unix.EPERM) {
			t.Skipf("root, but no new network namespace here (a container without CAP_SYS_ADMIN): %v", err)
		}
		t.Fatal(err)
	}
	if a, b := <-counts, <-counts; a != 3 || b != 0 {
		t.Errorf("counted %d rules, then %d after the flush; want 3, then 0", a, b)
	}
}

// Without CAP_NET_ADMIN the kernel refuses the dump: the count is
// unknown (errNoPermission), not 0.
func TestNftablesWithoutCapNetAdmin(t *testing.T) {
	if os.Geteuid() == 0 {
		testenv.RerunAsNobody(t, "TestNftablesWithoutCapNetAdmin")
		return
	}
	n, err := nftablesRules(context.Background())
	if !errors.Is(err, errNoPermission) {
		t.Errorf("as uid %d: %d rules, err %v; want errNoPermission", os.Geteuid(), n, err)
	}
	// The collector on the real /proc: unknown, not a failure, even where
	// /proc/net/ip_tables_names is root's alone.
	c := newInventoryTest(t, Paths{Proc: "/proc"}, &config.Config{Inventory: config.InventoryConfig{Firewall: true}}, nil)
	got, err := collectText(t, &adapter{c: c}, "heartbeat_inventory_firewall_readable", "heartbeat_inventory_firewall_rules")
	if err != nil || !strings.Contains(got, "heartbeat_inventory_firewall_readable 0\n") || strings.Contains(got, "firewall_rules ") {
		t.Errorf("as uid %d: err %v, output\n%s", os.Geteuid(), err, got)
	}
}

type errUnshare struct{ err error }

func (e errUnshare) Error() string { return "unshare(CLONE_NEWNET): " + e.err.Error() }
