#!/usr/bin/env bash
# What an idle process costs in CPU and wake-ups, with the launcher's own settings: one gateway (in a cluster with a
# redis-server of its own when CLUSTER=1, the default; alone with CLUSTER=0) holding N idle SWB/1 clients (heartbeat
# 300 s) from two bench workers. SETTLE s after the clients are up (the JIT compilers quieten), for SAMPLE s: per
# thread of the gateway and of one bench worker, wake-ups per second (voluntary context switches) and milliseconds
# of CPU per second (/proc/PID/task/*/schedstat). Every wake-up of a sleeping thread costs CPU of its own, and at
# a million clients this machine runs ~110 such processes (bench/c1m.sh).
#   bench/idle-cost.sh                 # N=2000 SETTLE=90 SAMPLE=30 CLUSTER=1
# Everything on 127.0.0.1; the script stops what it started.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-2000}
SETTLE=${SETTLE:-90}
SAMPLE=${SAMPLE:-30}
CLUSTER=${CLUSTER:-1}
PORT=${PORT:-17700}
API_PORT=${API_PORT:-18700}
REDIS_PORT=${REDIS_PORT:-17699}

jar=$(bench_jar)
export SWITCHBOARD_JAR=$jar
sb="$bench_root/switchboard"   # called directly, so that $! is the JVM (the launcher execs it)

cluster_args=()
if [ "$CLUSTER" = 1 ]; then
  command -v redis-server >/dev/null || { echo "idle-cost: CLUSTER=1 needs redis-server (apt-get install redis-server)" >&2; exit 2; }
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no > "$bench_tmp/redis.log" 2>&1 &
  bench_pids+=($!)
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cluster_args=(--cluster "redis://127.0.0.1:$REDIS_PORT" --node idle)
fi
"$sb" server --port "$PORT" --api-port "$API_PORT" --data-dir "$bench_tmp/data" "${cluster_args[@]}" \
  > "$bench_tmp/server.log" 2>&1 &
spid=$!
bench_pids+=("$spid")
wait_http "http://127.0.0.1:$API_PORT/healthz" 60
"$sb" bench --target "127.0.0.1:$PORT" --api none --workers 2 -c "$N" --rate 1000 --hb 300 \
  --hold "$((SETTLE + SAMPLE + 60))s" > "$bench_tmp/bench.log" 2>&1 &
bpid=$!
bench_pids+=("$bpid")
until grep -q "worker processes (pids" "$bench_tmp/bench.log"; do
  kill -0 "$bpid" 2>/dev/null || { echo "idle-cost: the bench ended early:" >&2; tail -5 "$bench_tmp/bench.log" >&2; exit 1; }
  sleep 1
done
wpid=$(pgrep -P "$bpid" | head -1 || true)
[ -n "$wpid" ] || { echo "idle-cost: no bench worker found" >&2; exit 1; }
echo "idle-cost: gateway${cluster_args:+ in a cluster} holding $N idle clients; settling ${SETTLE} s, then ${SAMPLE} s sampled"
sleep "$SETTLE"

snap() { # PID: one line per thread: tid name voluntary-switches cpu-ns
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s %s\n' "${t##*/}" "$(tr ' ' _ < "$t/comm")" \
      "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")" "$(cut -d' ' -f1 "$t/schedstat")"
  done 2>/dev/null
}
snap "$spid" > "$bench_tmp/s0"; snap "$wpid" > "$bench_tmp/w0"
sleep "$SAMPLE"
snap "$spid" > "$bench_tmp/s1"; snap "$wpid" > "$bench_tmp/w1"

report() { # TITLE BEFORE AFTER
  echo "$1"
  awk -v secs="$SAMPLE" 'NR == FNR {cs[$1] = $3; ns[$1] = $4; next}
    ($1 in cs) {w = ($3 - cs[$1]) / secs; c = ($4 - ns[$1]) / 1e6 / secs; tw += w; tc += c
      if (w >= 0.05 || c >= 0.01) printf "%8.3f %7.1f  %s\n", c, w, $2}
    END {printf "%8.3f %7.1f  TOTAL\n", tc, tw}' "$2" "$3" | sort -rn -k1,1 |
    awk '{row = sprintf("  %-22s %6.1f wake-ups/s %7.3f ms CPU/s", $3, $2, $1)}
      $3 == "TOTAL" {total = row; next} {rows[++n] = row}
      END {print total; for (i = 1; i <= n; i++) print rows[i]}'
}
report "gateway (launcher defaults${cluster_args:+, --cluster}):" "$bench_tmp/s0" "$bench_tmp/s1"
report "bench worker (holding about $((N / 2)) clients):" "$bench_tmp/w0" "$bench_tmp/w1"
