#!/usr/bin/env bash
# Regenerates the embedded audio: every prompt of prompts.txt with espeak-ng,
# the voicemail beep, and the default music on hold, as 8 kHz mono μ-law.
# Needs: apt-get install espeak-ng sox. Run from the repo root: make prompts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/audio"
voice=${VOICE:-en-us}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# to_ulaw IN.wav OUT.ulaw: 8 kHz mono, telephone band, peak at -3 dBFS; espeak's own
# leading and trailing silence trimmed (it made "2 0 0" last 3 s), then PAD seconds
# (default 120 ms) of silence before and after so phones that clip the first frames
# lose nothing.
to_ulaw() {
  local pad=${PAD:-0.12}
  sox -D "$1" -r 8000 -c 1 -b 16 "$tmp/n.wav" highpass 300 lowpass 3400 norm -3 \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad "$pad" "$pad"
  sox -D "$tmp/n.wav" -t ul "$2"
}

while IFS='|' read -r name text; do
  case "$name" in ''|'#'*) continue ;; esac
  espeak-ng -v "$voice" -s 155 -g 2 -w "$tmp/p.wav" "$text"
  case "$name" in num_*) PAD=0.06 ;; *) PAD=0.12 ;; esac # numbers are strung together
  PAD=$PAD to_ulaw "$tmp/p.wav" "$out/$name.ulaw"
done < "$here/prompts.txt"

# The voicemail beep: 1 kHz for 400 ms.
sox -D -n -r 8000 -c 1 -b 16 "$tmp/beep.wav" synth 0.4 sine 1000 vol 0.5
sox -D "$tmp/beep.wav" -t ul "$out/beep.ulaw"

# Default music on hold: a slow, soft progression of sine chords (C, Am, F, G),
# 4 s each, with gentle fades, 32 s that loop seamlessly. Synthesised here, so
# it is ours to ship under the project's MIT licence.
i=0
for chord in "261.63 329.63 392.00" "220.00 261.63 329.63" "174.61 220.00 261.63" "196.00 246.94 293.66" \
             "261.63 329.63 392.00" "220.00 261.63 329.63" "174.61 220.00 261.63" "196.00 246.94 392.00"; do
  set -- $chord
  sox -D -n -r 8000 -c 1 -b 16 "$tmp/c$i.wav" synth 4 sine "$1" sine "$2" sine "$3" remix - \
    tremolo 0.5 20 fade q 0.6 4 0.6 vol 0.25
  i=$((i + 1))
done
sox -D "$tmp"/c?.wav "$tmp/moh.wav" norm -6
sox -D "$tmp/moh.wav" -t ul "$out/moh_default.ulaw"
echo "wrote $(ls "$out" | wc -l) files to $out"
