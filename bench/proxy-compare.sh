#!/usr/bin/env bash
# Issue 5's benchmark: Switchboard's TCP proxy against HAProxy (mode tcp) and nginx (stream module), each its own
# fresh processes started by this script on loopback, all forwarding to the same upstreams; prints one table:
#   1. Memory per idle forwarded connection: with BASE connections held through the proxy (after a warm-up of as
#      many), N more to an echo upstream; `bench --protocol raw --echo-check --server-pid` reads the proxy's RSS
#      (all its processes: nginx master + workers) before and after, over N. Switchboard runs as a user's
#      `./switchboard proxy` does (the launcher's JVM settings, plus JAVA_OPTS if given): its RSS growth, heap pages
#      included, is what it costs (mem/conn = RSS/conn). SWB_JVM=pretouch runs it as before instead (java -jar,
#      G1, JAVA_OPTS or -Xms256m -Xmx256m -XX:+AlwaysPreTouch): RSS growth is then what is not heap, and the live
#      heap growth after a full GC (jcmd GC.run; GC.heap_info) is added: mem/conn = RSS/conn + heap/conn.
#      With the launcher's settings one ramp of N is too few for a JVM's RSS (it reuses heap pages the warm-up
#      touched, and trims its native heap every 2 s: three runs read 851 to 9,722 B); --hold-100k is the reading.
#   2. Bulk throughput: iperf3 client -> proxy -> iperf3 server, -P 1 and -P 100, -t IPERF_T s, median of RUNS.
#   3. Forwarded-connection setup rate: SETUP_N connections offered at a rate no proxy reaches, timed at the
#      upstream from its first accept to its last (connections the proxy really forwarded), median of RUNS.
# The runs of 2 and 3 go round-robin over the proxies (run 1 of each, then run 2, ...), so that a slower minute
# on this shared machine does not land on one proxy. A "direct" row (no proxy) gives the loopback ceiling.
#   cd /work/main && flock /tmp/swb-build.lock bench/proxy-compare.sh               # about 5.5 minutes
#   cd /work/main && flock /tmp/swb-build.lock bench/proxy-compare.sh --hold-100k   # + about 2 minutes
# --hold-100k adds: 100,000 forwarded connections held through PROXIES100K Switchboard proxy processes sharing one
# port (--reuse-port, --max-connections 9,000 each = 18,000 files), upstream connections spread over the source
# addresses 127.0.0.2-127.0.0.20, to ECHO100K echo processes sharing one port (bench/EchoServer.java), clients from
# `bench --protocol raw --workers auto --source 127.0.1.1-127.0.1.20`; then the same through as many HAProxy
# processes (HAPROXY100K=0 skips them), for the ratio of the two in one run. SKIP_COMPARE=1 runs only that part.
# SWB_PROXY_ARGS adds options to Switchboard's proxy in parts 1-3, e.g. SWB_PROXY_ARGS=--splice (then each connection
# holds 6 files instead of 2: N and BASE must fit, e.g. N=1500 BASE=1500 under 20,000 open files).
# Needs haproxy, nginx + libnginx-mod-stream, iperf3, jq (Debian packages). Stops everything it started on exit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# lib.sh cleans up on EXIT, INT and TERM; on a signal this script must also stop, not carry on without its processes.
trap 'exit 130' INT
trap 'exit 143' TERM

N=${N:-5000}                      # idle connections for the RSS reading
RSS_RATE=${RSS_RATE:-5000}        # their connect rate (every proxy keeps up with it)
RSS_HOLD=${RSS_HOLD:-6s}          # held that long after the ramp (one echo probe each, after the readings)
SETUP_HOLD=${SETUP_HOLD:-1s}      # setup-rate ramps: held that long (the proxy finishes forwarding), then closed
BASE=${BASE:-3000}                # warm-up connections, then as many held under the N measured
SETUP_N=${SETUP_N:-5000}          # connections per setup-rate run
SETUP_RATE=${SETUP_RATE:-100000}  # offered connect rate for the setup-rate runs (far above any proxy here)
RUNS=${RUNS:-3}
IPERF_T=${IPERF_T:-10}
DIRECT_RUNS=${DIRECT_RUNS:-1}     # runs of the no-proxy reference row
PROXY_MAXCONN=${PROXY_MAXCONN:-9500}
SWB_JVM=${SWB_JVM:-launcher}      # launcher (./switchboard proxy, as users run it) or pretouch (see above)
case "$SWB_JVM" in
  launcher) SWB_JAVA_OPTS=${JAVA_OPTS:-} ;;
  pretouch) SWB_JAVA_OPTS=${JAVA_OPTS:--Xms256m -Xmx256m -XX:+AlwaysPreTouch} ;;
  *) echo "proxy-compare: SWB_JVM=$SWB_JVM: launcher or pretouch" >&2; exit 2 ;;
