#!/usr/bin/env python3
"""Step a SIPp scenario through call rates and report, per step, what the server did.

For each rate R it runs `sipp ... -r R -m R*SECONDS` (plus the SIPp arguments given after
"--"), then prints one markdown row: offered rate, achieved rate, successful / failed
calls, retransmissions, response time (rtd1) mean / p50 / p95 / p99 / max in ms, share of
rtd1 > 200 ms, and the CPU used by the server process tree (all its children) as % of
one core, read from /proc before and after the run.

Usage (from the harness/sipp folder so relative scenario/pcap paths work):
  ../tools/sweep.py --server-pid PID --rates 1000,2000,4000 --seconds 10 [--sipp-cpu 0] \
      -- 127.0.0.1:5070 -sf register_auth.xml -inf users.csv -key expires 3600 \
         -i 127.0.0.1 -p 5061
Stops early when failures exceed 0.1 % or rtd1 p95 exceeds 200 ms on two consecutive steps.
Give SIPp -recv_timeout (e.g. 10000) so that a lost message fails the call instead of
leaving it waiting; a step that does not end within 3 x seconds + 60 s is reported "hung".
Nothing outside the Python standard library and SIPp is needed.

Switchboard's copy of ../shared/bench/tools/sweep.py (measurements unchanged) with three
additions for bench/run.sh: --json FILE appends one JSON object per step; --stop-p99 MS
also counts a step as bad when it has any failed call or an rtd1 p99 of MS or more (the
criterion of issue #3), so a sweep stops soon after the highest good rate; and
--retry N repeats a step (up to N times) when SIPp's own watchdog reports that SIPp was
not scheduled for 500 ms or more, or when the step misses --good-p99 MS (a failure or an
rtd1 p99 of MS or more): on a shared, noisy machine one bad step may measure the machine,
not the server; a server really at its limit misses again. Repeated steps are printed
and kept in the JSON, marked "repeated".
"""
import argparse, csv, glob, json, os, resource, statistics, subprocess, sys, tempfile, time

HZ = os.sysconf("SC_CLK_TCK")


