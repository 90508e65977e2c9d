#!/usr/bin/env bash
# Issue 12's cluster figures, on one redis-server (Debian package, AOF everysec) and gateway processes (started by
# the launcher, with its JVM settings) joined with --cluster, each on ports of its own so that where a client is held
# is known:
#   1. push latency to CLIENTS clients held on node a, PUSH_RATE pushes/s to random ones for PUSH_FOR (after
#      PUSH_WARMUP not measured), latency from each push's intended send time: pushed through a's own API (local) and
#      through b's (cross-node: b's API, then its direct link to a; with --cluster-link off Redis and a's inbox
#      stream), alternated, RUNS runs each; medians, and the median of
#      each run's own difference (a local run and the cross-node run right after it see the machine in much the same
#      mood; two load generators at once, tried, loaded the two cores so that both read several times worse),
#      after a local and a cross-node run not counted (the nodes' JIT); and the CPU each push cost nodes a and b and
#      redis-server while the pushes were measured (their CPU time over the pushes sent meanwhile);
#   2. one broadcast through b reaching every client held on a (cross-node);
#   3. Redis memory per idle online client: used_memory with MEM_CLIENTS held on a, less before, divided;
#   4. kill -9 of node c while KILL_CLIENTS clients on it hold KILL_MSGS stored messages each (pushed through a,
#      unacknowledged); the clients reconnect to a and count what comes back: lost must be 0.
#   bench/cluster.sh                      # about 8 minutes; RUNS=1 PUSH_FOR=10s PUSH_WARMUP=5s for a quick look
#   SWITCHBOARD_JAR=/tmp/other.jar        # another build (an A/B comparison in one session)
#   NODE_JAVA_OPTS="-Xlog:gc:file=/tmp/gc-%p.log"   # more JVM options for every gateway node
#   NODE_ARGS="--cluster-link off"        # more server options for every node (here: routed pushes through Redis)
#   REDIS_TLS=1                           # the nodes reach Redis over TLS (rediss://, a certificate made by openssl
#                                         # for the run), and so their links take TLS too
# Needs redis-server. 127.0.0.1 only; every process it starts is stopped at the end.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-2000}
RUNS=${RUNS:-3}
PUSH_RATE=${PUSH_RATE:-1000}
PUSH_FOR=${PUSH_FOR:-20s}
# Pushes sent first and not measured: the JIT compiles the cross-node path (Redis, the inbox) in its first seconds.
PUSH_WARMUP=${PUSH_WARMUP:-10s}
HOLD=${HOLD:-34s}
MEM_CLIENTS=${MEM_CLIENTS:-10000}
KILL_CLIENTS=${KILL_CLIENTS:-200}
KILL_MSGS=${KILL_MSGS:-5}
BASE_PORT=${BASE_PORT:-17900}
NODE_JAVA_OPTS=${NODE_JAVA_OPTS:-}
NODE_ARGS=${NODE_ARGS:-}
REDIS_TLS=${REDIS_TLS:-0}

command -v redis-server >/dev/null || { echo "cluster: redis-server is not installed (apt-get install redis-server)" >&2; exit 2; }
jar=$(bench_jar)
java=$(java_cmd)
rport=$BASE_PORT
redis_cli() { redis-cli -p "$rport" "$@"; }

# The nodes' way to Redis; this script's own redis-cli stays on the plain port.
node_redis=(--cluster "redis://127.0.0.1:$rport") redis_tls=()
if [ "$REDIS_TLS" = 1 ]; then
  command -v openssl >/dev/null || { echo "cluster: REDIS_TLS=1 needs openssl (apt-get install openssl)" >&2; exit 2; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$bench_tmp/redis-key.pem" -out "$bench_tmp/redis-cert.pem" 2>/dev/null \
    || { echo "cluster: openssl could not make a certificate for Redis" >&2; exit 1; }
  redis_tls=(--tls-port $((rport + 1)) --tls-cert-file "$bench_tmp/redis-cert.pem" --tls-key-file "$bench_tmp/redis-key.pem"
    --tls-auth-clients no)
  node_redis=(--cluster "rediss://127.0.0.1:$((rport + 1))" --cluster-tls-ca "$bench_tmp/redis-cert.pem")
fi
redis-server --port "$rport" --bind 127.0.0.1 --dir "$bench_tmp" --save '' --appendonly yes --appendfsync everysec \
  --maxclients 1000 "${redis_tls[@]}" > "$bench_tmp/redis.log" 2>&1 &
redis_pid=$!
bench_pids+=("$redis_pid")
deadline=$(( $(date +%s) + 10 ))
until redis_cli ping >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "cluster: redis-server did not start" >&2; exit 1; }
  sleep 0.1
