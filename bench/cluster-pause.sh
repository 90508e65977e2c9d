#!/usr/bin/env bash
# A cluster node paused past its 6 s lease (SIGSTOP: a long GC pause, a frozen VM, or a node cut off from Redis) while
# pushes for its clients go through another node: they are answered 200 and kept as for offline clients. When the
# node runs again it finds its lease lapsed and sends the clients given such messages to resume them (BYE 503);
# this measures how many of them got their message, and how long after the node ran again.
#   bench/cluster-pause.sh                  # CLIENTS=50 PAUSE=9 (s); SWITCHBOARD_JAR=... for another build
# Before the fix (48bd6f5) no client got its message within the 30 s the script waits: it waited for the client's
# next reconnect. Needs redis-server and python3. 127.0.0.1 only; every process it starts is stopped at the end.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-50}
PAUSE=${PAUSE:-9}
BASE_PORT=${BASE_PORT:-17700}
command -v redis-server >/dev/null || { echo "cluster-pause: redis-server is not installed (apt-get install redis-server)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "cluster-pause: python3 is not installed" >&2; exit 2; }

jar=$(bench_jar)
rport=$((BASE_PORT + 79))
redis-server --port "$rport" --bind 127.0.0.1 --dir "$bench_tmp" --save '' --appendonly no > "$bench_tmp/redis.log" 2>&1 &
bench_pids+=("$!")
for _ in $(seq 1 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
cluster=(--cluster "redis://127.0.0.1:$rport" --mqtt-port -1)
start_jvm_server "$BASE_PORT" a "${cluster[@]}" --node a
a_jvm=$server_jvm
start_jvm_server $((BASE_PORT + 10)) b "${cluster[@]}" --node b

cat > "$bench_tmp/clients.py" <<'PY'
import os, selectors, signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
port, n, ready, done = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
sel = selectors.DefaultSelector()
state = {}
def connect(i, resume):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(('HELLO pause-%d hb=300%s\n' % (i, '' if resume is None else ' resume=%d' % resume)).encode())
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
    state[i]['sock'], state[i]['buf'] = s, b''
for i in range(n):
    state[i] = {'seq': 0, 'got': None, 'byes': 0}
    connect(i, None)
open(ready, 'w').close()
def report():
    with open(done + '.part', 'w') as f:
        for i, st in state.items():
            f.write('%d %s %d\n' % (i, 'none' if st['got'] is None else '%.3f' % st['got'], st['byes']))
    os.rename(done + '.part', done)
try:
  while any(st['got'] is None for st in state.values()):
      for key, _ in sel.select(timeout=0.5):
          i = key.data; st = state[i]
          data = st['sock'].recv(65536)
          if not data:
              sel.unregister(st['sock']); st['sock'].close(); connect(i, st['seq']); continue
          st['buf'] += data
          while b'\n' in st['buf']:
              line, rest = st['buf'].split(b'\n', 1)
              if line.startswith(b'MSG '):
                  seq, size = int(line.split()[1]), int(line.split()[2])
                  if len(rest) < size + 1:
                      break
                  st['buf'] = rest[size + 1:]
                  st['seq'] = seq
                  st['sock'].sendall(b'ACK %d\n' % seq)
                  st['got'] = time.time()
              else:
                  st['buf'] = rest
                  if line.startswith(b'BYE'):
                      st['byes'] += 1
finally:
  report()
PY
python3 "$bench_tmp/clients.py" "$BASE_PORT" "$CLIENTS" "$bench_tmp/ready" "$bench_tmp/done" &
clients_pid=$!
bench_pids+=("$clients_pid")
deadline=$(( $(date +%s) + 120 ))
until [ -f "$bench_tmp/ready" ]; do
  kill -0 "$clients_pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ] \
    || { echo "cluster-pause: the clients did not all connect (clients.py ended or 120 s passed)" >&2; exit 1; }
  sleep 0.1
done
sleep 2
echo "cluster-pause: $CLIENTS clients on node a; pausing a for $PAUSE s"
kill -STOP "$a_jvm"
sleep $((PAUSE - 1))
accepted=0
for i in $(seq 0 $((CLIENTS - 1))); do
  if curl -fs -XPOST "http://127.0.0.1:$((BASE_PORT + 11))/v1/clients/pause-$i/messages?ttl=600" -d "kept while a was paused" \
      | grep -q '"delivered":false'; then accepted=$((accepted + 1)); fi
done
sleep 1
kill -CONT "$a_jvm"
cont=$(date +%s.%N)
echo "cluster-pause: $accepted pushes through b answered 200 (kept); a runs again"
for _ in $(seq 1 300); do [ -f "$bench_tmp/done" ] && break; sleep 0.1; done
[ -f "$bench_tmp/done" ] || { kill "$clients_pid" 2>/dev/null || true; echo "cluster-pause: 30 s after a ran again not every client had its message"; }
for _ in $(seq 1 50); do [ -f "$bench_tmp/done" ] && break; sleep 0.1; done
python3 - "$bench_tmp/done" "$cont" "$CLIENTS" <<'PY'
import sys, os
path, cont, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
if not os.path.exists(path):
    print('cluster-pause: the clients wrote no results'); sys.exit(1)
rows = [l.split() for l in open(path)]
got = sorted(float(r[1]) - cont for r in rows if r[1] != 'none')
byes = sum(int(r[2]) for r in rows)
if got:
    print('cluster-pause: %d of %d clients got their message, after %.2f s median, %.2f s max from a running again; %d BYEs'
          % (len(got), n, got[len(got) // 2], got[-1], byes))
else:
    print('cluster-pause: 0 of %d clients got their message' % n)
PY
grep -h "lease had lapsed" "$bench_tmp/server-a.log" | head -1 | sed 's/^/cluster-pause: a logged: /' || true
