#!/usr/bin/env bash
# What connections that come and go leave behind in a long-running process: the proxy (MODE=proxy, the default:
# `./switchboard proxy` in front of an echo upstream) or the gateway (MODE=server: `./switchboard server`, SWB/1
# clients), started by the launcher with its own settings, holds BASE connections while ROUNDS rounds of PER
# connections each connect (with an echo probe or a handshake), and close; the process's RSS and its old
# generation (jcmd GC.heap_info) are printed every 5 rounds and 35 s after the last (one look of the old-generation
# bound, every 30 s, has happened). Runs twice: with the bound (the default) and without it
# (-Dswitchboard.tenuredBound=false), so the two are compared in one run.
#   cd /work/main && flock /tmp/swb-build.lock bench/churn-memory.sh           # about 4 minutes
#   MODE=server ROUNDS=40 bench/churn-memory.sh
# Everything on 127.0.0.1 (clients from 127.0.1.1-127.0.1.8); the script stops what it started.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE=${MODE:-proxy}
BASE=${BASE:-3000}
ROUNDS=${ROUNDS:-30}
PER=${PER:-4000}
PORT=${PORT:-17500}
case "$MODE" in proxy|server) ;; *) echo "churn-memory: MODE=$MODE: proxy or server" >&2; exit 2 ;; esac
jar=$(bench_jar)
java=$(java_cmd)
"$JAVA_HOME/bin/javac" -d "$bench_tmp/echo" "$bench_root/bench/EchoServer.java"
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# old_gen PID: "committed used" of the Serial old generation, in KiB.
old_gen() { "$JAVA_HOME/bin/jcmd" "$1" GC.heap_info 2>/dev/null | awk '/Tenured/ {print $3, $5}'; }

# run LABEL EXTRA_JAVA_OPTS: one process, BASE held, ROUNDS of churn.
run() {
  local label=$1 opts=$2 spid epid bpid i metrics=$((PORT + 2)) client_args=()
  if [ "$MODE" = proxy ]; then
    "$JAVA_HOME/bin/java" -Xms64m -Xmx256m -XX:+UseSerialGC -cp "$bench_tmp/echo" EchoServer 127.0.0.1 \
      "$((PORT + 1))" > "$bench_tmp/echo-$label.log" 2>&1 &
    epid=$!
    bench_pids+=("$epid")
    (SWITCHBOARD_JAR="$jar" JAVA_OPTS="$opts" exec "$bench_root/switchboard" proxy --listen "127.0.0.1:$PORT" \
      --upstream "127.0.0.1:$((PORT + 1))" --max-connections 9500 --metrics-port "$metrics") \
      > "$bench_tmp/$label.log" 2>&1 &
    spid=$!
    client_args=(--protocol raw --echo-check --hb 1)
  else
    (SWITCHBOARD_JAR="$jar" JAVA_OPTS="$opts" exec "$bench_root/switchboard" server --port "$PORT" \
      --api-port "$metrics" --data-dir "$bench_tmp/data-$label" --max-connections 9500) \
      > "$bench_tmp/$label.log" 2>&1 &
    spid=$!
    client_args=(--hb 300)
  fi
  bench_pids+=("$spid")
  wait_http "http://127.0.0.1:$metrics/healthz" 60
  $java -Xmx512m -jar "$jar" bench "${client_args[@]}" --api none --target "127.0.0.1:$PORT" --connections "$BASE" \
    --rate 5000 --hold 3600s --source 127.0.1.1-127.0.1.8 --id-prefix base- > "$bench_tmp/base-$label.log" 2>&1 &
  bpid=$!
  bench_pids+=("$bpid")
  sleep 5
  printf '%-9s %5s %9s %9s %18s\n' "$label" round "churned" "RSS MB" "old gen used/MB"
  printf '%-9s %5s %9s %9s %18s\n' "" 0 0 $(( $(rss_kb "$spid") / 1024 )) "$(old_gen "$spid" | awk '{printf "%d / %d", $2/1024, $1/1024}')"
  for i in $(seq "$ROUNDS"); do
    $java -Xmx256m -XX:TieredStopAtLevel=1 -jar "$jar" bench "${client_args[@]}" --api none \
      --target "127.0.0.1:$PORT" --connections "$PER" --rate 8000 --hold 0s --source 127.0.1.1-127.0.1.8 \
      --id-prefix "c$i-" > "$bench_tmp/churn-$label.log" 2>&1 || true
    if [ $((i % 5)) = 0 ]; then
      printf '%-9s %5s %9s %9s %18s\n' "" "$i" $((i * PER)) $(( $(rss_kb "$spid") / 1024 )) "$(old_gen "$spid" | awk '{printf "%d / %d", $2/1024, $1/1024}')"
    fi
  done
  sleep 35
  printf '%-9s %5s %9s %9s %18s\n' "" "+35 s" $((ROUNDS * PER)) $(( $(rss_kb "$spid") / 1024 )) "$(old_gen "$spid" | awk '{printf "%d / %d", $2/1024, $1/1024}')"
  grep -h "heap: the old generation" "$bench_tmp/$label.log" | sed 's/^.*heap: /          bound: /' || true
  kill "$bpid" 2>/dev/null || true
  wait "$bpid" 2>/dev/null || true
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  [ "$MODE" = proxy ] && { kill "$epid" 2>/dev/null || true; wait "$epid" 2>/dev/null || true; }
  echo
}

echo "churn-memory: ./switchboard $MODE (launcher settings${JAVA_OPTS:+ + JAVA_OPTS=$JAVA_OPTS}), $BASE held," \
  "$ROUNDS rounds of $PER connections that come and go; $(date -u +%Y-%m-%dT%H:%MZ)"
run bound "${JAVA_OPTS:-}"
run unbound "${JAVA_OPTS:-} -Dswitchboard.tenuredBound=false"