done

declare -A node_pid
# node NAME OFFSET: a gateway on client port BASE+OFFSET, API on BASE+OFFSET+1.
node() {
  local name=$1 port=$((BASE_PORT + $2))
  # Started by the launcher, with the JVM settings a user's `switchboard server` gets.
  env SWITCHBOARD_JAR="$jar" JAVA_OPTS="-Xmx1g $NODE_JAVA_OPTS" "$bench_root/switchboard" server "${node_redis[@]}" --node "$name" --port "$port" \
    --api-port $((port + 1)) --max-connections 19000 $NODE_ARGS > "$bench_tmp/node-$name.log" 2>&1 &
  node_pid[$name]=$!
  bench_pids+=($!)
  wait_http "http://127.0.0.1:$((port + 1))/healthz" 60
}
node a 10
node b 20
node c 30
disown "${node_pid[c]}"   # killed on purpose below: no job notice for it (the cleanup still kills it if it lives)
a_port=$((BASE_PORT + 10)); a_api=http://127.0.0.1:$((BASE_PORT + 11)); b_api=http://127.0.0.1:$((BASE_PORT + 21))
c_port=$((BASE_PORT + 30))
echo "cluster: redis :$rport$([ "$REDIS_TLS" = 1 ] && echo " (nodes over TLS on :$((rport + 1)))"), nodes a b c ($(redis_cli scard swb:nodes) joined); $CLIENTS clients on a, $PUSH_RATE pushes/s for $PUSH_FOR after $PUSH_WARMUP, $RUNS runs"

# cpu_now: sets sample to the CPU ticks (10 ms) of nodes a and b and of redis-server so far, and the time (ns). Pushes
# go out on a fixed schedule, PUSH_RATE a second, so the pushes between two samples are the rate times the time
# between them (a scrape of /metrics instead, once a second, runs on one of node a's loops and showed in the latency it
# measures). Bash built-ins only, no process started: the pushes being measured feel every fork on two cores.
cpu_now() {
  local pid f
  sample=""
  for pid in "${node_pid[a]}" "${node_pid[b]}" "$redis_pid"; do
    read -r -a f < "/proc/$pid/stat"   # java, redis-server: no space in the name, so utime and stime are f[13], f[14]
    sample+="$((f[13] + f[14])) "
  done
  sample+="${EPOCHREALTIME/./}000"
}

