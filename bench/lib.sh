# bench/lib.sh — what the bench scripts share. Source it after setting
# BENCH_NAME (the log prefix): log and die, a work directory removed at
# exit (kept with BENCH_KEEP=1 or after a failure), the background
# processes to stop at exit (append their pids to PIDS), free loopback
# ports and waiting for an HTTP endpoint.

log() { printf '[%s %(%H:%M:%S)T] %s\n' "${BENCH_NAME:-bench}" -1 "$*" >&2; }

die() {
	log "FAIL: $*"
	FAILED=1
	exit 1
}

PIDS=()
FAILED=0
WORK=

# bench_workdir NAME: make $WORK (/tmp/contactd-NAME.*) and clean up at
# exit.
bench_workdir() {
	WORK=$(mktemp -d "/tmp/contactd-$1.XXXXXX")
	trap bench_cleanup EXIT
}

bench_cleanup() {
	local rc=$? p
	((rc == 0)) || FAILED=1
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [[ ${BENCH_KEEP:-} == 1 || $FAILED == 1 ]]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}

# free_port prints a loopback port free for both UDP and TCP right now.
free_port() {
	python3 - <<'PY'
import socket
for _ in range(100):
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        t.close()
    u.close()
    print(p)
    break
PY
}

# wait_http URL SECONDS [PID]: poll until URL answers 200, the deadline,
# or PID's exit.
wait_http() {
	local deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		if [[ -n ${3:-} ]] && ! kill -0 "$3" 2>/dev/null; then
			return 1
		fi
		curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
		sleep 0.3
	done
	return 1
}
