# bench/lib.sh — shell functions the benchmark scripts share (sourced by run.sh and calls.sh).
# The caller sets: bin (the switchboard binary), work (a temp dir with seed/, a copy of a
# prepared data directory), pids (an array of the PIDs it must stop on exit).

# stop PID: SIGTERM, up to 10 s to exit, then SIGKILL. Only our own processes, by PID.
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# start_switch 1core|2cores NAME LOGDIR [serve flags…]: a copy of $work/seed served on loopback
# (later flags override the defaults: --sip, --http and --https on free ports). Sets sw_pid,
# sw_sip, sw_http.
start_switch() {
	local mode=$1 name=$2 logdir=$3 dir=$work/$2 i
	shift 3
	cp -r "$work/seed" "$dir"
	local log=$logdir/$name.log
	local args=(--data "$dir" serve --sip 127.0.0.1:0 --http 127.0.0.1:0 --https 127.0.0.1:0 "$@")
	if [ "$mode" = 1core ]; then
		GOMAXPROCS=1 taskset -c 1 "$bin" "${args[@]}" >"$log" 2>&1 &
	else
		env -u GOMAXPROCS "$bin" "${args[@]}" >"$log" 2>&1 &
	fi
	sw_pid=$!
	pids+=("$sw_pid")
	for i in $(seq 100); do
		if grep -qs 'msg="switchboard serving"' "$log"; then break; fi
		kill -0 "$sw_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
		sleep 0.1
	done
	sw_sip=$(sed -n 's/.*msg="switchboard serving".* sip=\([^ ]*\).*/\1/p' "$log" | head -1)
	sw_http=$(sed -n 's/.*msg="switchboard serving".* http=\([^ ]*\).*/\1/p' "$log" | head -1)
	[ -n "$sw_sip" ] || { echo "bench: switch $name did not start" >&2; cat "$log" >&2; exit 1; }
}

# wait_sip ADDR: until something answers an OPTIONS on UDP (10 s at most).
wait_sip() {
	python3 - "$1" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); s.settimeout(0.2)
me = "%s:%d" % s.getsockname()
for i in range(50):
    msg = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-bench-{i};rport\r\n"
           f"From: <sip:bench@{me}>;tag=b{i}\r\nTo: <sip:{host}>\r\nCall-ID: bench-wait-{i}\r\n"
           "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), (host, int(port)))
    try:
        s.recv(4096); sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
PY
}
