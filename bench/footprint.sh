#!/usr/bin/env bash
# Issue 14's per-process figures, with the launcher's own settings (./switchboard server, plus JAVA_OPTS if given):
# the idle gateway's private memory (Private_Clean + Private_Dirty from /proc/PID/smaps_rollup, IDLE_AFTER s after
# it answered /healthz, 15 by default: settled, the JIT compilers' start-up memory trimmed; 5 s read ~6 MB more): all
# it maps that no other process maps now, libjvm's and the class archives' file pages included) and its dirty part
# alone (Private_Dirty: what each further gateway process costs, the file pages being shared between them), and
# its RSS growth per idle handshaked SWB/1 session while N clients are held (bench --server-pid, no API calls),
# read twice: right after the ramp, and at the end of a HOLD-second hold (what an idle session costs once the
# ramp's garbage and the JIT compilers' freed memory are gone; the target is judged on this one); RUNS fresh
# servers, medians.
#   bench/footprint.sh                                  # N=19000 RUNS=3
#   JAVA_OPTS='-XX:+UseSerialGC -Xmn8m' bench/footprint.sh   # the same with other JVM flags
#   SERVER_ARGS="--transport io_uring" bench/footprint.sh     # the same with other server flags
# Everything on 127.0.0.1; the script stops what it started.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-19000}
RUNS=${RUNS:-3}
RATE=${RATE:-5000}
HOLD=${HOLD:-30}
IDLE_AFTER=${IDLE_AFTER:-15}
PORT=${PORT:-17600}
API_PORT=${API_PORT:-18600}
SERVER_ARGS=${SERVER_ARGS:-}
fd_cap=$(ulimit -n)
if [ "$fd_cap" != unlimited ] && [ $((N + 200)) -gt "$fd_cap" ]; then
  echo "footprint: N=$N does not fit the open-file limit $fd_cap of one process (N + 200 at most)" >&2
  exit 2
fi

jar=$(bench_jar)
# The servers run this copy too: a source edited during the run would have the launcher rebuild its jar between
# runs (and write a new class archive), mixing two builds in the medians.
export SWITCHBOARD_JAR="$jar"
java=$(java_cmd)
private_kb() { awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$1/smaps_rollup"; }
dirty_kb() { awk '/^Private_Dirty:/ {s += $2} END {print s}' "/proc/$1/smaps_rollup"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
idle=() dirty=() per=() per_ramp=() bad_runs=0
echo "footprint: ./switchboard server${SERVER_ARGS:+ $SERVER_ARGS}${JAVA_OPTS:+ with JAVA_OPTS='$JAVA_OPTS'};" \
  "$N idle SWB/1 clients, $RUNS runs"
# The launcher's class archive (see ./switchboard) is written when a server exits without one: one short start and
# stop first, so that every measured run maps it as a user's second start does; then a pause, so that its pages are
# written back (a page not yet written to disk counts as dirty in every process that maps it).
# shellcheck disable=SC2086 # SERVER_ARGS are words
"$bench_root/switchboard" server $SERVER_ARGS --port "$PORT" --api-port "$API_PORT" \
  --data-dir "$bench_tmp/data-warm" --drain-period 1 > "$bench_tmp/server-warm.log" 2>&1 &
wpid=$!
wait_http "http://127.0.0.1:$API_PORT/healthz" 60 "$wpid"
kill "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true
sync
sleep 2
for run in $(seq 1 "$RUNS"); do
  # shellcheck disable=SC2086 # SERVER_ARGS are words
  "$bench_root/switchboard" server $SERVER_ARGS --port "$PORT" --api-port "$API_PORT" \
    --data-dir "$bench_tmp/data-$run" --max-connections $((N + 100)) > "$bench_tmp/server-$run.log" 2>&1 &
  spid=$!
  bench_pids+=("$spid")
  wait_http "http://127.0.0.1:$API_PORT/healthz" 60 "$spid"
  sleep "$IDLE_AFTER"
  idle_kb=$(private_kb "$spid")
  idle_dirty=$(dirty_kb "$spid")
  idle_rss=$(rss_kb "$spid")
  $java -Xmx1g -jar "$jar" bench --target "127.0.0.1:$PORT" --connections "$N" --rate "$RATE" --hold "${HOLD}s" --hb 300 \
    --api none --server-pid "$spid" --json "$bench_tmp/run-$run.json" > "$bench_tmp/bench-$run.log" 2>&1 || true
  j="$bench_tmp/run-$run.json"
  # A figure missing (a server gone: no key; no JSON at all) is an empty one here, not the end of the script.
  ramp=$(grep -so '"server_pids_rss_per_client_bytes" *: *[0-9.]*' "$j" | sed 's/.*: *//' || true)
  b=$(grep -so '"server_pids_rss_per_client_end_bytes" *: *[0-9.]*' "$j" | sed 's/.*: *//' || true)
  est=$(grep -so '"connections_established" *: *[0-9]*' "$j" | sed 's/.*: *//' || true)
  echo "footprint: run $run: idle private $((idle_kb / 1024)) MB, of it dirty $((idle_dirty / 1024)) MB" \
    "(RSS $((idle_rss / 1024)) MB), RSS per session" \
    "${b:-?} B after the ${HOLD} s hold (${ramp:-?} B right after the ramp; $est established)"
  idle+=("$idle_kb") dirty+=("$idle_dirty")
  # A run whose server died, whose clients were not all held, or whose figure is missing (null in the JSON) is left
  # out of the medians, said so, and fails the script: taken as 0 B it made the median look better.
  if [ -z "$b" ] || [ -z "$ramp" ] || [ "${est:-0}" != "$N" ] || ! kill -0 "$spid" 2>/dev/null; then
    echo "footprint: run $run LEFT OUT of the RSS medians (figure ${b:-missing}, ${est:-0} of $N established," \
      "server $(kill -0 "$spid" 2>/dev/null && echo alive || echo GONE)); see $bench_tmp/bench-$run.log" >&2
    bad_runs=$((bad_runs + 1))
  else
    per+=("$b") per_ramp+=("$ramp")
  fi
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
if [ ${#per[@]} -eq 0 ]; then
  echo "footprint: no run held its $N sessions to the end: no RSS figure" >&2
  exit 1
fi
echo "footprint: medians: idle private $(( $(median "${idle[@]}" | cut -d. -f1) / 1024 )) MB (dirty" \
  "$(( $(median "${dirty[@]}" | cut -d. -f1) / 1024 )) MB), RSS per idle session $(median "${per[@]}") B" \
  "after the hold ($(median "${per_ramp[@]}") B right after the ramp) (targets: 40 MB, 1,500 B)"
if [ "$bad_runs" -gt 0 ]; then
  echo "footprint: $bad_runs of $RUNS runs left out (above): the medians are of the others" >&2
  exit 1
fi
