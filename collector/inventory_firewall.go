package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/google/nftables"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	invFirewallReadableDesc = inventoryDesc("firewall_readable", "1 if the nftables ruleset could be read (needs CAP_NET_ADMIN).")
	invFirewallRulesDesc    = inventoryDesc("firewall_rules", "Rules in the nftables ruleset, iptables-nft ones included.")
	invFirewallLegacyDesc   = inventoryDesc("firewall_legacy_tables", "iptables-legacy tables loaded (their rules are not counted).")
)

// errNoPermission marks a ruleset the exporter may not read: an unknown
// count, not a broken source.
var errNoPermission = errors.New("no permission to read the ruleset")

// nftablesRules counts the rules of every nftables table over netlink.
// Reading the ruleset needs CAP_NET_ADMIN, which the shipped unit does not
// grant: the count is then unknown (firewall_readable 0).
func nftablesRules(context.Context) (int, error) {
	conn, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return 0, err
	}
	defer conn.CloseLasting()
	return countRules(conn)
}

func countRules(conn *nftables.Conn) (int, error) {
	chains, err := conn.ListChains()
	if err != nil {
		return 0, permissionOr(err)
	}
	n := 0
	for _, ch := range chains {
		rules, err := conn.GetRules(ch.Table, ch)
		if err != nil {
			return 0, permissionOr(err)
		}
		n += len(rules)
	}
	return n, nil
}

func permissionOr(err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return errNoPermission
	}
	return err
}

// firewallRules: nftables through netlink when enabled; iptables-legacy
// (x_tables) rules can only be read with getsockopt(IPT_SO_GET_ENTRIES),
// CAP_NET_ADMIN and the kernel's struct layout, so for legacy only the
// loaded tables are counted, from /proc (mode 0440 root on most kernels:
// unknown, and left out, for an unprivileged exporter).
func (c *inventoryCollector) firewallRules(ctx context.Context, ch chan<- prometheus.Metric) error {
	var errs []error
	legacy, found := 0, false
	for _, names := range c.xtables {
		b, err := absentIsNil(names.Read())
		switch {
		case errors.Is(err, fs.ErrPermission):
			// Mode 0440 root: unknown to an unprivileged exporter.
			continue
		case err != nil:
			errs = append(errs, err)
		}
		if b != nil {
			found = true
			legacy += len(strings.Fields(string(b)))
		}
	}
	if found {
		sendGauge(ch, invFirewallLegacyDesc, float64(legacy))
	}
	if c.firewall == nil {
		return errors.Join(errs...)
	}
	n, err := c.firewall(ctx)
	switch {
	case errors.Is(err, errNoPermission):
		sendGauge(ch, invFirewallReadableDesc, 0)
	case err != nil:
		errs = append(errs, fmt.Errorf("nftables: %w", err))
	default:
		sendGauge(ch, invFirewallReadableDesc, 1)
		sendGauge(ch, invFirewallRulesDesc, float64(n))
	}
	return errors.Join(errs...)
}
