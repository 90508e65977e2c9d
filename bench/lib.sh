# Shared by the bench scripts: JDK discovery, a private copy of the jar (a rebuild cannot pull it away from a
# running benchmark), waiting for a server, and cleanup of everything a script started.
set -euo pipefail
bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../scripts/jdk.sh
. "$bench_root/scripts/jdk.sh"
switchboard_find_jdk || exit 2

bench_tmp="$(mktemp -d /tmp/switchboard-bench.XXXXXX)"
# The servers a script starts read these themselves (README, Configuration): taken from the caller's shell, they
# would make every push and /v1/stats of the run a 401, and every figure from them wrong.
unset SWITCHBOARD_API_TOKEN SWITCHBOARD_JWT_SECRET
bench_pids=()
# Every process this script started, however deep (a server started inside `run ... | tee`, a subshell whose
# bench_pids never reach this shell, is one too).
bench_descendants() {
  local c
  for c in $(pgrep -P "$1" 2>/dev/null); do
    echo "$c"
    bench_descendants "$c"
  done
}
bench_cleanup() {
  local all p left i
  all=("${bench_pids[@]:-}")
  # shellcheck disable=SC2207 # process ids: one word each
  all+=($(bench_descendants $$))
  if [ "$(ps -o pgid= $$ 2>/dev/null | tr -d ' ')" = "$$" ]; then
    # Run from a shell prompt, the script leads its process group, which every process it started stays in, also
    # one whose parent (a pipeline's subshell) ended first on Ctrl-C and left it to init.
    trap '' INT TERM
    # Not those beside it in the prompt's pipeline (bench/x.sh | tee log: tee is in the group too), whose parent is
    # the prompt's shell.
    local q
    for q in $(pgrep -g $$ 2>/dev/null); do
      [ "$q" != "$$" ] && [ "$(ps -o ppid= "$q" 2>/dev/null | tr -d ' ')" != "$PPID" ] && all+=("$q")
    done
  fi
  for p in "${all[@]}"; do
    # A process stopped (SIGSTOP, a pause test) takes TERM only once continued: else the wait below never ends.
    [ -n "$p" ] && { kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; } || true
  done
  for i in $(seq 1 50); do # up to 10 s for them to end, then KILL: cleanup never hangs
    left=0
    for p in "${all[@]}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.2
  done
  for p in "${all[@]}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true; done
  for p in "${bench_pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$bench_tmp"
}
trap bench_cleanup EXIT
# Ctrl-C or SIGTERM ends the script (cleanup runs through the EXIT trap).
trap 'exit 130' INT TERM

# The jar under test: dist/target/switchboard.jar (built when missing), or SWITCHBOARD_JAR=path (an A/B comparison
# of two builds in one session).
bench_jar() {
  if [ -n "${SWITCHBOARD_JAR:-}" ]; then
    [ -f "$SWITCHBOARD_JAR" ] || { echo "bench: SWITCHBOARD_JAR=$SWITCHBOARD_JAR: no such file" >&2; exit 2; }
    cp "$SWITCHBOARD_JAR" "$bench_tmp/switchboard.jar"
    echo "$bench_tmp/switchboard.jar"
    return
  fi
  if [ ! -f "$bench_root/dist/target/switchboard.jar" ] || [ "${SWITCHBOARD_REBUILD:-0}" = 1 ]; then
    # Under `flock /tmp/swb-build.lock bench/x.sh` (as the scripts' headers suggest) the lock is this run's own:
    # waiting for it would never end.
    if ! flock -n /tmp/swb-build.lock true; then
      echo "bench: the jar must be built, and the build lock /tmp/swb-build.lock is held (by this run, started under" \
        "flock, or by a build under way): build first (mvn -DskipTests install), then run again" >&2
      exit 2
    fi
    echo "bench: building the jar ..." >&2
    (cd "$bench_root" && flock /tmp/swb-build.lock mvn -q -B -DskipTests install >&2)
  fi
  cp "$bench_root/dist/target/switchboard.jar" "$bench_tmp/switchboard.jar"
  echo "$bench_tmp/switchboard.jar"
}

java_cmd() {
  echo "$JAVA_HOME/bin/java -XX:+UseCompactObjectHeaders --enable-native-access=ALL-UNNAMED -XX:-OmitStackTraceInFastThrow -Dio.netty.allocator.maxOrder=9"
}

# wait_http URL SECONDS [PID]: until URL answers; with PID, fails at once when that process ended (a port taken by
# a server left from an earlier run would answer for it).
wait_http() {
  local url="$1" deadline=$(( $(date +%s) + $2 )) pid="${3:-}"
  until curl -fs --max-time 2 -o /dev/null "$url"; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "bench: the process meant to answer $url (pid $pid) ended" >&2
      return 1
    fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "bench: $url did not come up within $2 s" >&2; return 1; }
    sleep 0.2
  done
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
    echo "bench: $url answers, but the process meant to (pid $pid) ended: another process holds the port" >&2
    return 1
  fi
}

# jit_ticks PID: CPU ticks of the process's JIT compiler threads so far (0 for a process without any), so that a
# benchmark shows how much of a JVM's CPU while measuring was still compiling rather than pushing.
jit_ticks() {
  local sum=0 t c
  for t in /proc/"$1"/task/*; do
    c=$(cat "$t/comm" 2>/dev/null || true)
    case $c in "C1 Compiler"*|"C2 Compiler"*) sum=$((sum + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0))) ;; esac
  done
  echo "$sum"
}

# start_jvm_server PORT NAME [SERVER FLAGS...]: a server started by the launcher from $jar with -Xmx1g on PORT (API on
# PORT+1, data in $bench_tmp/data-NAME, log in $bench_tmp/server-NAME.log), once it answers; sets server_pid (the
# launcher's) and server_jvm (its JVM's, for /proc and jstat).
start_jvm_server() {
  local port=$1 name=$2
  shift 2
  SWITCHBOARD_JAR="$jar" JAVA_OPTS="-Xmx1g" "$bench_root/switchboard" server --port "$port" \
    --api-port $((port + 1)) --data-dir "$bench_tmp/data-$name" "$@" > "$bench_tmp/server-$name.log" 2>&1 &
  server_pid=$!
  bench_pids+=("$server_pid")
  wait_http "http://127.0.0.1:$((port + 1))/healthz" 60 "$server_pid"
  server_jvm=$(pgrep -f "java.*server --port $port " | head -1 || true)
  [ -n "$server_jvm" ] || { echo "bench: the server's JVM on port $port was not found" >&2; return 1; }
}

# sample_pushing BPID LOG SAMPLER EVERY: while the bench BPID runs, calls SAMPLER (a function that sets `sample`) at each
# new '] pushing ' progress line in its LOG (looked for every EVERY seconds), so that a figure covers the measured
# pushes only (after the ramp and the warm-up); sets pushing_first and pushing_last to the first and the last samples
# (empty when the bench printed none).
sample_pushing() {
  local bpid=$1 log=$2 sampler=$3 every=$4 seen=0 lines
  pushing_first="" pushing_last=""
  while kill -0 "$bpid" 2>/dev/null; do
    lines=$(grep -c '] pushing ' "$log" 2>/dev/null || true)
    if [ "${lines:-0}" -gt "$seen" ]; then
      seen=$lines
      "$sampler"
      pushing_last=$sample
      [ -n "$pushing_first" ] || pushing_first=$sample
    fi
    sleep "$every"
  done
}