run() { # kind run
  local kind=$1 i=$2 api=$a_api log bpid
  [ "$kind" = cross ] && api=$b_api
  log="$bench_tmp/bench-$kind-$i.log"
  $java -Xmx1g -jar "$jar" bench --target "127.0.0.1:$a_port" --api "$api" --connections "$CLIENTS" --rate 2000 \
    --hold "$HOLD" --hb 60 --push-rate "$PUSH_RATE" --push-duration "$PUSH_FOR" --push-warmup "$PUSH_WARMUP" \
    --workers 1 --id-prefix "$kind$i-" --json "$bench_tmp/$kind-$i.json" > "$log" 2>&1 &
  bpid=$!
  bench_pids+=("$bpid")   # in the background it ignores Ctrl-C: the EXIT trap stops it
  # CPU over the measured pushes only, sampled once a second.
  sample_pushing "$bpid" "$log" cpu_now 1
  wait "$bpid" 2>/dev/null || true
  python3 - "$bench_tmp/$kind-$i.json" "$kind" "$i" "${pushing_first:-0 0 0 0}" \
    "${pushing_last:-0 0 0 0}" "$PUSH_RATE" <<'PY'
import json, sys
path, kind, i, c0, c1, rate = sys.argv[1:7]
try:
    r = json.load(open(path))
except (OSError, ValueError):
    print("%-6s run %s: no report" % (kind, i)); sys.exit(0)
p = r.get("push_latency_ms", {})
d = [int(b) - int(a) for a, b in zip(c0.split(), c1.split())]
pushes = int(rate) * d[3] / 1e9
us = [10000.0 * t / pushes if pushes > 0 else -1 for t in d[:3]]
print("%-6s run %s: p50 %.3f  p99 %.3f  p99.9 %.3f ms  sent %d received %d  CPU us per push: a %.0f b %.0f redis %.0f"
      % (kind, i, p.get("p50.0", -1), p.get("p99.0", -1), p.get("p99.9", -1), r.get("pushes_sent", 0),
         r.get("pushes_received", 0), us[0], us[1], us[2]))
PY
}
# A pair first, not counted: nodes a and b compile the local and the cross-node paths (without it the first run read
# far worse than the next ones: cross p99 29 ms against 8.5 and 9.2).
echo "cluster: a warm-up pair (not counted)"
PUSH_FOR=8s PUSH_WARMUP=2s HOLD=14s run local 0 > "$bench_tmp/warm-up.txt"
PUSH_FOR=8s PUSH_WARMUP=2s HOLD=14s run cross 0 >> "$bench_tmp/warm-up.txt"
for i in $(seq 1 "$RUNS"); do
  # In this shell, not a pipeline's subshell: the EXIT trap must see the processes it starts (Ctrl-C).
  for kind in local cross; do
    run "$kind" "$i" > "$bench_tmp/run-$kind-$i.txt"
    tee -a "$bench_tmp/results.txt" < "$bench_tmp/run-$kind-$i.txt"
  done
done

curl -fs "$b_api/v1/stats" | python3 -c 'import json, sys
c = json.load(sys.stdin)["cluster"]
print("cluster: b sent %d requests to other nodes, %d of them on direct links" % (c["routed_requests"],
      c.get("requests_over_links", 0)))' | tee -a "$bench_tmp/results.txt"

# Broadcast through b to the clients held on a; and Redis memory per online client, in the same hold.
before=$(redis_cli info memory | awk -F: '/^used_memory:/{print $2+0}')
$java -Xmx1g -jar "$jar" bench --target "127.0.0.1:$a_port" --api "$b_api" --connections "$MEM_CLIENTS" --rate 3000 \
  --hold 12s --hb 60 --broadcast --workers auto --id-prefix mem- --json "$bench_tmp/mem.json" \
  > "$bench_tmp/bench-mem.log" 2>&1 &
mem_bench=$!
bench_pids+=($mem_bench)
sleep 8
during=$(redis_cli info memory | awk -F: '/^used_memory:/{print $2+0}')
online=$(curl -fs "$a_api/v1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions_online"])')
wait "$mem_bench" || true

