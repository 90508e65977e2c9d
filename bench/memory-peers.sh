#!/usr/bin/env bash
# Issue 3 run c: the same N idle connections held by Switchboard, Mosquitto, Redis and NATS, one after the other,
# each peer a fresh process on loopback; prints one table of the peer's RSS growth per held connection
# (`bench --server-pid PID --api none`: RSS after the ramp minus before, over the connections established), the
# kernel slab per connection (both ends, /proc/meminfo), and each peer's RSS per connection against Switchboard's.
#   flock /tmp/swb-build.lock bench/memory-peers.sh      # nothing builds meanwhile; N=2000 for a quick run
# Clients: Switchboard SWB/1 (HELLO, hb); MQTT 3.1.1 with one QoS 0 subscription (Switchboard's MQTT listener and
# Mosquitto); Redis SUBSCRIBE; NATS SUB.
# Needs mosquitto, redis-server and nats-server (Debian packages of those names); a missing one is skipped.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-10000}
RATE=${RATE:-5000}
HB=${HB:-120}
BASE_PORT=${BASE_PORT:-17100}
SERVER_HEAP=${SERVER_HEAP:-1g}
# Every peer, and the bench, holds N sockets in one process: stay under the per-process open-file cap.
fd_cap=$(ulimit -n)
if [ "$fd_cap" != unlimited ] && [ $((N + 200)) -gt "$fd_cap" ]; then
  echo "memory-peers: N=$N does not fit the open-file limit $fd_cap of one process (N + 200 at most)" >&2
  exit 2
fi
if [ ! -f "$bench_root/dist/target/switchboard.jar" ] && ! flock -n /tmp/swb-build.lock true; then
  echo "memory-peers: no jar yet and the build lock is held (by this run?): build first (mvn -DskipTests install)" >&2
  exit 2
fi

jar=$(bench_jar)
java=$(java_cmd)
results="$bench_tmp/results"
: > "$results"

