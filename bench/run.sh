#!/usr/bin/env bash
# bench/run.sh — what `make bench` runs after building bin/switchboard (issue #3).
#
# 1. REGISTER-with-digest rate: SIPp (pinned to CPU 0) sweeps rates against
#      - the switch pinned to one core  (taskset -c 1, GOMAXPROCS=1),
#      - the switch on both cores       (no taskset, GOMAXPROCS unset),
#      - the reference Kamailio of ../shared/bench on one core (CPU=1, -A WITH_HTABLE_AUTH),
#    all with the same scenario and SIPp options, interleaved, RUNS times. For each sweep
#    the highest rate with 0 failed registrations and rtd1 p99 < 20 ms counts; the
#    summary gives every run and the median.
# 2. Idle RSS of the switch (both cores, and one core) after all 10,000 users registered
#    (1,000/s), read 5 s and 30 s after the last one.
# 3. Go benchmarks of the REGISTER path (-benchmem).
# 4. The call benchmarks of issue #4: bench/calls.sh (about 16 minutes more; CALLS=0 skips it),
#    results in the same directory (calls.md).
# 5. Concurrent bridged WebRTC↔RTP calls of issue #7: bench/webrtc.sh (100 and 200 calls, 60 s
#    each, about 4 minutes; WEBRTC=0 skips it), results in the same directory (webrtc.md).
#
# Results go to bench/results/<UTC time>/ (summary.md, one table per sweep, raw JSON);
# SIPp logs stay in a temp dir that is removed at the end.
# Needs: sipp (sip-tester), taskset, python3, 2+ CPUs; kamailio for the reference (skipped
# with a message when ../shared/bench or kamailio is missing); go for the Go benchmarks.
# Everything listens on 127.0.0.1 on free ports. Knobs (environment): RUNS=3,
# RATES=3000,…, STEP_SECONDS=3, P99_MS=20, SWEEP_BUDGET=360 (seconds for all sweeps; fewer
# runs when the machine is slow), GOBENCH=1, REFERENCE=1, CALLS=1, WEBRTC=1, SHARED_BENCH=../shared/bench.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
bin=${BIN:-$repo/bin/switchboard}
shared=${SHARED_BENCH:-$repo/../shared/bench}
runs=${RUNS:-3}
rates=${RATES:-3000,6000,9000,11000,12000,13000,14000,15000,16000,17000,18000,20000}
step=${STEP_SECONDS:-3}
budget=${SWEEP_BUDGET:-360}
p99=${P99_MS:-20}
users=10000
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${OUT:-$repo/bench/results/$stamp}

