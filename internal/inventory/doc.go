// Package inventory parses what the inventory collector reads to tell
// what a server runs, exposes and protects: listening sockets in
// /proc/net, ClamAV's configuration files, /proc/cpuinfo, cgroup folder
// names of container runtimes, freshclam's log and the DNS TXT record of
// the published ClamAV database versions. It knows nothing about
// Prometheus; every parser takes bytes and is fuzzed.
package inventory
