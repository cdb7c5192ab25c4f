# Shared by the bench scripts: source it after `cd` to the repository.

# free_addr prints 127.0.0.1:PORT for a port nothing listens on (a random
# one in 20000-32767, below Linux's ephemeral range), so a bench never
# fails on, or measures, a port some other program holds.
free_addr() {
  local port i
  for i in $(seq 1 200); do
    port=$((20000 + RANDOM % 12768))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "127.0.0.1:$port"
      return 0
    fi
  done
  echo "free_addr: no free port found" >&2
  return 1
}
