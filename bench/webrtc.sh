#!/usr/bin/env bash
# bench/webrtc.sh — concurrent bridged WebRTC↔RTP calls (issue #7); `make bench` runs it after
# moh.sh (WEBRTC=0 skips it), and it runs alone from the repository root after `make build`.
#
# For each level N in WEBRTC_CALLS (default "100 200", stopping after the first that fails) a
# fresh `switchboard serve` (its WebRTC gateway on the HTTPS address over UDP, the default) takes
# N calls from bench/webrtcload: N pion peers standing for browsers (ICE + DTLS-SRTP to the
# gateway; their SIP over TCP, a WebRTC offer being too big for one UDP datagram) each call a Go
# desk phone (phonetest, plain RTP over UDP). Once all are up every call sends 50 stamped G.711
# packets/s each way for WEBRTC_SECONDS (60); the tool reports loss and one-way latency each way,
# the switch's CPU (/proc/PID/stat) and RSS per call, and how busy the machine was.
# A level passes with every call up and ≤ 0.5 % loss each way (MAX_LOSS).
#
# WEBRTC_MODE=split (default): the switch pinned to CPU 1 with GOMAXPROCS=1, the load tool on
# CPU 0, so the CPU figures are "% of one core" for the switch alone. WEBRTC_MODE=shared: both
# unpinned. The load tool runs at nice LOAD_NICE (-10; empty: unchanged) as bench/calls.sh's probe
# does: it stands for browsers and phones with CPUs of their own, so its own scheduling delays on
# this shared machine must not count as the switch's loss or latency; the switch keeps nice 0. Results: $OUT (default bench/results/<UTC time>/) webrtc.md and webrtc-N.json.
# Needs: go, python3, taskset (split), 2 CPUs. Loopback only; every process it starts is
# stopped by PID; every run is bounded in calls and time.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
bin=${BIN:-$repo/bin/switchboard}
levels=${WEBRTC_CALLS:-100 200}
secs=${WEBRTC_SECONDS:-60}
mode=${WEBRTC_MODE:-split}
max_loss=${MAX_LOSS:-0.5}
load_nice=${LOAD_NICE--10} # the load tool's priority: its own stalls must not count as the switch's loss or latency
first=30000
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${OUT:-$repo/bench/results/$stamp}

command -v go >/dev/null || { echo "webrtc.sh: go not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "webrtc.sh: python3 not found" >&2; exit 1; }
[ -x "$bin" ] || { echo "webrtc.sh: $bin not built (make build)" >&2; exit 1; }
if [ "$mode" = split ]; then
	command -v taskset >/dev/null || { echo "webrtc.sh: taskset not found (util-linux), or WEBRTC_MODE=shared" >&2; exit 1; }
	[ "$(nproc)" -ge 2 ] || { echo "webrtc.sh: split mode needs 2 CPUs" >&2; exit 1; }
fi

work=$(mktemp -d /tmp/switchboard-webrtc.XXXXXX)
mkdir -p "$out" "$work/logs"
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do stop "$pid"; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "== $*" >&2; }
# shellcheck source=bench/lib.sh
source "$repo/bench/lib.sh" # stop, start_switch

# Users first … first+2×(largest level)-1, SIP password pw-web-<ext>.
most=$(printf '%s\n' $levels | sort -n | tail -1)
python3 - "$work/users.csv" "$first" "$((2 * most))" <<'EOF'
import sys
path, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    f.write("ext,name,email,role,password,sip_password\n")
    for u in range(first, first + n):
        f.write(f"{u},WebRTC Bench {u},,user,,pw-web-{u}\n")
EOF
"$bin" --data "$work/seed" user import "$work/users.csv" >/dev/null
CGO_ENABLED=0 go build -o "$work/webrtcload" ./bench/webrtcload

load=("$work/webrtcload")
switch_mode=2cores
if [ "$mode" = split ]; then
	load=(env GOMAXPROCS=1 taskset -c 0 "$work/webrtcload")
	switch_mode=1core
