#!/usr/bin/env bash
# bench/calls.sh — the call benchmarks of issue #4 (bench/run.sh calls it; it also runs alone
# from the repository root after `make build`).
#
# 1. Call setup rate: SIPp uac_call_nomedia.xml (INVITE, 407, INVITE with digest, 100/180/200,
#    ACK, 1 s hold, BYE) → the switch → SIPp uas_answer.xml (registered as 1999), SIPp on CPU 0,
#    rates stepped with ../shared/bench/tools/sweep.py against
#      - the switch on one core (taskset -c 1, GOMAXPROCS=1),
#      - the switch on both cores,
#      - the reference Kamailio proxy with INVITE auth on one core
#        (CPU=1 run-kamailio.sh -A WITH_HTABLE_AUTH -A WITH_INVITE_AUTH), same SIPp arguments.
#    Each server first gets 300 warm-up calls at 100/s (not counted). A step is sustained when
#    no call failed, every call completed and rtd1 (INVITE → 200) p95 is under 200 ms; the
#    highest sustained rate of a sweep counts. SETUP_RUNS (3) interleaved runs of the three
#    sweeps (the machine is shared: its bad minutes hit every configuration); the median counts.
# 2. Concurrent calls with RTP relayed both ways: MEDIA_CALLS calls (uac_call.xml playing a
#    MEDIA_SECONDS PCMU pcap, 50 packets/s; the callee SIPp echoes every packet back with
#    -rtp_echo), switch on both cores, both SIPps at the lowest priority (nice 19, in a scheduler
#    autogroup of their own at nice 19: load generators must not starve the system under test),
#    the probe at nice -10 (it stands for phones, which have CPUs of their own: its own
#    scheduling delays must not count as the switch's latency). Measured while all calls are up:
#      - bench/rtpprobe: PROBE_PAIRS extra calls between Go phones through the same switch, 50
#        time-stamped packets/s each way: loss and one-way latency (send → switch → receive);
#      - the switch's /metrics: RTP packets accepted vs. relayed (relay loss);
#      - /proc/net/udp: packets the kernel dropped on the switch's RTP sockets (full buffers);
#      - RSS before and at full load: memory per active call.
#    Levels tried in order: MEDIA_CALLS (default "500 750 1000 1500 2000"), until one fails
#    (it must have 0 failed calls, ≤ 0.1 % loss at the probe and at the switch, p99 < 5 ms);
#    if the first fails, MEDIA_BELOW (400) is tried.
# 3. Go benchmarks: BenchmarkCallSetup (-cpu 1), BenchmarkRelay, BenchmarkRelayLoopback,
#    BenchmarkRelayManySockets (500 calls, both cores),
#    BenchmarkEndpointLifecycle (-benchmem).
#
# Results: $OUT (default bench/results/<UTC time>/) calls.md and calls-*.md tables, raw logs in
# $OUT/calls-logs. Knobs (environment): RATES_1CORE, RATES_2CORES, RATES_KAMAILIO, STEP_SECONDS
# (10), SETUP_RUNS (3), MEDIA_CALLS, MEDIA_SECONDS (60), MEDIA_RAMP (calls/s, 100), PROBE_PAIRS (4),
# REFERENCE=0 (no Kamailio), SETUP=0 / MEDIA=0 / GOBENCH=0 (skip a part), SHARED_BENCH
# (../shared/bench), MEDIA_SERVE_FLAGS (more `serve` flags for the media runs, e.g.
# "--pprof 127.0.0.1:6060" to take a CPU profile while the calls are up).
# Needs: sipp (sip-tester, run as root: it plays pcaps through a raw socket), taskset, python3,
# go (to build the probe), 2 CPUs; kamailio for the reference. Loopback only; every process it
# starts is stopped by PID; every SIPp run is bounded in calls and time.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
bin=${BIN:-$repo/bin/switchboard}
shared=${SHARED_BENCH:-$repo/../shared/bench}
rates1=${RATES_1CORE:-500,1000,1200,1400,1600,1800}
rates2=${RATES_2CORES:-1000,1400,1800}
ratesk=${RATES_KAMAILIO:-500,1000,1200,1400,1600}
step=${STEP_SECONDS:-10}
setup_runs=${SETUP_RUNS:-3}
media_levels=${MEDIA_CALLS:-500 750 1000 1500 2000}
media_below=${MEDIA_BELOW-400} # tried when the first level fails; MEDIA_BELOW= (empty) tries none
media_secs=${MEDIA_SECONDS:-60}
ramp=${MEDIA_RAMP:-100}
media_mode=${MEDIA_MODE:-shared}
probe_pairs=${PROBE_PAIRS:-4}
read -ra media_serve_flags <<<"${MEDIA_SERVE_FLAGS:-}" # e.g. "--pprof 127.0.0.1:6060" to profile the media runs
users=10000 # callers 1000..10999 (1999 is the callee)
callee=1999
probe_first=20000
rtp_ports=16000-55999 # 20,000 pairs: calls hold 2 a call, and 2 s of drain after each call
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${OUT:-$repo/bench/results/$stamp}