esac
SWB_PROXY_ARGS=${SWB_PROXY_ARGS:-}
BASE_PORT=${BASE_PORT:-17400}
SKIP_COMPARE=${SKIP_COMPARE:-0}
HOLD_100K=0
CONNS100K=${CONNS100K:-100000}
PROXIES100K=${PROXIES100K:-12}
PER_PROXY100K=${PER_PROXY100K:-9000}
ECHO100K=${ECHO100K:-7}
RATE100K=${RATE100K:-5000}
HOLD100K=${HOLD100K:-60s}
for a in "$@"; do
  case "$a" in
    --hold-100k) HOLD_100K=1 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "proxy-compare: unknown argument $a (only --hold-100k)" >&2; exit 2 ;;
  esac
done

# ---- preconditions: tools, open-file cap, a jar.
missing=()
for t in haproxy nginx iperf3 jq curl ss; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || missing+=("$t")
done
nginx_stream_so=/usr/lib/nginx/modules/ngx_stream_module.so
[ -f "$nginx_stream_so" ] || missing+=(libnginx-mod-stream)
if [ "$SKIP_COMPARE" != 1 ] && [ ${#missing[@]} -gt 0 ]; then
  echo "proxy-compare: missing ${missing[*]}: apt-get install -y haproxy nginx libnginx-mod-stream iperf3 jq" >&2
  exit 2
fi
PATH="$PATH:/usr/sbin"
fd_cap=$(ulimit -n)
fds_per_conn=2
case " $SWB_PROXY_ARGS " in *" --splice "*) fds_per_conn=6 ;; esac  # 2 sockets + 2 pipes
if [ "$fd_cap" != unlimited ] && [ $((fds_per_conn * (N + BASE) + 500)) -gt "$fd_cap" ]; then
  echo "proxy-compare: N=$N + BASE=$BASE need $((fds_per_conn * (N + BASE) + 500)) open files in one proxy process; the limit is $fd_cap" >&2
  exit 2
fi
if [ ! -f "$bench_root/dist/target/switchboard.jar" ] && ! flock -n /tmp/swb-build.lock true; then
  echo "proxy-compare: no jar yet and the build lock is held (by this run?): build first (mvn -DskipTests install)" >&2
  exit 2
fi
jar=$(bench_jar)
java=$(java_cmd)
# swb_proxy ARGS...: Switchboard's proxy in the foreground of a subshell (the caller puts it in the background).
swb_proxy() {
  if [ "$SWB_JVM" = launcher ]; then
    SWITCHBOARD_JAR="$jar" JAVA_OPTS="$SWB_JAVA_OPTS" exec "$bench_root/switchboard" proxy "$@"
  else
    exec $java -XX:+UseG1GC -XX:MaxGCPauseMillis=50 $SWB_JAVA_OPTS -jar "$jar" proxy "$@"
  fi
}
"$JAVA_HOME/bin/javac" -d "$bench_tmp/echo" "$bench_root/bench/EchoServer.java"
echo_java="$JAVA_HOME/bin/java -Xms64m -Xmx256m -XX:+UseSerialGC -cp $bench_tmp/echo EchoServer"
started=$(date +%s)

# ---- helpers
say() { echo "proxy-compare: $*" >&2; }
swb_jvm_said() {
  if [ "$SWB_JVM" = launcher ]; then echo "the launcher's settings${SWB_JAVA_OPTS:+ + JAVA_OPTS=$SWB_JAVA_OPTS}"
  else echo "java -XX:+UseG1GC $SWB_JAVA_OPTS (heap pre-touched)"; fi
}

# free_port VAR: sets VAR to the next port from BASE_PORT up that no socket uses (not in a subshell: it counts on).
next_port=$BASE_PORT
free_port() {
  local p=$next_port
  while [ -n "$(ss -Htan "sport = :$p" 2>/dev/null | head -n1)" ]; do p=$((p + 1)); done
  next_port=$((p + 1))
  printf -v "$1" '%s' "$p"
}

# wait_port PORT SECONDS: until something accepts on 127.0.0.1:PORT.
wait_port() {
  local deadline=$(( $(date +%s) + $2 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { say "nothing listens on :$1 after $2 s"; return 1; }
    sleep 0.1
  done
}

# stop PID...: ends processes this script started (SIGTERM, then SIGKILL after 10 s) and forgets them.
stop() {
  local p keep=() deadline
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  deadline=$(( $(date +%s) + 10 ))
  for p in "$@"; do
    while kill -0 "$p" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for p in "${bench_pids[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
  bench_pids=("${keep[@]}")
}

# forget PID...: drops processes that already ended (and were waited for) from the cleanup list.
forget() {
  local p keep=()
  for p in "${bench_pids[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
  bench_pids=("${keep[@]}")
}

# rss_sum PID...: summed VmRSS in bytes.
rss_sum() {
  local p s=0 kb
  for p in "$@"; do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    s=$((s + ${kb:-0} * 1024))
  done
  echo "$s"
}

# echo_stat FILE KEY: a counter from an echo server's status file.
echo_stat() { sed -n "s/.*\b$2=\([0-9-]*\).*/\1/p" "$1" 2>/dev/null | head -n1; }

# echo_open_sum FILE...: connections open at the echo upstream(s).
echo_open_sum() {
  local f s=0 v
  for f in "$@"; do v=$(echo_stat "$f" open); s=$((s + ${v:-0})); done
  echo "$s"
}

# wait_echo_open CMP COUNT SECONDS FILE...: until the upstream's open connections compare (ge|eq) to COUNT.
wait_echo_open() {
  local cmp=$1 count=$2 deadline=$(( $(date +%s) + $3 )) o
  shift 3
  while :; do
    o=$(echo_open_sum "$@")
    if [ "$cmp" = ge ] && [ "$o" -ge "$count" ]; then return 0; fi
    if [ "$cmp" = eq ] && [ "$o" -eq "$count" ]; then return 0; fi
    [ "$(date +%s)" -lt "$deadline" ] || { say "upstream holds $o connections, expected $cmp $count"; return 1; }
    if [ -n "${WATCH_PID:-}" ] && ! kill -0 "$WATCH_PID" 2>/dev/null; then
      say "upstream holds $o connections, expected $cmp $count; the bench has ended"
      return 1
    fi
    sleep 0.2
  done
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

json_get() { jq -r "$2 // \"-\"" "$1" 2>/dev/null || echo -; }

# bench_raw NAME PORT CONNECTIONS RATE HOLD EXTRA...: the bench's raw client against 127.0.0.1:PORT, in the
# foreground; with BG=1 in the background, its pid in bench_pid (and on the cleanup list).
bench_raw() {
  local name=$1 port=$2 conns=$3 rate=$4 hold=$5
  shift 5
  local cmd=(timeout 600 $java -Xmx1g -jar "$jar" bench --protocol raw --api none --target "127.0.0.1:$port"
    --connections "$conns" --rate "$rate" --hold "$hold" --source 127.0.1.1-127.0.1.8 --id-prefix "pc-$name-" "$@")
  if [ "${BG:-0}" = 1 ]; then
    "${cmd[@]}" > "$bench_tmp/bench-$name.log" 2>&1 &
    bench_pid=$!
    bench_pids+=("$bench_pid")
  else
    "${cmd[@]}" > "$bench_tmp/bench-$name.log" 2>&1
  fi
}

# ---- the proxies. start_NAME LISTEN_PORT UPSTREAM_PORT sets proxy_pids (all its processes, main first).
proxy_pids=()

start_switchboard() {
  local mport
  free_port mport
  (swb_proxy --listen "127.0.0.1:$1" --upstream "127.0.0.1:$2" --max-connections "$PROXY_MAXCONN" \
    --drain-timeout 2 --metrics-port "$mport" $SWB_PROXY_ARGS) > "$bench_tmp/switchboard-$1.log" 2>&1 &
  proxy_pids=($!)
  bench_pids+=($!)
  wait_http "http://127.0.0.1:$mport/healthz" 30
}

start_haproxy() {
  cat > "$bench_tmp/haproxy-$1.cfg" <<EOF
global
  maxconn $PROXY_MAXCONN
  nbthread 2
defaults
  mode tcp
  maxconn $PROXY_MAXCONN
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend fe
  bind 127.0.0.1:$1
  default_backend be
backend be
  server up 127.0.0.1:$2
EOF
  haproxy -db -f "$bench_tmp/haproxy-$1.cfg" > "$bench_tmp/haproxy-$1.log" 2>&1 &
  proxy_pids=($!)
  bench_pids+=($!)
  wait_port "$1" 10
}

start_nginx() {
  local dir="$bench_tmp/nginx-$1" w
  mkdir -p "$dir/logs"
  cat > "$dir/nginx.conf" <<EOF
load_module $nginx_stream_so;
daemon off;
master_process on;
worker_processes 2;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 20000; }
stream {
  server {
    listen 127.0.0.1:$1 backlog=4096;
    proxy_pass 127.0.0.1:$2;
    proxy_timeout 1h;
  }
}
EOF
  nginx -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" > "$dir/logs/stdout.log" 2>&1 &
  proxy_pids=($!)
  bench_pids+=($!)
  wait_port "$1" 10
  for _ in $(seq 50); do
    [ "$(pgrep -P "${proxy_pids[0]}" | wc -l)" -ge 2 ] && break
    sleep 0.1
  done
  for w in $(pgrep -P "${proxy_pids[0]}"); do proxy_pids+=("$w"); done
}

version_of() {
  case "$1" in
    switchboard) echo "$(sed -n 's/.*<version>\(.*\)<\/version>.*/\1/p' "$bench_root/pom.xml" | head -n1) jdk$(switchboard_java_major "$JAVA_HOME")${SWB_PROXY_ARGS:+ $SWB_PROXY_ARGS}" ;;
    haproxy) haproxy -v 2>&1 | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p' | head -n1 ;;
    nginx) nginx -v 2>&1 | sed 's/.*nginx\///' ;;
    direct) echo "-" ;;
  esac
}