fi
[ -n "$load_nice" ] && load=(nice -n "$load_nice" "${load[@]}")

rows=""
passed=none
for n in $levels; do
	start_switch "$switch_mode" "webrtc-$n" "$work/logs"
	sleep 1 # the switch settles: its idle RSS is the baseline
	cmd=("${load[@]}" -switch "$sw_sip" -pid "$sw_pid" -calls "$n" -seconds "$secs" -first "$first" -password pw-web- -max-loss "$max_loss")
	log "webrtc: $n calls, ${secs} s: ${cmd[*]}"
	rc=0
	timeout $((secs + 4 * n / 10 + 180)) "${cmd[@]}" >"$out/webrtc-$n.json" 2>"$work/logs/webrtcload-$n.err" || rc=$?
	stop "$sw_pid"
	row=$(python3 - "$out/webrtc-$n.json" "$rc" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"| ? | no result ({e}, exit {sys.argv[2]}) |" + " |" * 10); sys.exit()
u, d = r["browser_to_desk"], r["desk_to_browser"]
way = lambda w: f"{w['sent']} / {w['received']} (**{w['loss_pct']:.3f} %**)"
lat = lambda w: f"{w['latency_p50_ms']:.2f} / {w['latency_p99_ms']:.2f} / {w['latency_max_ms']:.1f}"
print(f"| {r['calls']} | {r['up']} / {r['failed_calls']} ({r['setup_seconds']:.0f} s) | {way(u)} | {way(d)} | {lat(u)} | {lat(d)} "
      f"| {r['switch_udp_drops']} / {r['load_tool_udp_drops']} "
      f"| {r['switch_cpu_pct_of_one_core']:.1f} % (**{r['switch_cpu_pct_per_call']:.3f} %/call**); waited {r['switch_run_delay_per_s']:.2f} s/s "
      f"| {r['rss_idle_kb'] // 1024} → {r['rss_loaded_kb'] // 1024} MB (**{r['rss_per_call_kb']:.0f} kB/call**) "
      f"| {r['load_tool_pct_of_one_core']:.0f} %, late {r['load_tool_lateness']['latency_p99_ms']:.1f} / {r['load_tool_lateness']['latency_max_ms']:.0f} ms | {r['machine_busy_pct']:.0f} % ({r['loadavg_before']} → {r['loadavg_after']}) "
      f"| {'**pass**' if r['pass'] else 'fail'} |")
EOF
)
	echo "$row" >&2
	rows+="$row"$'\n'
	[ "$rc" = 0 ] || { tail -5 "$work/logs/webrtcload-$n.err" >&2; break; }
	passed=$n
done

{
	echo "## Concurrent WebRTC↔RTP calls (issue #7)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version | cut -d' ' -f3), switchboard $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown); mode $mode"
	echo
	echo '```'
	echo "WEBRTC_CALLS=\"$levels\" WEBRTC_SECONDS=$secs WEBRTC_MODE=$mode bench/webrtc.sh"
	echo "${load[*]} -switch SIP -pid PID -calls N -seconds $secs -first $first -password pw-web- -max-loss $max_loss" | sed "s|$work/|bench/|"
	echo '```'
	echo
	echo "Highest level passing (every call up, ≤ $max_loss % loss each way): **$passed**"
	echo
	echo "| calls | up / failed (setup time) | browser → desk sent / received (loss) | desk → browser sent / received (loss) | browser → desk latency p50 / p99 / max (ms) | desk → browser latency p50 / p99 / max (ms) | kernel drops at the switch / at the load tool | switch CPU, of one core; its threads' wait for a CPU | switch RSS idle → loaded | load tool CPU, of one core; its wake-up lateness p99 / max | machine busy (load average before → after) | verdict |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	printf '%s' "$rows"
} >"$out/webrtc.md"
cat "$out/webrtc.md"
