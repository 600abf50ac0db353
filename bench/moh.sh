#!/usr/bin/env bash
# bench/moh.sh — music on hold and recording CPU (issue #5); `make bench` runs it after run.sh.
#
# Builds bench/mohbench and runs it with the media engine pinned to one core
# (taskset -c 1, GOMAXPROCS=1) and its sink/sender processes on the other (CPU 0), so
# "% of one core" is the engine's alone. N listeners play the built-in music on hold to
# the sink; N recording legs record what the sender sends them (50 packets/s each).
# Results: bench/results/<UTC time>/moh.md (table, command, machine load) and moh.json.
# Knobs (environment): LISTENERS=500,1000,2000 RECORDERS=500,1000,2000 WINDOW=10 (seconds)
# WARMUP=2 ENGINE_CPU=1 CHILD_CPU=0 (empty CPUs: no pinning).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${OUT:-$repo/bench/results/$stamp}
listeners=${LISTENERS:-500,1000,2000}
recorders=${RECORDERS:-500,1000,2000}
seconds=${WINDOW:-10} # not SECONDS: bash keeps its own
warmup=${WARMUP:-2}
engine_cpu=${ENGINE_CPU-1}
child_cpu=${CHILD_CPU-0}

command -v go >/dev/null || { echo "bench/moh.sh: go not found" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d /tmp/switchboard-mohbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/mohbench" ./bench/mohbench

run=("$work/mohbench" -listeners "$listeners" -recorders "$recorders" -seconds "$seconds" -warmup "$warmup" -json "$out/moh.json")
[ -n "$child_cpu" ] && run+=(-child-cpu "$child_cpu")
if [ -n "$engine_cpu" ] && command -v taskset >/dev/null; then
	run=(env GOMAXPROCS=1 taskset -c "$engine_cpu" "${run[@]}")
fi

echo "== music on hold and recording: ${run[*]}" >&2
before=$(uptime)
table=$("${run[@]}")
after=$(uptime)
{
	echo "## Music on hold and recording (issue #5)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version | cut -d' ' -f3)"
	echo
	echo '```'
	echo "${run[*]}" | sed "s|$work/|bench/|"
	echo '```'
	echo
	echo "$table"
	echo
	echo "- uptime before: $before"
	echo "- uptime after:  $after"
} >"$out/moh.md"
cat "$out/moh.md"
