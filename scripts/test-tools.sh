#!/usr/bin/env bash
# Makes sure the outside programs the tests drive are installed.
# As root with apt-get, missing ones are installed from Debian; otherwise
# the tests that need them skip with a message saying which package to
# install. Under CI=true a missing tool is an error: a skip would hide a gap.
set -euo pipefail

# command -> Debian package
declare -A tools=(
  [promtool]=prometheus
  [clamd]=clamav-daemon [sigtool]=clamav
  [prometheus]=prometheus
  [prometheus-pushgateway]=prometheus-pushgateway
  [prometheus-alertmanager]=prometheus-alertmanager
  [journalctl]=systemd
)

missing_pkgs=()
for cmd in "${!tools[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing_pkgs+=("${tools[$cmd]}")
done
# Debian keeps systemd's helpers outside PATH.
[ -x /lib/systemd/systemd-journal-remote ] || [ -x /usr/lib/systemd/systemd-journal-remote ] ||
  missing_pkgs+=(systemd-journal-remote)
[ ${#missing_pkgs[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-tools: installing ${missing_pkgs[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
  exit 0
fi

if [ "${CI:-}" = true ]; then
  echo "test-tools: missing Debian packages ${missing_pkgs[*]} and cannot install them (not root)" >&2
  exit 1
fi
echo "test-tools: Debian packages ${missing_pkgs[*]} missing and not root: tests that need them will be SKIPPED" >&2