# wait_port PORT SECONDS: until something accepts on 127.0.0.1:PORT.
wait_port() {
  local deadline=$(( $(date +%s) + $2 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "memory-peers: nothing listens on :$1 after $2 s" >&2; return 1; }
    sleep 0.1
  done
}

# stop PID: ends one peer this script started and forgets it (its pid must not be signalled again later).
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${bench_pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  bench_pids=("${keep[@]}")
}

# json_num FILE KEY: the first number under KEY in the bench's JSON report ("-" when absent).
json_num() {
  local v
  v=$(grep -o "\"$2\" *: *-\?[0-9.]*" "$1" 2>/dev/null | head -n1 | sed 's/.*: *//')
  echo "${v:--}"
}

# measure NAME VERSION PROTOCOL PORT PID: holds N clients on the peer and records one result line.
measure() {
  local name=$1 version=$2 protocol=$3 port=$4 pid=$5 json="$bench_tmp/$1.json"
  echo "memory-peers: $name ($version, pid $pid) on :$port: $N $protocol clients at $RATE/s" >&2
  $java -Xmx1g -jar "$jar" bench --protocol "$protocol" --target "127.0.0.1:$port" --connections "$N" \
    --rate "$RATE" --hold 0s --hb "$HB" --api none --server-pid "$pid" --id-prefix "mp-$name-" \
    --json "$json" > "$bench_tmp/$name.bench.log" 2>&1 || true
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "memory-peers: $name exited during the run" >&2
  fi
  grep -E "errors|established" "$bench_tmp/$name.bench.log" | tail -n 2 | sed "s/^/  $name: /" >&2
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$version" "$(json_num "$json" connections_established)" \
    "$(json_num "$json" server_pids_rss_per_client_bytes)" \
    "$(json_num "$json" kernel_slab_per_connection_both_ends_bytes)" >> "$results"
}

skipped() {
  printf '%s\t%s\t-\t-\t-\n' "$1" "not installed" >> "$results"
}

# ---- Switchboard: started by the launcher as a user starts it (its JVM settings for -Xmx$SERVER_HEAP: collector,
# young generation, class archive, malloc arenas), heap capped but not pre-touched (its growth is RSS).
port=$BASE_PORT
SWITCHBOARD_JAR="$jar" JAVA_OPTS="-Xmx$SERVER_HEAP" "$bench_root/switchboard" server --port "$port" --data-dir "$bench_tmp/data" \
  --api-port $((port + 1)) --max-connections $((N + 100)) > "$bench_tmp/switchboard.log" 2>&1 &
pid=$!
bench_pids+=("$pid")
wait_http "http://127.0.0.1:$((port + 1))/healthz" 30 "$pid"
measure switchboard "$(sed -n 's/.*<version>\(.*\)<\/version>.*/\1/p' "$bench_root/pom.xml" | head -n1) jdk$(switchboard_java_major "$JAVA_HOME")" \
  swb "$port" "$pid"
stop "$pid"

# ---- Switchboard's MQTT listener: the same server and flags, MQTT 3.1.1 clients as for Mosquitto.
port=$((BASE_PORT + 5))
SWITCHBOARD_JAR="$jar" JAVA_OPTS="-Xmx$SERVER_HEAP" "$bench_root/switchboard" server --port "$port" --data-dir "$bench_tmp/data-mqtt" \
  --mqtt-port $((port + 2)) --api-port $((port + 1)) --max-connections $((N + 100)) > "$bench_tmp/switchboard-mqtt.log" 2>&1 &
pid=$!
bench_pids+=("$pid")
wait_http "http://127.0.0.1:$((port + 1))/healthz" 30 "$pid"
measure switchboard-mqtt "$(sed -n 's/.*<version>\(.*\)<\/version>.*/\1/p' "$bench_root/pom.xml" | head -n1) jdk$(switchboard_java_major "$JAVA_HOME")" \
  mqtt $((port + 2)) "$pid"
stop "$pid"

# ---- Mosquitto: one anonymous listener, no persistence, no per-connection log lines.
port=$((BASE_PORT + 10))
if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; then
  mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  cat > "$bench_tmp/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
log_dest stderr
log_type error
log_type warning
connection_messages false
EOF
  "$mosquitto_bin" -c "$bench_tmp/mosquitto.conf" > "$bench_tmp/mosquitto.log" 2>&1 &
  pid=$!
  bench_pids+=("$pid")
  wait_port "$port" 10
  measure mosquitto "$("$mosquitto_bin" -h 2>/dev/null | sed -n 's/^mosquitto version \([^ ]*\).*/\1/p' | head -n1)" \
    mqtt "$port" "$pid"
  stop "$pid"
else
  skipped mosquitto
fi

# ---- Redis: pub/sub only, nothing saved, room for N clients (its default maxclients is 10,000).
port=$((BASE_PORT + 20))
if command -v redis-server >/dev/null; then
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --maxclients $((N + 100)) \
    --dir "$bench_tmp" > "$bench_tmp/redis.log" 2>&1 &
  pid=$!
  bench_pids+=("$pid")
  wait_port "$port" 10
  measure redis "$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')" redis "$port" "$pid"
  stop "$pid"
else
  skipped redis
fi

# ---- NATS: core NATS, defaults.
port=$((BASE_PORT + 30))
if command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ]; then
  nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  "$nats_bin" -a 127.0.0.1 -p "$port" > "$bench_tmp/nats.log" 2>&1 &
  pid=$!
  bench_pids+=("$pid")
  wait_port "$port" 10
  measure nats "$("$nats_bin" --version | sed 's/^nats-server: v//')" nats "$port" "$pid"
  stop "$pid"
else
  skipped nats
fi

# ---- The table.
echo
echo "== idle connections held per peer: N=$N, one peer at a time, loopback, $(nproc) cores"
awk -F '\t' -v n="$N" '
  function fmt(v) { return v == "-" ? "-" : sprintf("%d B", v) }
  NR == 1 { base = $4 }
  { rows[NR] = $0 }
  END {
    printf "%-17s %-21s %12s %13s %22s %19s\n", "peer", "version", "established", "RSS per conn",
      "kernel slab per conn*", "RSS vs Switchboard"
    for (i = 1; i <= NR; i++) {
      split(rows[i], f, "\t")
      ratio = (f[4] == "-" || base == "-" || base <= 0) ? "-" : sprintf("%.2fx", f[4] / base)
      est = f[3] == "-" ? "-" : f[3] "/" n
      printf "%-17s %-21s %12s %13s %22s %19s\n", f[1], f[2], est, fmt(f[4]), fmt(f[5]), ratio
    }
    print "* both ends of each loopback connection (bench client and peer), from /proc/meminfo Slab"
  }' "$results"
