#!/usr/bin/env bash
# Issue 14's one-million run: a redis-server, SERVERS gateway processes in one cluster sharing PORT (--reuse-port,
# each under the 20,000 open-file cap), and `switchboard bench` holding CLIENTS handshaked SWB/1 sessions from
# worker processes of its own (started one after the other) across SOURCES loopback addresses, heartbeat HB s, for
# HOLD after the ramp; meanwhile PUSH_RATE pushes/s to random clients through server 1's API (any process may hold
# the client) and one broadcast through it to all. Every process uses the launcher's own JVM settings
# (./switchboard, lean by default). Prints one table: sessions held, system memory per session (MemAvailable
# before the servers start, less at the fullest sample) split into gateway processes, bench processes, Redis and
# the rest (the kernel: sockets at both ends), handshake rate, push latency, broadcast time, the CPU in use while
# every client is held (10 s samples), errors.
#
#   flock /tmp/swb-build.lock bench/c1m.sh            # ~20 minutes; CLIENTS=200000 HOLD=60s for a smaller run
#
# Safety: a watcher stops the run (everything it started) when MemAvailable falls below MIN_AVAILABLE_MB, and the
# bench itself starts no more workers below 1 GiB; both say so. Loopback only; everything stops at the end or on
# Ctrl-C. One sysctl is raised for the run and restored at the end: net.core.netdev_max_backlog (default 1,000
# packets per core), the queue every loopback packet passes through. With a million sockets the keepalive probes
# of connections made in the same second leave together; at 1,000 the queue overflowed on a saturated machine,
# four probes in a row were lost and the kernel reset 80,000 connections (TcpExtTCPAbortOnTimeout). Real NICs
# have their own queues; this is a loopback artefact. ip_local_port_range is left as it is (28,000 ports per
# source address; SOURCES has two addresses per worker).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-1000000}
PER_SERVER=${PER_SERVER:-18500}   # average per gateway; SO_REUSEPORT's hash spreads them unevenly
SERVERS=${SERVERS:-$(( (CLIENTS + PER_SERVER - 1) / PER_SERVER ))}
MAX_PER_SERVER=${MAX_PER_SERVER:-19600}
PER_WORKER=${PER_WORKER:-18500}
WORKERS=${WORKERS:-$(( (CLIENTS + PER_WORKER - 1) / PER_WORKER ))}
RATE=${RATE:-2000}
HOLD=${HOLD:-300s}
HB=${HB:-300}
PUSH_RATE=${PUSH_RATE:-1000}
PUSH_FOR=${PUSH_FOR:-60s}
PUSH_WARMUP=${PUSH_WARMUP:-20s}   # not measured: the push path compiles (lean JVMs, two compiler threads)
# API pushes in flight at most (the bench's HTTP connections to gateway 1, below its --api-max-connections of
# 1,000), so that the bench's own cap (64 by default) is not what limits the push rate. At a million clients on
# two cores it was not: ~550 pushes/s moved of the 1,000 asked for both with 64 and with 512 in flight (2026-12-04,
# one run each); the cores were the limit.
PUSH_CONCURRENCY=${PUSH_CONCURRENCY:-512}
PORT=${PORT:-17100}
API_PORT_BASE=${API_PORT_BASE:-18100}
REDIS_PORT=${REDIS_PORT:-17099}
# SERVER_ARGS: more gateway flags. With 55 gateways of 2,000 clients each (110,000, one run each, 2026-12-05) pushes
# moved 589/s with the defaults, 731/s with SERVER_ARGS="--event-loops 1" (no hop between loops) and 981/s of the
# 1,000 asked with that and SERVER_OPTS="-Xmx384m -XX:TieredStopAtLevel=1" (C1 only: 55 processes compiling the
# same code with C2 kept a third of a core busy). At a million clients the same two moved only ~100/s and the ramp
# ran at ~860 handshakes/s (the defaults, an earlier day: ~760/s and 1,492/s): with 18,000 clients per gateway the
# C1-only code's own cost seems to outweigh what C2 compiling cost (not separated). The defaults stay.
SERVER_OPTS=${SERVER_OPTS:--Xmx384m}
SERVER_ARGS=${SERVER_ARGS:-}
MIN_AVAILABLE_MB=${MIN_AVAILABLE_MB:-700}
# The clients' heartbeats (HB) already prove each connection alive; keepalive probes after the default 120 s of
# silence would add a probe and its answer per connection every few minutes (5,000 packets/s at 800,000 clients),
# so the gateways wait longer than one heartbeat before probing.
KEEPIDLE=${KEEPIDLE:-$((HB * 2))}
# Two source addresses per worker, from 127.0.0.2 up.
last_source=$(( 2 + 2 * WORKERS - 1 ))
SOURCES=${SOURCES:-127.0.0.2-127.0.$((last_source / 256)).$((last_source % 256))}

