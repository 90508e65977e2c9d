#!/usr/bin/env bash
# A backend that pipelines a burst: CLIENTS held SWB/1 clients, then N pushes to them (round robin) written in one go
# on one HTTP/1.1 API connection; the time from the write to the last answer, BURSTS times after WARMUP unmeasured
# bursts (the JIT's), median; then, with strace installed, the server's write calls (sendto, writev) for one more
# burst: two per push would be one write per message and one per answer.
#   bench/api-burst.sh                   # CLIENTS=200 N=20000 BURSTS=5; SWITCHBOARD_JAR=... for another build
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-200}
N=${N:-20000}
BURSTS=${BURSTS:-5}
WARMUP=${WARMUP:-3}
PORT=${PORT:-18950}

jar=$(bench_jar)
java=$(java_cmd)
$java -Xmx1g -jar "$jar" server --port "$PORT" --api-port $((PORT + 1)) --data-dir "$bench_tmp/data" \
  > "$bench_tmp/server.log" 2>&1 &
server=$!
bench_pids+=("$server")
wait_http "http://127.0.0.1:$((PORT + 1))/healthz" 30
# The clients acknowledge as the client library does, so the server's window never holds a burst back.
$java -Xmx512m -jar "$jar" bench --protocol swb --target "127.0.0.1:$PORT" --connections "$CLIENTS" --rate 1000 \
  --hold 10m --id-prefix burst- --workers 1 > "$bench_tmp/bench.log" 2>&1 &
bench_pids+=("$!")
deadline=$(( $(date +%s) + 60 ))
until [ "$(curl -s "http://127.0.0.1:$((PORT + 1))/v1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions_online"])' 2>/dev/null)" = "$CLIENTS" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "api-burst: the $CLIENTS clients did not connect (see $bench_tmp/bench.log)" >&2; exit 1; }
  sleep 0.5
done

burst() { # prints the milliseconds from the write to the last answer
  python3 - "$((PORT + 1))" "$N" "$CLIENTS" <<'PY'
import socket, sys, time
port, n, clients = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
req = b"".join(b"POST /v1/clients/burst-%d/messages HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi" % (i % clients)
               for i in range(n))
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
t0 = time.time()
s.sendall(req)
got, ok, tail = 0, 0, b""
while got < n:
    d = s.recv(1 << 20)
    if not d:
        break
    d = tail + d
    got += d.count(b"HTTP/1.1 ")
    ok += d.count(b"HTTP/1.1 200 ")
    tail = d[-16:]
    got -= tail.count(b"HTTP/1.1 ")
    ok -= tail.count(b"HTTP/1.1 200 ")
got += tail.count(b"HTTP/1.1 ")
ok += tail.count(b"HTTP/1.1 200 ")
if got != n or ok != n:
    sys.exit("api-burst: %d answers of %d, %d of them 200" % (got, n, ok))
print("%.1f" % ((time.time() - t0) * 1000))
PY
}

for _ in $(seq 1 "$WARMUP"); do burst > /dev/null; sleep 1; done
times=()
for i in $(seq 1 "$BURSTS"); do
  t=$(burst); times+=("$t"); echo "burst $i: $N pushes to $CLIENTS clients, last answer after $t ms"; sleep 1
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
echo "median: $median ms for $N pipelined pushes ($(python3 -c "print(round($N / $median * 1000))") pushes/s)"
if command -v strace > /dev/null; then
  strace -c -f -p "$server" -e trace=sendto,writev,write -o "$bench_tmp/strace.txt" 2>/dev/null &
  st=$!
  sleep 1
  burst > /dev/null
  sleep 1
  kill -INT "$st"; wait "$st" 2>/dev/null || true
  calls=$(awk '$NF ~ /^(sendto|writev|write)$/ {n += $4} END {print n + 0}' "$bench_tmp/strace.txt")
  echo "server write calls for one burst (strace): $calls ($(python3 -c "print(round($calls / $N, 2))") per push)"
fi