need() { command -v "$1" >/dev/null || { echo "calls.sh: $1 not found (Debian: apt-get install -y $2)" >&2; exit 1; }; }
need sipp sip-tester
need taskset util-linux
need python3 python3
need go golang
[ -x "$bin" ] || { echo "calls.sh: $bin not built (make build)" >&2; exit 1; }
[ -f "$shared/sipp/uac_call_nomedia.xml" ] || { echo "calls.sh: $shared/sipp not found (SHARED_BENCH)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "calls.sh: needs 2 CPUs (server on CPU 1, SIPp on CPU 0)" >&2; exit 1; }

work=$(mktemp -d /tmp/switchboard-calls.XXXXXX)
logs=$out/calls-logs
mkdir -p "$out" "$logs" "$work/sipp"
pids=()

log() { echo "== $*" >&2; }
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh" # stop, start_switch, wait_sip

# The scheduler priority of our own session (autogroup), which background() must never change;
# put back whatever happens.
own_nice=$(sed -n 's/.* nice //p' "/proc/$$/autogroup" 2>/dev/null || true)
cleanup() {
	local pid
	for pid in "${pids[@]}"; do stop "$pid"; done
	rm -rf "$work"
	if [ -n "$own_nice" ] && [ "$(sed -n 's/.* nice //p' "/proc/$$/autogroup")" != "$own_nice" ]; then
		echo "$own_nice" >"/proc/$$/autogroup" || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port [N]: a UDP port p on 127.0.0.1 with p..p+N-1 all free (N even ports for RTP).
free_port() {
	python3 - "${1:-1}" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(1000):
    p = random.randrange(6000, 15998, 2)
    socks = []
    try:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); socks.append(s)
            s.bind(("127.0.0.1", p + i))
        print(p); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
EOF
}


# --- users, SIPp injection files, scenarios, the probe
# Switchboard wants SIP passwords of 8+ characters: sippw-<ext>. Kamailio keeps its own
# users.csv (pw<ext>, as its db_text tables). The probe's extensions 20000.. have pw-probe-<ext>.
python3 - "$work" "$users" "$callee" "$probe_first" "$probe_pairs" <<'EOF'
import sys
work, n, callee, pfirst, pairs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
with open(f"{work}/users.csv", "w") as f:
    f.write("ext,name,email,role,password,sip_password\n")
    for u in range(1000, 1000 + n):
        f.write(f"{u},Bench User {u},,user,,sippw-{u}\n")
    for u in range(pfirst, pfirst + 2 * pairs):
        f.write(f"{u},Probe {u},,user,,pw-probe-{u}\n")
head = "SEQUENTIAL\n# username;[authentication username=U password=P];domain\n"
with open(f"{work}/sipp/callers.csv", "w") as f:
    f.write(head)
    for u in range(1000, 1000 + n):
        if str(u) != callee:
            f.write(f"{u};[authentication username={u} password=sippw-{u}];127.0.0.1\n")
with open(f"{work}/sipp/callee.csv", "w") as f:
    f.write(head + f"{callee};[authentication username={callee} password=sippw-{callee}];127.0.0.1\n")
EOF
grep -v "^$callee;" "$shared/sipp/users.csv" >"$work/sipp/kam-callers.csv"
cp "$shared/sipp/callee.csv" "$work/sipp/kam-callee.csv"
cp "$shared/sipp/"{uac_call_nomedia.xml,uas_answer.xml,register_auth.xml} "$work/sipp/"
sed "s/pcmu_1khz_20s.pcap/pcmu_1khz_${media_secs}s.pcap/; s/20 s PCMU/${media_secs} s PCMU/" \
	"$shared/sipp/uac_call_long.xml" >"$work/sipp/uac_call_media.xml"
python3 "$shared/tools/make_pcmu_pcap.py" "$work/sipp/pcmu_1khz_${media_secs}s.pcap" "$media_secs" >/dev/null
pcap_packets=$((media_secs * 50))
"$bin" --data "$work/seed" user import "$work/users.csv" >/dev/null
go build -o "$work/rtpprobe" ./bench/rtpprobe


# start_callee NAME ADDR INF [sipp args]: registers the callee at ADDR from a free port and
# answers there with uas_answer.xml (RTP echo on a free media port). Sets uas_pid, uas_log.
start_callee() {
	local name=$1 addr=$2 inf=$3 port mport
	shift 3
	port=$(free_port)
	mport=$(free_port 4)
	(cd "$work/sipp" && sipp "$addr" -sf register_auth.xml -inf "$inf" -key expires 3600 -i 127.0.0.1 \
		-p "$port" -m 1 -recv_timeout 5000 -timeout 20s -nostdin >/dev/null 2>&1) ||
		{ echo "calls.sh: $name: the callee did not register at $addr" >&2; exit 1; }
	uas_log=$logs/$name-uas.out # SIPp prints its last screen (calls, RTP echoed) as it quits
	(cd "$work/sipp" && exec "$@" sipp -sf uas_answer.xml -i 127.0.0.1 -p "$port" -mi 127.0.0.1 -mp "$mport" \
		-rtp_echo -nostdin -buff_size 4194304 -trace_err -error_file "$logs/$name-uas-err.log" >"$uas_log" 2>&1) &
	uas_pid=$!
	pids+=("$uas_pid")
	sleep 0.5
}

# cpu_mark PID...: machine busy and total ticks, the ticks of PID... and their process trees,
# and the ticks of this script's reaped children (SIPp runs, the probe), for others_cpu.
cpu_mark() {
	python3 - "$$" "$@" <<'EOF'
import os, sys
def stat(p):
    with open(f"/proc/{p}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()
kids = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try: kids.setdefault(int(stat(d)[1]), []).append(int(d))
        except OSError: pass
mine, todo = 0, [int(p) for p in sys.argv[2:]]
while todo:
    p = todo.pop()
    try: f = stat(p); mine += int(f[11]) + int(f[12])
    except OSError: pass
    todo.extend(kids.get(p, []))
f = stat(sys.argv[1]); reaped = int(f[13]) + int(f[14])
c = list(map(int, open("/proc/stat").readline().split()[1:]))
print(sum(c) - c[3] - c[4], sum(c), mine + reaped)
EOF
}
# others_cpu MARK0 MARK1: % of the machine (both CPUs) used by processes outside this benchmark.
others_cpu() {
	python3 -c "import sys; a=list(map(int,sys.argv[1].split())); b=list(map(int,sys.argv[2].split()))
print('%.0f' % max(0, 100.0*((b[0]-a[0])-(b[2]-a[2]))/max(1,b[1]-a[1])))" "$1" "$2"
}

# sweep NAME PID ADDR INF RATES: one call-rate sweep, SIPp on CPU 0 (the callee SIPp too).
declare -A others
sweep() {
	local name=$1 pid=$2 addr=$3 inf=$4 rates=$5 m0 m1
	log "$name: warm-up, 300 calls at 100/s (not counted)"
	(cd "$work/sipp" && taskset -c 0 sipp "$addr" -sf uac_call_nomedia.xml -inf "$inf" -s "$callee" -d 1000 \
		-i 127.0.0.1 -p "$(free_port)" -r 100 -m 300 -recv_timeout 10000 -timeout 60s -nostdin \
		-default_behaviors all,-abortunexp >/dev/null 2>&1) || log "$name: warm-up calls failed"
	log "$name: calls/s $rates, ${step} s a step, against $addr"
	m0=$(cpu_mark "$pid" "$uas_pid")
	(cd "$work/sipp" && python3 "$shared/tools/sweep.py" --server-pid "$pid" --sipp-cpu 0 \
		--rates "$rates" --seconds "$step" --keep "$logs/$name" -- \
		"$addr" -sf uac_call_nomedia.xml -inf "$inf" -s "$callee" -d 1000 -i 127.0.0.1 -p "$(free_port)" \
		-recv_timeout 10000 -buff_size 4194304 -default_behaviors all,-abortunexp) | tee "$out/calls-$name.md"
	m1=$(cpu_mark "$pid" "$uas_pid")
	others[$name]=$(others_cpu "$m0" "$m1")
	log "$name: processes outside this benchmark used ${others[$name]} % of the machine meanwhile"
}

# best FILE: the highest offered rate of a sweep table with 0 failed calls, every call
# successful and rtd1 p95 < 200 ms.
best() {
	python3 - "$1" <<'EOF'
import sys
best = 0
for line in open(sys.argv[1]):
    c = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(c) < 14 or not c[0].isdigit():
        continue
    rate, calls, ok, failed, p95 = int(c[0]), int(c[1]), int(c[2]), int(c[3]), float(c[8])
    if failed == 0 and ok >= calls and p95 < 200:
        best = max(best, rate)
print(best)
EOF
}

{
	echo "# bench/calls.sh, $stamp"
	echo
	echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | sort -u | paste -sd';'), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- switchboard $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown); $(sipp -v 2>&1 | grep -o 'SIPp v[^ ,]*' | head -1); $(kamailio -v 2>/dev/null | head -1 | cut -d' ' -f1-3)"
} >"$out/calls.md"