# live_heap_kb PID: a JVM's used heap after a full GC, in KiB (jcmd; "-" when it cannot be read).
live_heap_kb() {
  "$JAVA_HOME/bin/jcmd" "$1" GC.run > /dev/null 2>&1 || { echo -; return; }
  "$JAVA_HOME/bin/jcmd" "$1" GC.heap_info 2>/dev/null | sed -n 's/.* used \([0-9]*\)K.*/\1/p' | head -n1 | grep . || echo -
}

# heap_sum_kb PID...: live_heap_kb summed over JVMs, read in parallel ("-" when one cannot be read).
heap_sum_kb() {
  local p i=0 jobs=() sum=0 v
  for p in "$@"; do live_heap_kb "$p" > "$bench_tmp/heap-$p" & jobs+=($!); done
  for p in "${jobs[@]}"; do wait "$p" || true; done
  for p in "$@"; do
    v=$(cat "$bench_tmp/heap-$p" 2>/dev/null || echo -)
    [ "$v" = - ] && { echo -; return; }
    sum=$((sum + v))
  done
  echo "$sum"
}

# wait_log FILE TEXT SECONDS PID: until TEXT is in FILE (or PID has ended, or time is up).
wait_log() {
  local deadline=$(( $(date +%s) + $3 ))
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$4" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

names=(switchboard haproxy nginx)
declare -A version a_port a_pids b_port b_pids rss heap est echo_back errs setup client t1 t100
for p in "${names[@]}" direct; do
  version[$p]=$(version_of "$p")
  rss[$p]=- heap[$p]=- est[$p]=- echo_back[$p]=- errs[$p]=- setup[$p]="" client[$p]="" t1[$p]="" t100[$p]=""
done
# runs_for NAME: how many runs of 2 and 3 (the no-proxy reference gets DIRECT_RUNS).
runs_for() { if [ "$1" = direct ]; then echo "$DIRECT_RUNS"; else echo "$RUNS"; fi; }

# memory NAME: part 1 on the proxy's echo-facing instance.
memory() {
  local name=$1 port=${a_port[$1]} pids=(${a_pids[$1]}) pids_csv before settled u0=- u1=- base_pid bpid j
  pids_csv=$(IFS=,; echo "${pids[*]}")
  say "== memory: $name (${version[$name]}), pids $pids_csv on :$port -> echo :$echo_port"
  # Warm-up (JIT, pools, first-touch pages), not measured; then as many held, so that what the warm-up left
  # pooled is in use again and each of the N measured connections costs what one more connection costs.
  bench_raw "$name-warmup" "$port" "$BASE" "$RSS_RATE" 2s --echo-check --hb 1 || true
  wait_echo_open eq 0 60 "$echo_status" || true
  BG=1 bench_raw "$name-base" "$port" "$BASE" "$RSS_RATE" 600s
  base_pid=$bench_pid
  WATCH_PID=$base_pid wait_echo_open ge "$BASE" 30 "$echo_status" || true
  sleep 1
  [ "$name" = switchboard ] && [ "$SWB_JVM" = pretouch ] && u0=$(live_heap_kb "${pids[0]}")
  before=$(rss_sum "${pids[@]}")
  BG=1 bench_raw "$name-rss" "$port" "$N" "$RSS_RATE" "$RSS_HOLD" --echo-check --hb 5 \
    --server-pid "$pids_csv" --json "$bench_tmp/$name-rss.json"
  bpid=$bench_pid
  # Once the upstream holds them all and the bench has taken its reading (before the first echo probe at 5 s):
  # the RSS again ("settled", a cross-check of the bench's reading) and the live heap.
  settled=-
  if WATCH_PID=$bpid wait_echo_open ge $((BASE + N)) 30 "$echo_status" \
      && wait_log "$bench_tmp/bench-$name-rss.log" "ramp done" 30 "$bpid"; then
    sleep 0.3
    settled=$(( ($(rss_sum "${pids[@]}") - before) / N ))
    [ "$name" = switchboard ] && [ "$SWB_JVM" = pretouch ] && u1=$(live_heap_kb "${pids[0]}")
  fi
  wait "$bpid" || true
  forget "$bpid"
  stop "$base_pid"
  j="$bench_tmp/$name-rss.json"
  rss[$name]=$(json_get "$j" .server_pids_rss_per_client_bytes)
  est[$name]=$(json_get "$j" .connections_established)
  echo_back[$name]="$(json_get "$j" .messages_received)/$(json_get "$j" .pings_sent)"
  errs[$name]=$(json_get "$j" '.errors | if length == 0 then "none" else tostring end')
  if [ "$u0" != - ] && [ "$u1" != - ]; then heap[$name]=$(( (u1 - u0) * 1024 / N )); fi
  say "  RSS per conn: bench ${rss[$name]} B, settled $settled B; live heap per conn ${heap[$name]} B (${u0}K -> ${u1}K);" \
      "established ${est[$name]}/$N; echo probes back ${echo_back[$name]}; errors ${errs[$name]}"
  wait_echo_open eq 0 60 "$echo_status" || true
}

# setup_run NAME PORT I: one ramp of SETUP_N; appends the upstream's and the client's rates.
setup_run() {
  local name=$1 port=$2 i=$3 n first last r j="$bench_tmp/$1-setup$3.json"
  wait_echo_open eq 0 60 "$echo_status" || true
  bench_raw "$name-setup$i" "$port" "$SETUP_N" "$SETUP_RATE" "$SETUP_HOLD" --json "$j" || true
  n=$(echo_stat "$echo_status" burst_accepted)
  first=$(echo_stat "$echo_status" burst_first_ns)
  last=$(echo_stat "$echo_status" burst_last_ns)
  r=-
  if [ "${n:-0}" -gt 1 ] && [ "$last" -gt "$first" ]; then
    r=$(awk -v n="$n" -v a="$first" -v b="$last" 'BEGIN {printf "%.0f", (n - 1) / ((b - a) / 1e9)}')
    setup[$name]="${setup[$name]} $r"
    [ "$n" -lt "$SETUP_N" ] && say "  $name setup run $i: only $n of $SETUP_N connections reached the upstream"
  fi
  client[$name]="${client[$name]} $(json_get "$j" '.handshakes_per_s | floor')"
  say "  setup run $i $name: $r conn/s at the upstream, $(json_get "$j" '.handshakes_per_s | floor') at the client" \
      "(accept queue overflows $(json_get "$j" .ramp_listen_overflows))"
}

# iperf_run NAME PORT PARALLEL: one iperf3 run; appends Gbit/s received to t1 or t100.
iperf_run() {
  local name=$1 port=$2 par=$3 v
  v=$(timeout $((IPERF_T + 30)) iperf3 -c 127.0.0.1 -p "$port" -t "$IPERF_T" -P "$par" -i 0 -J \
        2>/dev/null | jq -r '.end.sum_received.bits_per_second // empty' 2>/dev/null || true)
  if [ -n "$v" ]; then
    v=$(awk -v b="$v" 'BEGIN {printf "%.2f", b / 1e9}')
    if [ "$par" = 1 ]; then t1[$name]="${t1[$name]} $v"; else t100[$name]="${t100[$name]} $v"; fi
  else
    v=failed
  fi
  say "  iperf3 -P $par $name: $v Gbit/s"
  sleep 0.5
}

if [ "$SKIP_COMPARE" != 1 ]; then
  free_port echo_port
  echo_status="$bench_tmp/echo.status"
  $echo_java 127.0.0.1 "$echo_port" --status "$echo_status" > "$bench_tmp/echo.log" 2>&1 &
  bench_pids+=($!)
  free_port iperf_port
  iperf3 -s -B 127.0.0.1 -p "$iperf_port" --idle-timeout 60 > "$bench_tmp/iperf3-server.log" 2>&1 &
  bench_pids+=($!)
  wait_port "$echo_port" 20
  wait_port "$iperf_port" 10
  say "upstreams: echo :$echo_port, iperf3 server :$iperf_port; N=$N (+$BASE held), $RUNS runs each, iperf3 -t $IPERF_T"

  # Echo-facing instances of all three (an idle proxy costs the others nothing), memory one at a time.
  for p in "${names[@]}"; do
    free_port port
    "start_$p" "$port" "$echo_port"
    a_port[$p]=$port
    a_pids[$p]="${proxy_pids[*]}"
  done
  a_port[direct]=$echo_port
  for p in "${names[@]}"; do memory "$p"; done

  say "== setup rate: $SETUP_N connections at --rate $SETUP_RATE, round-robin"
  for i in $(seq "$RUNS"); do
    for p in "${names[@]}" direct; do
      if [ "$i" -le "$(runs_for "$p")" ]; then setup_run "$p" "${a_port[$p]}" "$i"; fi
    done
  done
  for p in "${names[@]}"; do
    a=(${a_pids[$p]})
    stop "${a[0]}"
  done

  # iperf3-facing instances, fresh; a short warm-up each, then the runs round-robin.
  say "== throughput: iperf3 -t $IPERF_T, round-robin"
  for p in "${names[@]}"; do
    free_port port
    "start_$p" "$port" "$iperf_port"
    b_port[$p]=$port
    b_pids[$p]="${proxy_pids[*]}"
  done
  b_port[direct]=$iperf_port
  for p in "${names[@]}" direct; do
    timeout 20 iperf3 -c 127.0.0.1 -p "${b_port[$p]}" -t 2 -P 4 > /dev/null 2>&1 || say "  iperf3 warm-up through $p failed"
    sleep 0.5
  done
  for par in 1 100; do
    for i in $(seq "$RUNS"); do
      for p in "${names[@]}" direct; do
        if [ "$i" -le "$(runs_for "$p")" ]; then iperf_run "$p" "${b_port[$p]}" "$par"; fi
      done
    done
  done
  for p in "${names[@]}"; do
    b=(${b_pids[$p]})
    stop "${b[0]}"
  done

  results="$bench_tmp/results"
  : > "$results"
  for p in "${names[@]}" direct; do
    m=-
    if [ "${rss[$p]}" != - ]; then
      m=${rss[$p]}
      [ "${heap[$p]}" != - ] && m=$((m + heap[$p]))
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "${version[$p]}" "${est[$p]}" "${rss[$p]}" \
      "${heap[$p]}" "$m" "${echo_back[$p]}" "$(echo "${t1[$p]}" | median)" "$(echo "${t100[$p]}" | median)" \
      "$(echo "${setup[$p]}" | median)" "$(echo "${client[$p]}" | median)" "$(runs_for "$p")" >> "$results"
  done

  echo
  echo "== proxy-compare: N=$N idle forwarded connections (+$BASE held), setup ramps of $SETUP_N at --rate $SETUP_RATE, iperf3 -t $IPERF_T; loopback, $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "   iperf3 $(iperf3 --version | sed -n '1s/^iperf \([^ ]*\).*/\1/p'), $(uname -sr); Switchboard JVM: $(swb_jvm_said); medians of the runs shown"
  awk -F '\t' '
    function ratio(v, b) { return (v == "-" || b == "-" || b + 0 <= 0) ? "-" : sprintf("%.2fx", v / b) }
    function b(v) { return v == "-" ? "-" : v " B" }
    { rows[NR] = $0; if ($1 == "haproxy") { hm = $6; h1 = $8; h100 = $9; hs = $10 } }
    END {
      fmt = "%-11s %-17s %6s %8s %9s %8s %6s %9s | %6s %6s | %6s %6s | %7s %6s %8s %4s\n"
      printf fmt, "proxy", "version", "estab.", "RSS/conn", "heap/conn", "mem/conn", "vs HAP", "echo back",
        "1 conn", "vs HAP", "100 c.", "vs HAP", "setup/s", "vs HAP", "client/s", "runs"
      for (i = 1; i <= NR; i++) {
        split(rows[i], f, "\t")
        printf fmt, f[1], f[2], f[3], b(f[4]), b(f[5]), b(f[6]), f[1] == "direct" ? "" : ratio(f[6], hm),
          f[7] == "-/-" || f[7] == "-" ? "-" : f[7], f[8], ratio(f[8], h1), f[9], ratio(f[9], h100), f[10],
          ratio(f[10], hs), f[11], f[12]
      }
    }' "$results"
  cat <<EOF
RSS/conn: the proxy's RSS (all its processes) after the ramp minus before, over N (bench --server-pid), with $BASE
  other connections held throughout after a warm-up of as many. heap/conn: Switchboard's live heap growth after a
  full GC, over N, with SWB_JVM=pretouch only (its heap is pre-touched, so heap growth is not in its RSS).
  mem/conn = RSS/conn + heap/conn.
1 conn / 100 c.: iperf3 -P 1 / -P 100, Gbit/s received. setup/s: forwarded connections per second, the upstream's
  first to last accept; client/s: the bench's count (connect done = accepted by the proxy's kernel, not forwarded).