need() { command -v "$1" >/dev/null || { echo "bench: $1 not found (Debian: apt-get install -y $2)" >&2; exit 1; }; }
need sipp sip-tester
need taskset util-linux
need python3 python3
[ -x "$bin" ] || { echo "bench: $bin not built (make build)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "bench: needs 2 CPUs (server on CPU 1, SIPp on CPU 0)" >&2; exit 1; }

work=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
mkdir -p "$out" "$work/sipp" "$work/logs"
pids=()

cleanup() {
	local pid
	for pid in "${pids[@]}"; do stop "$pid"; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
log() { echo "== $*" >&2; }
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh" # stop, start_switch, wait_sip

# --- users: 1000..10999 with SIP password secret<ext> (we refuse passwords under 8 characters)
python3 - "$work" "$users" <<'EOF'
import sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/users.csv", "w") as f:
    f.write("ext,name,email,role,password,sip_password\n")
    for u in range(1000, 1000 + n):
        f.write(f"{u},Bench User {u},,user,,secret{u}\n")
with open(f"{work}/sipp/switchboard-users.csv", "w") as f:
    f.write("SEQUENTIAL\n# username;[authentication username=U password=P];domain\n")
    for u in range(1000, 1000 + n):
        f.write(f"{u};[authentication username={u} password=secret{u}];127.0.0.1\n")
EOF
"$bin" --data "$work/seed" user import "$work/users.csv" >/dev/null
cp "$repo/testdata/sipp/register_auth.xml" "$work/sipp/"



# sweep NAME PID ADDR INF: one rate sweep, SIPp on CPU 0 (on a port of its own choosing:
# a port picked once for the whole sweep could be taken by another process meanwhile). A step that misses the criterion
# (a failure, p99 >= P99_MS) or during which SIPp itself stalled is run once more, and the
# second attempt counts: the machine is shared and noisy, a server at its limit misses
# twice. The sweep stops after two steps in a row with a failure or p99 >= 2 x P99_MS.
sweep() {
	local name=$1 pid=$2 addr=$3 inf=$4
	log "$name: sweeping $rates REGISTER/s, ${step}s a step, against $addr"
	(cd "$work/sipp" && python3 "$repo/bench/sweep.py" --server-pid "$pid" --sipp-cpu 0 \
		--rates "$rates" --seconds "$step" --stop-p99 "$((2 * p99))" --good-p99 "$p99" --retry 1 --json "$out/$name.jsonl" \
		--keep "$work/logs/$name" -- \
		"$addr" -sf register_auth.xml -inf "$inf" -key expires 3600 \
		-i 127.0.0.1 -recv_timeout 5000 -buff_size 4194304 \
		-default_behaviors all,-bye) | tee "$out/$name.md"
}

kamailio_ok=""
if [ "${REFERENCE:-1}" != 1 ]; then
	log "reference Kamailio skipped: REFERENCE=${REFERENCE}"
elif [ ! -x "$shared/kamailio/run-kamailio.sh" ] || [ ! -f "$shared/sipp/users.csv" ]; then
	log "reference Kamailio skipped: $shared (../shared/bench) not found"
elif ! command -v kamailio >/dev/null; then
	log "reference Kamailio skipped: kamailio not installed (apt-get install -y kamailio)"
else
	kamailio_ok=1
	cp "$shared/sipp/users.csv" "$work/sipp/kamailio-users.csv" # pw<user>, as its db_text tables
fi

{
	echo "# make bench, $stamp"
	echo
	echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | sort -u | paste -sd';'), kernel $(uname -r)"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- switchboard: $("$bin" version 2>/dev/null || echo unknown); sipp: $(sipp -v 2>&1 | grep -o 'SIPp v[^ ,]*' | head -1)"
	[ -n "$kamailio_ok" ] && echo "- kamailio: $(kamailio -v 2>/dev/null | head -1)"
	echo "- $users users; rates $rates; ${step} s a step; up to $runs runs in ${budget} s; SIPp: register_auth.xml -key expires 3600 -recv_timeout 5000 -buff_size 4194304 -default_behaviors all,-bye, pinned to CPU 0"
} >"$out/summary.md"

# Runs are interleaved so that the machine's bad minutes hit every configuration. A run
# starts only if, at the pace so far, it ends within SWEEP_BUDGET seconds.
sweep_start=$SECONDS
done_runs=0
for run in $(seq "$runs"); do
	if [ "$run" -gt 1 ]; then
		per=$(((SECONDS - sweep_start) / (run - 1)))
		if [ $((SECONDS - sweep_start + per)) -gt "$budget" ]; then
			log "time budget (${budget}s for sweeps) reached: $((run - 1)) of $runs runs done"
			break
		fi
	fi
	start_switch 1core "switch-1core-$run" "$work/logs"
	sweep "switch-1core-$run" "$sw_pid" "$sw_sip" switchboard-users.csv
	stop "$sw_pid"

	start_switch 2cores "switch-2cores-$run" "$work/logs"
	sweep "switch-2cores-$run" "$sw_pid" "$sw_sip" switchboard-users.csv
	stop "$sw_pid"

	if [ -n "$kamailio_ok" ]; then
		kport=$(free_port)
		CPU=1 LISTEN="udp:127.0.0.1:$kport" "$shared/kamailio/run-kamailio.sh" -A WITH_HTABLE_AUTH \
			>"$work/logs/kamailio-$run.log" 2>&1 &
		k_pid=$!
		pids+=("$k_pid")
		if wait_sip "127.0.0.1:$kport"; then
			sweep "kamailio-1core-$run" "$k_pid" "127.0.0.1:$kport" kamailio-users.csv
		else
			log "kamailio did not start:"; tail -20 "$work/logs/kamailio-$run.log" >&2
		fi
		stop "$k_pid"
	fi
	done_runs=$run
done

# --- idle RSS after all users registered once
registered() {
	python3 -c 'import sys,urllib.request; print([l.split()[1] for l in urllib.request.urlopen("http://"+sys.argv[1]+"/metrics").read().decode().splitlines() if l.startswith("switchboard_registered_devices ")][0])' "$1"
}
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$2/status"; }
rss() {
	local mode=$1 name=rss-$1 pass n=0
	start_switch "$mode" "$name" "$work/logs"
	for pass in 1 2; do # a second pass only if SIPp lost some (the machine stalled)
		(cd "$work/sipp" && taskset -c 0 sipp "$sw_sip" -sf register_auth.xml -inf switchboard-users.csv \
			-key expires 3600 -i 127.0.0.1 -m "$users" -r 1000 -recv_timeout 5000 \
			-buff_size 4194304 -default_behaviors all,-bye -nostdin >/dev/null 2>&1) ||
			log "$name: SIPp reported failed registrations in pass $pass"
		n=$(registered "$sw_http")
		[ "$n" -ge "$users" ] && break
	done
	sleep 5
	local rss anon file rss30 hwm
	rss=$(status_kb VmRSS "$sw_pid")
	anon=$(status_kb RssAnon "$sw_pid")
	file=$(status_kb RssFile "$sw_pid")
	sleep 25
	rss30=$(status_kb VmRSS "$sw_pid")
	hwm=$(status_kb VmHWM "$sw_pid")
	echo "| $mode | $n ($pass) | **$((rss / 1024)) MB** | $((anon / 1024)) MB | $((file / 1024)) MB | $((rss30 / 1024)) MB | $((hwm / 1024)) MB |" >>"$work/rss.md"
	stop "$sw_pid"
}
log "idle RSS after registering all $users users"
echo "| switch | devices registered (SIPp passes) | VmRSS 5 s after | of it RssAnon (heap, stacks) | RssFile (binary, mapped store) | VmRSS 30 s after | VmHWM (peak) |" >"$work/rss.md"
echo "|---|---|---|---|---|---|---|" >>"$work/rss.md"
rss 2cores
rss 1core
rss_table=$(cat "$work/rss.md")
echo "$rss_table"

# --- Go benchmarks
gobench=""
if [ "${GOBENCH:-1}" = 1 ] && command -v go >/dev/null; then
	log "Go benchmarks"
	{
		go test -run '^$' -bench '^(BenchmarkRegister|BenchmarkRegisterChallenge|BenchmarkParseRegister)$' -benchmem -count 3 ./switch/registrar
		go test -run '^$' -bench '^BenchmarkVerify$' -benchmem -count 3 ./switch/auth
		go test -run '^$' -bench '^BenchmarkRegisterUDP$' -benchmem -cpu 1 -count 3 ./switch/server
	} | tee "$out/gobench.txt" | grep '^Benchmark' >&2 || true
	gobench=$(python3 "$repo/bench/summarize.py" --gobench "$out/gobench.txt")
fi

configs=()
join() { local IFS=,; echo "$*"; }
files() { local f=() r; for r in $(seq "$done_runs"); do f+=("$out/$1-$r.jsonl"); done; join "${f[@]}"; }
configs+=("Switchboard, 1 core (taskset -c 1, GOMAXPROCS=1)=$(files switch-1core)")
configs+=("Switchboard, 2 cores=$(files switch-2cores)")
[ -n "$kamailio_ok" ] && configs+=("Kamailio (reference), 1 core (CPU=1, WITH_HTABLE_AUTH)=$(files kamailio-1core)")
{
	echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg); runs done: $done_runs of $runs; took $((SECONDS / 60)) min $((SECONDS % 60)) s"
	echo
	echo "## REGISTER with digest"
	echo
	python3 "$repo/bench/summarize.py" --p99 "$p99" "${configs[@]}"
	[ -z "$kamailio_ok" ] && echo && echo "Reference Kamailio not measured (../shared/bench or kamailio missing)."
	echo
	echo "## Idle memory after $users registrations"
	echo
	echo "$rss_table"
	if [ -n "$gobench" ]; then
		echo
		echo "## Go benchmarks"
		echo
		echo "$gobench"
	fi
	echo
	echo "Per-sweep tables: $out/*.md"
} >>"$out/summary.md"
echo
cat "$out/summary.md"

if [ "${CALLS:-1}" = 1 ]; then
	log "call benchmarks (bench/calls.sh)"
	OUT=$out BIN=$bin SHARED_BENCH=$shared REFERENCE=${REFERENCE:-1} GOBENCH=${GOBENCH:-1} "$repo/bench/calls.sh"
fi

if [ "${WEBRTC:-1}" = 1 ]; then
	log "WebRTC call benchmark (bench/webrtc.sh)"
	OUT=$out BIN=$bin "$repo/bench/webrtc.sh"
fi