# kill -9 of node c with stored, unacknowledged messages on its clients.
kill_result=$(python3 - "$c_port" "$a_port" "$a_api" "$KILL_CLIENTS" "$KILL_MSGS" "${node_pid[c]}" <<'PY'
import os, signal, socket, sys, time, urllib.request
c_port, a_port, a_api, n, per, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def hello(port, cid):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    s.sendall(b"HELLO %s resume=0\n" % cid.encode())
    line = f.readline()
    if not line.startswith(b"WELCOME"):
        raise SystemExit("hello %s: %r" % (cid, line))
    return s, f
def read_msgs(f, want, until):
    got = []
    while len(got) < want and time.time() < until:
        try:
            line = f.readline()
        except socket.timeout:
            break
        if not line:
            break
        if line.startswith(b"MSG "):
            length = int(line.split()[2])
            got.append(f.read(length + 1)[:-1].decode())
    return got
ids = ["kill-%d" % j for j in range(n)]
conns = [hello(c_port, cid) for cid in ids]
answered = 0
for cid in ids:
    for k in range(per):
        req = urllib.request.Request("%s/v1/clients/%s/messages?ttl=300" % (a_api, cid), data=b"m%d" % k, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            answered += r.status == 200
for s, f in conns:                      # each client got its messages from c, and acknowledges none
    read_msgs(f, per, time.time() + 5)
os.kill(pid, signal.SIGKILL)
t0 = time.time()
back = 0
received = 0
for cid in ids:
    deadline = time.time() + 10
    while True:
        try:
            s, f = hello(a_port, cid)
            break
        except (OSError, SystemExit):
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    back += 1
    received += len(read_msgs(f, per, time.time() + 5))
    s.close()
print("clients %d/%d back on a in %.1f s; stored messages answered 200: %d, received again: %d, lost: %d" % (back, n,
      time.time() - t0, answered, received, answered - received))
PY
) || kill_result="failed: $kill_result"

python3 - "$bench_tmp/results.txt" "$bench_tmp/mem.json" "$before" "$during" "$online" "$kill_result" <<'PY'
import json, re, statistics, sys
results, mem_json, before, during, online, kill = sys.argv[1:7]
rows = {}
per_run = {}
for line in open(results):
    # A run's figures count when something was received (a failed run prints -1 latencies).
    m = re.match(r"(\w+)\s+run (\d+): p50 (-?[\d.]+)  p99 (-?[\d.]+)  p99.9 (-?[\d.]+) ms  sent (\d+) received (\d+)", line)
    if m and int(m.group(7)) > 0:
        per_run.setdefault(m.group(2), {})[m.group(1)] = [float(x) for x in m.groups()[2:5]]
    m = re.match(r"(\w+)\s+run \d+: p50 (-?[\d.]+)  p99 (-?[\d.]+)  p99.9 (-?[\d.]+) ms  sent (\d+) received (\d+)", line)
    if m and int(m.group(6)) > 0:
        rows.setdefault(m.group(1), []).append([float(x) for x in m.groups()[1:]])
    elif m or "no report" in line:
        print("failed run, left out of the medians:", line.strip())
med = {k: [statistics.median(c) for c in zip(*v)] for k, v in rows.items()}
print("\nmedians                    p50 ms   p99 ms  p99.9 ms")
for kind, label in (("local", "local (a's API)"), ("cross", "cross-node (b's API)")):
    if kind in med:
        m = med[kind]
        print("%-24s %8.3f %8.3f %9.3f" % (label, m[0], m[1], m[2]))
if "local" in med and "cross" in med:
    l, c = med["local"], med["cross"]
    print("%-24s %+8.3f %+8.3f %+9.3f   (difference of the medians)" % ("cross - local", c[0] - l[0], c[1] - l[1], c[2] - l[2]))
    diffs = [[b - a for a, b in zip(r["local"], r["cross"])] for r in per_run.values() if len(r) == 2]
    if diffs:
        d = [statistics.median(c) for c in zip(*diffs)]
        print("%-24s %+8.3f %+8.3f %+9.3f   (median of the %d runs' own differences; target: p99 at most +1 ms)" % (
              "cross - local, per run", d[0], d[1], d[2], len(diffs)))
cpu = {}
for line in open(results):
    m = re.match(r"(\w+)\s+run \d+: .* CPU us per push: a (-?\d+) b (-?\d+) redis (-?\d+)", line)
    if m and int(m.group(2)) >= 0:
        cpu.setdefault(m.group(1), []).append([int(x) for x in m.groups()[1:]])
if cpu:
    print("\nserver CPU per push (us, medians)     node a   node b    redis    total")
    for kind, label in (("local", "local (a's API)"), ("cross", "cross-node (b's API, a)")):
        if kind in cpu:
            m = [statistics.median(c) for c in zip(*cpu[kind])]
            print("%-36s %8.0f %8.0f %8.0f %8.0f" % (label, m[0], m[1], m[2], sum(m)))
try:
    r = json.load(open(mem_json))
    print("broadcast through b to %s clients on a: last arrival %s ms" % (r.get("broadcast_received", "?"),
          r.get("broadcast_last_arrival_ms", "?")))
except (OSError, ValueError):
    print("broadcast: no report")
n = int(online or 0)
if n > 0:
    print("Redis memory per online client: %.0f B (%d online on a, used_memory %d -> %d; target at most 200 B)" % (
          (int(during) - int(before)) / n, n, int(before), int(during)))
print("kill -9 of node c:", kill)
PY