Targets (issue 5): mem/conn vs HAProxy <= 1.00x; throughput vs HAProxy >= 0.90x.
EOF
  say "part 1 took $(( $(date +%s) - started )) s"
fi

# ---- optional: 100,000 forwarded connections across several Switchboard proxy processes.
if [ "$HOLD_100K" = 1 ]; then
  if ! $java -jar "$jar" bench --help 2>/dev/null | grep -q -- '--workers'; then
    say "--hold-100k: this jar's bench has no --workers yet; skipped"
    exit 0
  fi
  if [ "$fd_cap" != unlimited ] && [ $((2 * PER_PROXY100K + 500)) -gt "$fd_cap" ]; then
    say "--hold-100k: PER_PROXY100K=$PER_PROXY100K needs $((2 * PER_PROXY100K + 500)) files per proxy; cap $fd_cap"
    exit 2
  fi
  if [ $((PROXIES100K * PER_PROXY100K)) -lt $((CONNS100K * 21 / 20)) ]; then
    say "--hold-100k: $PROXIES100K proxies x $PER_PROXY100K leave under 5% headroom for $CONNS100K (SO_REUSEPORT spreads unevenly)"
    exit 2
  fi
  started100=$(date +%s)
  free_port e_port
  free_port p_port
  echo_files=()
  for i in $(seq "$ECHO100K"); do
    $echo_java 127.0.0.1 "$e_port" --reuse-port --status "$bench_tmp/echo100k-$i.status" \
      > "$bench_tmp/echo100k-$i.log" 2>&1 &
    bench_pids+=($!)
    echo_files+=("$bench_tmp/echo100k-$i.status")
  done
  wait_port "$e_port" 30
  # --echo-check through worker processes: a tiny direct run first (a bench whose workers reject the flag would
  # otherwise lose the whole run); without it the echo upstreams' counts still show what was forwarded.
  check100k=(--echo-check --hb 20)
  if ! timeout 60 $java -jar "$jar" bench --protocol raw --echo-check --hb 20 --api none --workers 2 \
      --target "127.0.0.1:$e_port" --connections 2 --rate 100 --hold 0s --id-prefix pc-probe- \
      > "$bench_tmp/bench100k-probe.log" 2>&1; then
    say "--hold-100k: bench --workers with --echo-check fails here ($(grep -m1 -E 'Unmatched|error|exited' "$bench_tmp/bench100k-probe.log" || echo "see log")); held without the echo check"
    check100k=()
  fi
  wait_echo_open eq 0 30 "${echo_files[@]}" || true
  p100_pids=()
  m_ports=()
  for i in $(seq "$PROXIES100K"); do
    free_port mp
    m_ports+=("$mp")
    (swb_proxy --listen "127.0.0.1:$p_port" --reuse-port --upstream "127.0.0.1:$e_port" \
      --source 127.0.0.2-127.0.0.20 --max-connections "$PER_PROXY100K" --drain-timeout 2 --metrics-port "$mp") \
      > "$bench_tmp/proxy100k-$i.log" 2>&1 &
    p100_pids+=($!)
    bench_pids+=($!)
  done
  for mp in "${m_ports[@]}"; do wait_http "http://127.0.0.1:$mp/healthz" 90; done
  for f in "${echo_files[@]}"; do [ -s "$f" ] || sleep 1; done
  pids_csv=$(IFS=,; echo "${p100_pids[*]}")
  say "100k: $PROXIES100K proxies on :$p_port (pids $pids_csv), $ECHO100K echo processes on :$e_port"
  # Peak sample (every 5 s): forwarded connections per proxy (metrics) and open at the echo upstreams.
  (
    best=0
    while sleep 5; do
      tot=0 list=""
      for mp in "${m_ports[@]}"; do
        c=$(curl -fs --max-time 2 "http://127.0.0.1:$mp/metrics" | awk '/^switchboard_proxy_upstream_connections_active/ {s += $NF} END {printf "%d", s}' || true)
        c=${c:-0}; tot=$((tot + c)); list="$list $c"
      done
      up=$(echo_open_sum "${echo_files[@]}")
      if [ "$tot" -gt "$best" ]; then best=$tot; echo "$tot $up$list" > "$bench_tmp/peak100k"; fi
    done
  ) &
  bench_pids+=($!)
  sampler=$!
  # Live heap (a full GC in each) only with a pre-touched heap: under the launcher's settings heap growth is in the
  # RSS already, and a forced collection would change the RSS being read.
  heap0=-
  [ "$SWB_JVM" = pretouch ] && heap0=$(heap_sum_kb "${p100_pids[@]}")
  before100=$(rss_sum "${p100_pids[@]}")
  set +e
  timeout 600 $java -Xmx1g -jar "$jar" bench --protocol raw "${check100k[@]}" --api none --workers auto \
    --target "127.0.0.1:$p_port" --source 127.0.1.1-127.0.1.20 --connections "$CONNS100K" --rate "$RATE100K" \
    --hold "$HOLD100K" --server-pid "$pids_csv" --json "$bench_tmp/bench100k.json" > "$bench_tmp/bench100k.log" 2>&1 &
  bpid=$!
  bench_pids+=("$bpid")
  settled100=- total100=0 heap100=-
  if WATCH_PID=$bpid wait_echo_open ge "$CONNS100K" 180 "${echo_files[@]}" \
      && wait_log "$bench_tmp/bench100k.log" "ramp done" 60 "$bpid"; then
    sleep 1
    total100=$(rss_sum "${p100_pids[@]}")
    settled100=$(( (total100 - before100) / CONNS100K ))
    up_held=$(echo_open_sum "${echo_files[@]}")
    heap1=-
    [ "$SWB_JVM" = pretouch ] && heap1=$(heap_sum_kb "${p100_pids[@]}")
    if [ "$heap0" != - ] && [ "$heap1" != - ]; then heap100=$(( (heap1 - heap0) * 1024 / CONNS100K )); fi
  else
    up_held=$(echo_open_sum "${echo_files[@]}")
  fi
  wait "$bpid"
  status=$?
  set -e
  forget "$bpid"
  stop "$sampler"
  grep -E "established|errors|workers" "$bench_tmp/bench100k.log" | tail -n 4 | sed 's/^/  bench: /' >&2 || true
  j="$bench_tmp/bench100k.json"
  read -r peak_tot peak_up per_proxy < <(cat "$bench_tmp/peak100k" 2>/dev/null || echo "0 0 -")
  echo
  echo "== proxy-compare --hold-100k: $CONNS100K connections through $PROXIES100K Switchboard proxy processes sharing :$p_port (--reuse-port, --max-connections $PER_PROXY100K each), sources 127.0.0.2-127.0.0.20, $ECHO100K echo processes; hold $HOLD100K"
  printf '%-58s %s\n' "connections held at the clients (established / target)" "$(json_get "$j" .connections_established) / $CONNS100K (bench workers: $(json_get "$j" '.workers // 1'))"
  printf '%-58s %s\n' "forwarded connections open at the echo upstreams" "$up_held (5 s samples: at most $peak_up)"
  printf '%-58s %s\n' "forwarded connections per proxy (peak sample, min/max)" "$(echo "$per_proxy" | tr ' ' '\n' | grep -v '^$' | sort -n | sed -n '1p;$p' | paste -sd/) (sum $peak_tot)"
  rss100=$(json_get "$j" .server_pids_rss_per_client_bytes)
  printf '%-58s %s\n' "proxy RSS per forwarded connection (all PIDs summed)" "$rss100 B (settled: $settled100 B; $(swb_jvm_said))"
  if [ "$rss100" != - ] && [ "$heap100" != - ]; then
    printf '%-58s %s\n' "proxy live heap per forwarded connection (after full GC)" "$heap100 B"
    printf '%-58s %s\n' "proxy memory per forwarded connection (RSS + heap)" "$((rss100 + heap100)) B"
  fi
  printf '%-58s %s\n' "proxy RSS in total, before / with all connections up" "$((before100 / 1048576)) / $((total100 / 1048576)) MiB over $PROXIES100K processes"
  if [ ${#check100k[@]} -gt 0 ]; then
    printf '%-58s %s\n' "echo probes back / sent (--echo-check --hb 20)" "$(json_get "$j" .messages_received) / $(json_get "$j" .pings_sent)"
  else
    printf '%-58s %s\n' "echo probes" "none (bench --workers rejected --echo-check)"
  fi
  printf '%-58s %s\n' "still open at end / errors" "$(json_get "$j" .open_at_end) / $(json_get "$j" '.errors | if length == 0 then "none" else tostring end')"
  for i in $(seq "$PROXIES100K"); do
    grep -E "warning|ERROR|Exception" "$bench_tmp/proxy100k-$i.log" | grep -v "^WARNING: " | sed "s/^/proxy $i: /" | head -3 || true
  done
  # The same 100,000 through as many HAProxy processes sharing the port (HAProxy binds with SO_REUSEPORT), each
  # forwarding from its own source address (127.0.0.2 on): its RSS per forwarded connection in the same run, the
  # figure issue 14 compares with. HAPROXY100K=0 skips it.
  if [ "${HAPROXY100K:-1}" = 1 ] && command -v haproxy > /dev/null; then
    stop "${p100_pids[@]}"
    wait_echo_open eq 0 120 "${echo_files[@]}" || true
    h_pids=()
    for i in $(seq "$PROXIES100K"); do
      cat > "$bench_tmp/haproxy100k-$i.cfg" <<EOF
global
  maxconn $PER_PROXY100K
  nbthread 1
defaults
  mode tcp
  maxconn $PER_PROXY100K
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend fe
  bind 127.0.0.1:$p_port
  default_backend be
backend be
  source 127.0.0.$((1 + i))
  server up 127.0.0.1:$e_port
EOF
      haproxy -db -f "$bench_tmp/haproxy100k-$i.cfg" > "$bench_tmp/haproxy100k-$i.log" 2>&1 &
      h_pids+=($!)
      bench_pids+=($!)
    done
    wait_port "$p_port" 10
    sleep 1
    h_csv=$(IFS=,; echo "${h_pids[*]}")
    h_before=$(rss_sum "${h_pids[@]}")
    set +e
    timeout 600 $java -Xmx1g -jar "$jar" bench --protocol raw "${check100k[@]}" --api none --workers auto \
      --target "127.0.0.1:$p_port" --source 127.0.1.1-127.0.1.20 --connections "$CONNS100K" --rate "$RATE100K" \
      --hold "$HOLD100K" --server-pid "$h_csv" --json "$bench_tmp/haproxy100k.json" \
      > "$bench_tmp/haproxy100k-bench.log" 2>&1
    h_status=$?
    set -e
    hj="$bench_tmp/haproxy100k.json"
    hrss=$(json_get "$hj" .server_pids_rss_per_client_bytes)
    ratio=-
    if [ "$rss100" != - ] && [ "$hrss" != - ] && [ "${hrss%.*}" -gt 0 ] 2>/dev/null; then
      ratio=$(awk -v a="$rss100" -v b="$hrss" 'BEGIN {printf "%.2fx", a / b}')
    fi
    printf '%-58s %s\n' "HAProxy $(version_of haproxy) the same way ($PROXIES100K processes)" "$hrss B per forwarded connection (established $(json_get "$hj" .connections_established), errors $(json_get "$hj" '.errors | if length == 0 then "none" else tostring end'), RSS $((h_before / 1048576)) MiB before)"
    printf '%-58s %s\n' "Switchboard's RSS per forwarded connection vs HAProxy's" "$ratio (issue 14: at most 1.00x)"
    [ "$h_status" = 0 ] || status=$h_status
  fi
  say "100k part took $(( $(date +%s) - started100 )) s"
  exit $status
fi