if [ "$SERVERS" -gt 500 ] || [ "$MAX_PER_SERVER" -gt 19800 ]; then
  echo "c1m: SERVERS=$SERVERS and MAX_PER_SERVER=$MAX_PER_SERVER: at most 500 servers of at most 19,800 clients" >&2
  exit 2
fi
command -v redis-server >/dev/null || { echo "c1m: needs redis-server (apt-get install redis-server)" >&2; exit 2; }
command -v jq >/dev/null || { echo "c1m: needs jq (apt-get install jq)" >&2; exit 2; }

jar=$(bench_jar)
export SWITCHBOARD_JAR=$jar
sb="$bench_root/switchboard"   # called directly, so that $! is the JVM (the launcher execs it)
mem_available_kb() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }
pss_kb() { # PIDS...: summed proportional set size (shared pages split fairly between the processes)
  local s=0 p v
  for p in "$@"; do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

BACKLOG=${BACKLOG:-65536}
backlog0=$(sysctl -n net.core.netdev_max_backlog)
if [ "$backlog0" -lt "$BACKLOG" ]; then
  sysctl -qw net.core.netdev_max_backlog="$BACKLOG" || { echo "c1m: cannot raise net.core.netdev_max_backlog (needs root)" >&2; exit 2; }
  c1m_restore() { sysctl -qw net.core.netdev_max_backlog="$backlog0"; }
  trap 'c1m_restore; bench_cleanup' EXIT
  echo "c1m: net.core.netdev_max_backlog $backlog0 -> $BACKLOG for the run (restored at the end)"
fi
softnet_drops() { local s=0 d; while read -r _ d _; do s=$((s + 16#$d)); done < /proc/net/softnet_stat; echo "$s"; }
drops0=$(softnet_drops)
echo "c1m: $CLIENTS clients on $SERVERS gateways (at most $MAX_PER_SERVER each) and $WORKERS bench workers"

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$bench_tmp" --save '' --appendonly no \
  > "$bench_tmp/redis.log" 2>&1 &
redis_pid=$!
bench_pids+=("$redis_pid")
# Redis is what every gateway waits on: on two cores shared with 110 JVMs it was starved until its answers took
# over 2 s (--cluster-timeout), and handshakes were refused with BYE 503. It gets a higher CPU priority.
renice -n -5 -p "$redis_pid" >/dev/null 2>&1 || echo "c1m: could not raise redis-server's priority (renice needs root)" >&2
deadline=$(( $(date +%s) + 10 ))
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "c1m: redis-server did not start (see $bench_tmp/redis.log)" >&2; exit 1; }
  sleep 0.1
done

# AOT caches (JDK 25, -XX:AOTCacheOutput): one short training run of a gateway and of the bench records the
# classes they load, linked, and their method profiles; every process then maps the same read-only file instead
# of building that metadata itself (4 idle gateways: 62 MB of PSS each against 69 MB without). A cache that does
# not fit the JVM is ignored with a warning. AOT=0 skips it.
AOT=${AOT:-1}
server_aot="" bench_aot=""
if [ "$AOT" = 1 ]; then
  t0=$(date +%s)
  JAVA_OPTS="$SERVER_OPTS -XX:AOTCacheOutput=$bench_tmp/server.aot" "$sb" server --port $((PORT + 1)) --bind 127.0.0.1 \
    --api-port "$API_PORT_BASE" --data-dir "$bench_tmp/data-train" --node train \
    --cluster "redis://127.0.0.1:$REDIS_PORT" > "$bench_tmp/train-server.log" 2>&1 &
  train_pid=$!
  bench_pids+=("$train_pid")
  wait_http "http://127.0.0.1:$API_PORT_BASE/healthz" 60 "$train_pid"
  JAVA_OPTS="-XX:AOTCacheOutput=$bench_tmp/bench.aot" "$sb" bench --target "127.0.0.1:$((PORT + 1))" \
    --api "http://127.0.0.1:$API_PORT_BASE" --id-prefix train- -c 2000 --rate 2000 --hold 6s --hb 5 \
    --push-rate 500 --push-duration 3s --push-warmup 0s --broadcast > "$bench_tmp/train-bench.log" 2>&1 \
    || { echo "c1m: the training bench failed (see below)" >&2; tail -5 "$bench_tmp/train-bench.log" >&2; exit 1; }
  kill "$train_pid"; wait "$train_pid" 2>/dev/null || true
  if [ -s "$bench_tmp/server.aot" ] && [ -s "$bench_tmp/bench.aot" ]; then
    server_aot="-XX:AOTCache=$bench_tmp/server.aot" bench_aot="-XX:AOTCache=$bench_tmp/bench.aot"
    echo "c1m: AOT caches trained in $(( $(date +%s) - t0 )) s ($(( $(stat -c %s "$bench_tmp/server.aot") >> 20 )) MB gateway," \
      "$(( $(stat -c %s "$bench_tmp/bench.aot") >> 20 )) MB bench)"
  else
    echo "c1m: no AOT cache was written (see $bench_tmp/train-*.log); going on without" >&2
  fi
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
fi

available0=$(mem_available_kb)
echo "c1m: MemAvailable $((available0 / 1024)) MB before the gateways start"
# The gateways one at a time: each compiles its hot code while the others are idle.
server_pids=()
t0=$(date +%s)
for i in $(seq 1 "$SERVERS"); do
  JAVA_OPTS="$SERVER_OPTS $server_aot" "$sb" server --port "$PORT" --reuse-port --bind 127.0.0.1 \
    --api-port $((API_PORT_BASE + i)) --data-dir "$bench_tmp/data-$i" --max-connections "$MAX_PER_SERVER" \
    --node "g$i" --cluster "redis://127.0.0.1:$REDIS_PORT" --tcp-keepidle "$KEEPIDLE" $SERVER_ARGS > "$bench_tmp/server-$i.log" 2>&1 &
  server_pids+=($!)
  bench_pids+=($!)
  wait_http "http://127.0.0.1:$((API_PORT_BASE + i))/healthz" 60 "${server_pids[-1]}" || { tail -5 "$bench_tmp/server-$i.log" >&2; exit 1; }
  [ $((i % 10)) = 0 ] && echo "c1m: $i of $SERVERS gateways up ($(( $(date +%s) - t0 )) s)"
done
echo "c1m: $SERVERS gateways up in $(( $(date +%s) - t0 )) s, joined: $(redis-cli -p "$REDIS_PORT" scard swb:nodes)"

# Every 10 s: sessions held (sum over the gateways' /v1/stats), MemAvailable, and who holds the memory; the sample
# with the most sessions is kept. Stops the run when memory runs low.
# One curl for every gateway and one jq for the sum: two processes per sample, not two per gateway (110 forks
# every 10 s took CPU from the run it measures).
stats_urls=()
for i in $(seq 1 "$SERVERS"); do stats_urls+=("http://127.0.0.1:$((API_PORT_BASE + i))/v1/stats"); done
sessions_now() {
  local total
  total=$(curl -s --max-time 2 "${stats_urls[@]}" 2>/dev/null | jq -n '[inputs | .connections? // 0] | add // 0' 2>/dev/null)
  echo "${total:-0}"
}
cpu_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; } # busy idle, all cores
(
  best=-1
  read -r busy0 idle0 < <(cpu_ticks)
  while sleep 10; do
    # The machine's CPU use in the last 10 s, kept while every client is held: how much room is left to push.
    read -r busy1 idle1 < <(cpu_ticks)
    busy_pct=$(( 100 * (busy1 - busy0) / ((busy1 - busy0) + (idle1 - idle0) + 1) ))
    busy0=$busy1 idle0=$idle1
    avail=$(mem_available_kb)
    if [ "$avail" -lt $((MIN_AVAILABLE_MB * 1024)) ]; then
      echo "c1m: MemAvailable $((avail / 1024)) MB is below MIN_AVAILABLE_MB=$MIN_AVAILABLE_MB: stopping the run" >&2
      echo "memory" > "$bench_tmp/stopped"
      kill -TERM $$ 2>/dev/null
      exit 0
    fi
    s=$(sessions_now)
    [ "$s" -ge "$CLIENTS" ] && echo "$busy_pct $(cut -d' ' -f1 /proc/loadavg)" >> "$bench_tmp/cpu-held"
    if [ "$s" -gt "$best" ]; then
      best=$s
      bench_pid=$(cat "$bench_tmp/bench.pid" 2>/dev/null || true)
      bench_all=()
      if [ -n "$bench_pid" ]; then
        mapfile -t bench_all < <(echo "$bench_pid"; pgrep -P "$bench_pid")
      fi
      echo "$s $avail $(pss_kb "${server_pids[@]}") $(pss_kb "${bench_all[@]}") $(pss_kb "$redis_pid") ${#bench_all[@]}" \
        > "$bench_tmp/peak"
    fi
  done
) &
bench_pids+=($!)

pids_csv=$(IFS=,; echo "${server_pids[*]}")
echo "c1m: bench: $CLIENTS clients at $RATE/s from $SOURCES, heartbeat ${HB}s, hold $HOLD;" \
  "$PUSH_RATE pushes/s ($PUSH_CONCURRENCY in flight at most) for $PUSH_FOR and a broadcast through gateway 1"
set +e
JAVA_OPTS="${JAVA_OPTS:-} $bench_aot" "$sb" bench --target "127.0.0.1:$PORT" --api "http://127.0.0.1:$((API_PORT_BASE + 1))" --workers "$WORKERS" \
  --source "$SOURCES" --connections "$CLIENTS" --rate "$RATE" --hold "$HOLD" --hb "$HB" \
  --push-rate "$PUSH_RATE" --push-duration "$PUSH_FOR" --push-warmup "$PUSH_WARMUP" --broadcast \
  --push-concurrency "$PUSH_CONCURRENCY" --server-pid "$pids_csv" --json "$bench_tmp/bench.json" &
bench_pid=$!
echo "$bench_pid" > "$bench_tmp/bench.pid"
bench_pids+=("$bench_pid")
wait "$bench_pid"
status=$?
set -e

j="$bench_tmp/bench.json"
[ -s "$j" ] || { echo "c1m: the bench wrote no report (exit $status)" >&2; exit 1; }
read -r peak_sessions peak_avail gw_kb bench_kb redis_kb bench_procs < "$bench_tmp/peak" || true
peak_sessions=${peak_sessions:-0}
per() { echo $(( $1 * 1024 / (peak_sessions > 0 ? peak_sessions : 1) )); }
used_kb=$((available0 - ${peak_avail:-$available0}))
rest_kb=$((used_kb - ${gw_kb:-0} - ${bench_kb:-0} - ${redis_kb:-0}))
echo
echo "== c1m: $CLIENTS clients, $SERVERS gateways sharing :$PORT, $(jq -r '.workers // 1' "$j") bench workers"
row() { printf '%-52s %s\n' "$1" "$2"; }
row "sessions held (handshaked, bench) / target" "$(jq -r '"\(.connections_established) / \(.connections_target)"' "$j")"
row "sessions held (gateways, fullest 10 s sample)" "$peak_sessions"
row "system memory used at that sample (MemAvailable)" "$((used_kb / 1024)) MB = $(per "$used_kb") B per session"
row "  gateway processes ($SERVERS, summed PSS)" "$((${gw_kb:-0} / 1024)) MB = $(per "${gw_kb:-0}") B per session"
row "  bench processes (${bench_procs:-0}, summed PSS)" "$((${bench_kb:-0} / 1024)) MB = $(per "${bench_kb:-0}") B per session"
row "  redis-server (PSS)" "$((${redis_kb:-0} / 1024)) MB = $(per "${redis_kb:-0}") B per session"
row "  the rest: kernel (sockets, both ends) and cache" "$((rest_kb / 1024)) MB = $(per "$rest_kb") B per session"
row "handshake rate (first connect to last WELCOME)" "$(jq -r '.handshakes_per_s | floor' "$j") /s"
row "pushes through gateway 1: sent / measured / failed" "$(jq -r '"\(.pushes_sent) / \(.pushes_received) / \(.pushes_failed)"' "$j")"
row "push latency p50 / p99 / p99.9" "$(jq -r '.push_latency_ms | "\(."p50.0") / \(."p99.0") / \(."p99.9") ms"' "$j")"
row "broadcast through gateway 1: reached, last arrival" "$(jq -r '"\(.broadcast_received) clients, \(.broadcast_last_arrival_ms) ms"' "$j")"
if [ -s "$bench_tmp/cpu-held" ]; then
  row "CPU busy (all cores) while all held: median, max" "$(sort -n "$bench_tmp/cpu-held" | awk '{b[NR] = $1} END {print b[int((NR + 1) / 2)] "%, " b[NR] "% (" NR " samples of 10 s)"}')"
  row "load average while all held: median" "$(sort -k2 -g "$bench_tmp/cpu-held" | awk '{l[NR] = $2} END {print l[int((NR + 1) / 2)]}')"
fi
row "packets dropped by the kernel's backlog queue" "$(( $(softnet_drops) - drops0 ))"
row "still open at end / errors" "$(jq -r '"\(.open_at_end) / \(.errors | if length == 0 then "none" else tostring end)"' "$j")"
failed_servers=0
for p in "${server_pids[@]}"; do kill -0 "$p" 2>/dev/null || failed_servers=$((failed_servers + 1)); done
row "gateways that exited during the run" "$failed_servers"
exit "$status"