# --- 1. call setup rate
if [ "${SETUP:-1}" = 1 ]; then
	kam=""
	kam_ok=""
	if [ "${REFERENCE:-1}" != 1 ]; then
		log "reference Kamailio skipped: REFERENCE=$REFERENCE"
	elif ! command -v kamailio >/dev/null || [ ! -x "$shared/kamailio/run-kamailio.sh" ]; then
		log "reference Kamailio skipped: kamailio or $shared/kamailio missing"
	else
		kam_ok=1
	fi
	# Runs are interleaved (1 core, 2 cores, Kamailio, then again) so that the shared machine's
	# bad minutes hit every configuration; the median of the runs counts.
	for r in $(seq "$setup_runs"); do
		start_switch 1core "setup-1core-$r" "$logs" --sip "127.0.0.1:$(free_port)" --rtp-ports "$rtp_ports"
		start_callee "setup-1core-$r" "$sw_sip" callee.csv taskset -c 0
		sweep "switch-1core-$r" "$sw_pid" "$sw_sip" callers.csv "$rates1"
		stop "$uas_pid"
		stop "$sw_pid"

		start_switch 2cores "setup-2cores-$r" "$logs" --sip "127.0.0.1:$(free_port)" --rtp-ports "$rtp_ports"
		start_callee "setup-2cores-$r" "$sw_sip" callee.csv taskset -c 0
		sweep "switch-2cores-$r" "$sw_pid" "$sw_sip" callers.csv "$rates2"
		stop "$uas_pid"
		stop "$sw_pid"

		[ -n "$kam_ok" ] || continue
		kport=$(free_port)
		CPU=1 LISTEN="udp:127.0.0.1:$kport" "$shared/kamailio/run-kamailio.sh" -A WITH_HTABLE_AUTH -A WITH_INVITE_AUTH \
			>"$logs/kamailio-$r.log" 2>&1 &
		k_pid=$!
		pids+=("$k_pid")
		if wait_sip "127.0.0.1:$kport"; then
			kam=1
			start_callee "kamailio-$r" "127.0.0.1:$kport" kam-callee.csv taskset -c 0
			sweep "kamailio-1core-$r" "$k_pid" "127.0.0.1:$kport" kam-callers.csv "$ratesk"
			stop "$uas_pid"
		else
			log "kamailio did not start:"
			tail -20 "$logs/kamailio-$r.log" >&2
		fi
		stop "$k_pid"
	done
	# summary NAME LABEL: one row: the median of the runs' sustained rates, then each run's
	# rate with the CPU other processes used meanwhile.
	summary() {
		local name=$1 label=$2 r b bests=() per=()
		for r in $(seq "$setup_runs"); do
			[ -f "$out/calls-$name-$r.md" ] || continue
			b=$(best "$out/calls-$name-$r.md")
			bests+=("$b")
			per+=("$b (${others[$name-$r]:-?} %)")
		done
		[ ${#bests[@]} -gt 0 ] || return 0
		local med
		med=$(printf '%s\n' "${bests[@]}" | sort -n | python3 -c "import sys, statistics; print('%g' % statistics.median(int(l) for l in sys.stdin))")
		echo "| $label | **$med** | $(IFS=,; echo "${per[*]}" | sed 's/,/, /g') |"
	}
	{
		echo
		echo "## Call setup rate (INVITE + 407 + digest, 200, ACK, 1 s, BYE; no media)"
		echo
		echo "Highest rate with 0 failed calls and rtd1 p95 < 200 ms, SIPp $step s a step on CPU 0; $setup_runs interleaved runs:"
		echo
		echo "| server | median sustained calls/s | each run (CPU of other processes meanwhile, % of the machine) |"
		echo "|---|---|---|"
		summary switch-1core "Switchboard, 1 core (taskset -c 1, GOMAXPROCS=1)"
		summary switch-2cores "Switchboard, 2 cores"
		[ -n "$kam" ] && summary kamailio-1core "Kamailio proxy with INVITE auth, 1 core (reference)"
		for r in $(seq "$setup_runs"); do
			for f in switch-1core switch-2cores kamailio-1core; do
				[ -f "$out/calls-$f-$r.md" ] || continue
				echo
				echo "### $f, run $r"
				echo
				cat "$out/calls-$f-$r.md"
			done
		done
	} >>"$out/calls.md"
fi

# --- 2. concurrent calls with RTP both ways

# udp_drops LO HI: packets the kernel dropped on open UDP sockets bound to ports LO..HI, per
# socket inode, merged into $work/drops.json (a socket's count is kept after it closes).
udp_drops() {
	python3 - "$1" "$2" "$work/drops.json" <<'EOF'
import json, os, sys
lo, hi, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seen = json.load(open(path)) if os.path.exists(path) else {}
for line in open("/proc/net/udp").read().splitlines()[1:]:
    f = line.split()
    port, inode, drops = int(f[1].split(":")[1], 16), f[9], int(f[12])
    if lo <= port <= hi:
        seen[inode] = max(seen.get(inode, 0), drops)
json.dump(seen, open(path, "w"))
print(sum(seen.values()))
EOF
}

# background PID: the load generator PID (started with setsid, so in its own scheduler autogroup)
# gets the lowest autogroup priority: all its threads together (SIPp plays each call's pcap in a
# thread of its own) weigh less than the switch, where nice alone weighs each thread.
background() {
	[ "$media_mode" = shared ] || return 0
	# Only ever a process of its own session: the autogroup is the session's, and until setsid
	# has run the process is still in ours (with the switch).
	local i
	for i in $(seq 50); do
		[ "$(awk '{print $6}' "/proc/$1/stat" 2>/dev/null)" = "$1" ] && break
		sleep 0.05
	done
	[ "$(awk '{print $6}' "/proc/$1/stat" 2>/dev/null)" = "$1" ] || { log "PID $1 leads no session: priority unchanged"; return 0; }
	echo 19 >"/proc/$1/autogroup" 2>/dev/null || log "could not lower the priority of PID $1 (no autogroup)"
}

metric() {
	python3 - "$sw_http" "$1" <<'EOF'
import sys, urllib.request
for l in urllib.request.urlopen("http://" + sys.argv[1] + "/metrics", timeout=5).read().decode().splitlines():
    if l.startswith(sys.argv[2] + " "):
        print(l.split()[1])
EOF
}
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

# media_run N: N concurrent calls for media_secs with RTP both ways; appends a table row.
media_run() {
	local n=$1 name=media-$1 hold ramp_s wait_s probe_s
	hold=$((media_secs * 1000 + 1000))
	ramp_s=$(((n + ramp - 1) / ramp))
	probe_s=$((media_secs - ramp_s - 5))
	[ "$probe_s" -ge 10 ] || probe_s=10
	log "$name: $n calls, ${media_secs} s of RTP both ways each, $ramp new calls/s; probe ${probe_s} s at full load"
	rm -f "$work/drops.json"
	# shared: SIPp in a session (autogroup) of its own at the lowest priority; split: SIPp on
	# CPU 0, the switch and the probe on CPU 1.
	local pre=(setsid) gen=(nice -n 19) probe=(nice -n -10)
	if [ "$media_mode" = split ]; then
		start_switch 1core "$name" "$logs" --sip "127.0.0.1:$(free_port)" --rtp-ports "$rtp_ports" "${media_serve_flags[@]}"
		pre=()
		gen=(taskset -c 0)
		probe=(nice -n -10 taskset -c 1)
	else
		start_switch 2cores "$name" "$logs" --sip "127.0.0.1:$(free_port)" --rtp-ports "$rtp_ports" "${media_serve_flags[@]}"
	fi
	start_callee "$name" "$sw_sip" callee.csv "${pre[@]}" "${gen[@]}"
	background "$uas_pid"
	sleep 1
	local rss0
	rss0=$(rss_kb "$sw_pid")
	local uac_port mport
	uac_port=$(free_port)
	mport=$(free_port 4)
	(cd "$work/sipp" && exec "${pre[@]}" timeout $((media_secs + ramp_s + 120)) "${gen[@]}" sipp "$sw_sip" -sf uac_call_media.xml -inf callers.csv \
		-s "$callee" -i 127.0.0.1 -p "$uac_port" -mi 127.0.0.1 -mp "$mport" -d "$hold" -r "$ramp" -m "$n" -l "$n" \
		-nostdin -recv_timeout 30000 -buff_size 4194304 -default_behaviors all,-abortunexp \
		-trace_stat -stf "$logs/$name-uac-stat.csv" -trace_screen -screen_file "$logs/$name-uac-screen.log" \
		-trace_err -error_file "$logs/$name-uac-err.log" >/dev/null 2>&1) &
	local uac_pid=$!
	pids+=("$uac_pid")
	background "$uac_pid"
	# Wait until every call is up (or the ramp time plus 10 s), then measure.
	for wait_s in $(seq $((ramp_s * 10 + 100))); do
		[ "$(metric switchboard_active_calls)" -ge "$n" ] && break
		sleep 0.1
	done
	local up
	up=$(metric switchboard_active_calls)
	"${probe[@]}" "$work/rtpprobe" -switch "$sw_sip" -first "$probe_first" -pairs "$probe_pairs" -password pw-probe- \
		-duration "${probe_s}s" >"$logs/$name-probe.json" 2>"$logs/$name-probe.err" &
	local probe_pid=$!
	pids+=("$probe_pid")
	local m0 m1 sw0 sw1 t0 t1
	m0=$(cpu_mark "$sw_pid" "$uas_pid" "$uac_pid" "$probe_pid")
	sw0=$(awk '{print $14+$15}' "/proc/$sw_pid/stat")
	t0=$(date +%s.%N)
	local t rss_peak=0 r
	for t in $(seq "$probe_s"); do
		sleep 1
		udp_drops "${rtp_ports%-*}" "${rtp_ports#*-}" >/dev/null
		if [ "$t" = $((probe_s / 2)) ]; then
			rss_peak=$(rss_kb "$sw_pid")
			up=$(metric switchboard_active_calls)
		fi
	done
	wait "$probe_pid" || true
	m1=$(cpu_mark "$sw_pid" "$uas_pid" "$uac_pid")
	sw1=$(awk '{print $14+$15}' "/proc/$sw_pid/stat")
	t1=$(date +%s.%N)
	local swcpu
	swcpu=$(python3 -c "import os,sys; print('%.0f' % (100.0*(int(sys.argv[2])-int(sys.argv[1]))/os.sysconf('SC_CLK_TCK')/(float(sys.argv[4])-float(sys.argv[3]))))" "$sw0" "$sw1" "$t0" "$t1")
	local busy others_pct
	busy=$(python3 -c "import sys; a=list(map(int,sys.argv[1].split())); b=list(map(int,sys.argv[2].split())); print('%.0f' % (100.0*(b[0]-a[0])/max(1,b[1]-a[1])))" "$m0" "$m1")
	others_pct=$(others_cpu "$m0" "$m1")
	local drops
	drops=$(udp_drops "${rtp_ports%-*}" "${rtp_ports#*-}")
	wait "$uac_pid" && uac_rc=0 || uac_rc=$?
	sleep 3 # the last BYEs and RTP
	local pin pout pign
	pin=$(metric switchboard_rtp_packets_in_total)
	pout=$(metric switchboard_rtp_packets_out_total)
	pign=$(metric switchboard_rtp_packets_ignored_total)
	stop "$uas_pid"
	stop "$sw_pid"
	python3 - "$n" "$up" "$logs/$name-probe.json" "$logs/$name-uac-stat.csv" "$uas_log" "$pin" "$pout" "$pign" \
		"$drops" "$rss0" "$rss_peak" "$pcap_packets" "$uac_rc" "$work/media-row.txt" "$busy" "$others_pct" "$swcpu" <<'EOF'
import csv, json, re, sys
n, up, probe_f, stat_f, uas_f = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
pin, pout, pign, drops, rss0, rss1, pcap, rc = map(int, sys.argv[6:14])
row_f, busy, others, swcpu = sys.argv[14], sys.argv[15], sys.argv[16], sys.argv[17]
try:
    probe = json.load(open(probe_f))
except Exception as e:
    probe = {"error": f"no probe result: {e}"}
ok = failed = 0
try:
    rows = list(csv.reader(open(stat_f), delimiter=";"))
    col = {h: i for i, h in enumerate(rows[0])}
    ok, failed = int(rows[-1][col["SuccessfulCall(C)"]]), int(rows[-1][col["FailedCall(C)"]])
except Exception:
    pass
echo = 0
try:
    m = re.findall(r"(\d+) Total echo RTP pckts 1st stream", open(uas_f).read())
    echo = int(m[-1]) if m else 0
except OSError:
    pass
relay_loss = 100.0 * (pin - pout) / pin if pin else float("nan")
# Whatever the switch accepted plus what the kernel dropped on its sockets is what reached it.
switch_loss = 100.0 * (pin - pout + drops) / (pin + drops) if pin + drops else float("nan")
# End to end, SIPp included: N pcaps played, each packet echoed: 2 x N x pcap packets
# (what went out to the probe's phones is not SIPp's).
e2e = 100.0 * (1 - (pout - probe.get("received", 0)) / (2.0 * n * pcap))
mem = (rss1 - rss0) / max(up, 1)  # up counts the probe's calls too
up_sipp = up - (probe.get("pairs", 0) - probe.get("failed_calls", 0))
lat = probe.get("latency_p99_ms", float("nan"))
ploss = probe.get("loss_pct", float("nan"))
passed = (failed == 0 and ok == n and up_sipp >= n and "error" not in probe and probe.get("failed_calls", 1) == 0
          and ploss <= 0.1 and switch_loss <= 0.1 and lat < 5)
row = (f"| {n} | {up_sipp} | {ok} / {failed} | {probe.get('sent', 0)} / {probe.get('received', 0)} ({ploss:.3f} %) | "
       f"{probe.get('latency_p50_ms', float('nan')):.2f} / {lat:.2f} / {probe.get('latency_max_ms', float('nan')):.1f} | "
       f"{pin} / {pout} / {drops} ({switch_loss:.3f} %) | {e2e:.2f} % | {echo} | {rss0 // 1024} → {rss1 // 1024} MB, "
       f"**{mem:.1f} kB/call** | {swcpu} % | {busy} % / {others} % | {'**pass**' if passed else 'fail'} |")
open(row_f, "w").write(row + "\n")
print(row)
sys.exit(0 if passed else 1)
EOF
	local rc=$?
	cat "$work/media-row.txt" >>"$work/media.md"
	return $rc
}

if [ "${MEDIA:-1}" = 1 ]; then
	: >"$work/media.md"
	first=1
	for n in $media_levels; do
		if ! media_run "$n"; then
			if [ -n "$first" ] && [ -n "$media_below" ]; then
				media_run "$media_below" && media_ok=$media_below
			fi
			break
		fi
		media_ok=$n
		first=""
	done
	{
		echo
		echo "## Concurrent calls with RTP relayed both ways (switch on 2 cores, SIPp and the probe beside it)"
		echo
		echo "SIPp (both at the lowest priority: nice 19 in an autogroup at nice 19): uac_call.xml playing a ${media_secs} s PCMU pcap (50 packets/s), $ramp new calls/s, callee uas_answer.xml -rtp_echo."
		echo "Probe (nice -10): $probe_pairs Go calls through the switch at full load, 50 time-stamped packets/s each way."
		echo "Highest level passing (0 failed calls, ≤ 0.1 % loss at the probe and at the switch, probe latency p99 < 5 ms): **${media_ok:-none}**"
		echo
		echo "| calls | up at mid-run | SIPp ok / failed | probe sent / received (loss) | probe one-way latency p50 / p99 / max (ms) | switch RTP in / out / kernel drops (loss) | end-to-end loss incl. SIPp | callee SIPp echoed | RSS idle → loaded, per call | switch CPU (% of one core) | machine busy / of it other processes | verdict |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
		cat "$work/media.md"
	} >>"$out/calls.md"
fi

# --- 3. Go benchmarks: a whole call through the switch (one core), the relay, a leg's ports
if [ "${GOBENCH:-1}" = 1 ]; then
	log "Go benchmarks"
	{
		go test -run '^$' -bench '^BenchmarkCallSetup$/^users=10000$' -benchmem -cpu 1 -benchtime 5000x ./switch/call
		go test -run '^$' -bench '^(BenchmarkRelay|BenchmarkRelayLoopback|BenchmarkEndpointLifecycle)$' -benchmem -cpu 1 ./media
		# CPU per relayed packet with 500 calls of real sockets, on both cores like the switch
		go test -run '^$' -bench '^BenchmarkRelayManySockets$/^calls=500$' -benchtime 250x ./media
	} 2>&1 | tee "$logs/gobench.txt" | grep -E '^(Benchmark|FAIL|---)' >&2 || true
	{
		echo
		echo "## Go benchmarks (-cpu 1; BenchmarkRelayManySockets on both cores)"
		echo
		echo '```'
		grep -E '^(Benchmark|FAIL)' "$logs/gobench.txt" || true
		echo '```'
	} >>"$out/calls.md"
fi

echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/calls.md"
cat "$out/calls.md"
log "results in $out/calls.md"