def tree_pids(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parts = f.read().rsplit(")", 1)[1].split()
                kids.setdefault(int(parts[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(root):
    total = 0
    for p in tree_pids(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            total += int(parts[11]) + int(parts[12])  # utime + stime
        except OSError:
            pass
    return total


def pct(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def run_step(rate, seconds, sipp_args, server_pid, sipp_cpu, workdir):
    m = int(rate * seconds)
    tag = f"r{rate}"
    stf = os.path.join(workdir, f"{tag}_stat.csv")
    cmd = ["sipp", *sipp_args, "-r", str(rate), "-rp", "1000", "-m", str(m),
           "-nostdin", "-trace_stat", "-stf", stf, "-fd", "1",
           "-trace_rtt", "-rtt_freq", "1",
           "-trace_err", "-error_file", os.path.join(workdir, f"{tag}_err.log"),
           "-trace_screen", "-screen_file", os.path.join(workdir, f"{tag}_screen.log")]
    if sipp_cpu is not None:
        cmd = ["taskset", "-c", str(sipp_cpu)] + cmd
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c0, t0 = (cpu_ticks(server_pid) if server_pid else 0), time.time()
    try:
        p = subprocess.run(cmd, cwd=os.getcwd(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=seconds * 3 + 60)
        rc = p.returncode
    except subprocess.TimeoutExpired:  # SIPp is killed by subprocess.run
        rc = "hung"
    t1 = time.time()
    c1 = cpu_ticks(server_pid) if server_pid else 0
    wall = t1 - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sipp_cpu_pct = 100.0 * ((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)) / wall
    cpu = 100.0 * (c1 - c0) / HZ / wall if server_pid else float("nan")
    # last line of the stat csv holds cumulative counters
    with open(stf, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    head, last = rows[0], rows[-1]
    col = {h: i for i, h in enumerate(head)}
    g = lambda k: last[col[k]] if k in col else ""
    ok, failed = int(g("SuccessfulCall(C)")), int(g("FailedCall(C)"))
    retrans = int(g("Retransmissions(C)"))
    elapsed = g("ElapsedTime(C)")
    # SIPp names the rtt file after the scenario file and its pid: pick the newest
    rtts = []
    files = sorted(glob.glob("*_rtt.csv"), key=os.path.getmtime)
    if files:
        with open(files[-1], newline="") as f:
            for r in csv.reader(f, delimiter=";"):
                # Date_ms;response_time_ms;rtd_no  -- keep rtd 1 only
                if len(r) >= 3 and r[2].strip() == "1":
                    rtts.append(float(r[1]))
        os.replace(files[-1], os.path.join(workdir, f"{tag}_rtt.csv"))
    try:
        achieved = float(g("CallRate(C)"))  # calls SIPp managed to start per second
    except ValueError:
        achieved = 0.0
    over = sum(1 for x in rtts if x > 200) / len(rtts) * 100 if rtts else float("nan")
    mean = statistics.fmean(rtts) if rtts else float("nan")
    stalls = 0  # SIPp's own watchdog: SIPp itself was not scheduled for >= 500 ms
    try:
        with open(os.path.join(workdir, f"{tag}_err.log"), errors="replace") as f:
            stalls = f.read().count("watchdog timer")
    except OSError:
        pass
    return dict(rate=rate, calls=m, ok=ok, failed=failed, retrans=retrans, wall=wall, stalls=stalls,
                achieved=achieved, mean=mean, p50=pct(rtts, .5), p95=pct(rtts, .95),
                p99=pct(rtts, .99), mx=max(rtts) if rtts else float("nan"), over=over,
                cpu=cpu, sippcpu=sipp_cpu_pct, rc=rc, elapsed=elapsed)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--server-pid", type=int)
    ap.add_argument("--sipp-cpu")
    ap.add_argument("--keep", default=None, help="folder for SIPp logs (default: temp)")
    ap.add_argument("--no-stop", action="store_true")
    ap.add_argument("--json", help="append one JSON object per step to this file")
    ap.add_argument("--stop-p99", type=float, help="a step with a failure or rtd1 p99 >= this (ms) is bad")
    ap.add_argument("--retry", type=int, default=0,
                    help="repeat a step up to N times when SIPp's watchdog saw SIPp itself stall, "
                         "or when it misses --good-p99")
    ap.add_argument("--good-p99", type=float,
                    help="with --retry: a step with a failure or rtd1 p99 >= this (ms) is repeated")
    ap.add_argument("sipp_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = a.sipp_args[1:] if a.sipp_args[:1] == ["--"] else a.sipp_args
    work = a.keep or tempfile.mkdtemp(prefix="sweep-")
    os.makedirs(work, exist_ok=True)
    print("| offered/s | calls | ok | failed | retrans | started/s | rtd1 mean | p50 | p95 | p99 | max (ms) | >200 ms | server CPU (% of 1 core) | SIPp CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    bad = 0
    for rate in [int(x) for x in a.rates.split(",")]:
        for attempt in range(a.retry + 1):
            r = run_step(rate, a.seconds, args, a.server_pid, a.sipp_cpu, work)
            r["attempt"] = attempt + 1
            missed = a.good_p99 is not None and (r["rc"] != 0 or r["failed"] > 0 or r["ok"] < r["calls"]
                                                 or not r["p99"] < a.good_p99)
            if not (r["stalls"] or missed) or attempt == a.retry:
                break
            why = f"SIPp itself stalled ({r['stalls']} watchdog trips)" if r["stalls"] else "missed the criterion"
            print(f"| {rate} | {why}: {r['failed']} failed, p99 {r['p99']:.0f} ms, step repeated |", flush=True)
            if a.json:
                with open(a.json, "a") as f:
                    f.write(json.dumps({**{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}, "repeated": True}) + "\n")
            time.sleep(2)
        print(f"| {r['rate']} | {r['calls']} | {r['ok']} | {r['failed']} | {r['retrans']} | "
              f"{r['achieved']:.0f} | {r['mean']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | "
              f"{r['mx']:.0f} | {r['over']:.2f} % | {r['cpu']:.0f} | {r['sippcpu']:.0f} |", flush=True)
        if r["rc"] == "hung":
            print(f"| {rate} | SIPp did not finish in time: calls stuck, counted as failure |")
        fail = r["rc"] == "hung" or r["failed"] > 0.001 * r["calls"] or r["p95"] > 200 or r["ok"] < 0.999 * r["calls"]
        if a.stop_p99 is not None:
            fail = fail or r["failed"] > 0 or r["ok"] < r["calls"] or not r["p99"] < a.stop_p99
        if a.json:
            with open(a.json, "a") as f:
                f.write(json.dumps({k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}) + "\n")
        bad = bad + 1 if fail else 0
        if bad >= 2 and not a.no_stop:
            break
        time.sleep(2)
    print(f"\nSIPp logs: {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
