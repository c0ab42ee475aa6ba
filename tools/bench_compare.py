#!/usr/bin/env python3
"""Runs each workload on courier and on CAF alternately (one process per run:
a warm-up at 1/10 scale, then one measured run), takes medians, and prints
the courier-vs-CAF table. Appends every result line to a JSON-lines file.

usage: bench_compare.py BUILD_DIR [--quick] [--runs N] [--scale S] [--workload W ...] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

WORKLOADS = [  # (name, headline unit, lower is better)
    ("pingpong", "ns/roundtrip", True),
    ("pingpong_recipient", "ns/roundtrip", True),  # courier only: each side holds a recipient<M>
    ("pairs", "Mmsg/s", False),
    ("pairs_measured", "Mmsg/s", False),  # courier only: pairs with per-type metrics on
    ("fanin", "Mmsg/s", False),
    ("ring_a", "ns/hop", True),
    ("ring_b", "Mhops/s", False),
    ("spawn_a", "ns/actor", True),
    ("spawn_b", "ns/actor", True),
    ("footprint", "B/actor", True),
    ("ask_thread", "p50 ns", True),
    ("ask_actor", "M asks/s", False),
    ("ask_actor_await", "M asks/s", False),  # courier only: co_await instead of a continuation
    ("idle", "cpu s/s", True),
    ("long_handler", "p99 us", True),  # courier only: lag behind a long handler (guarantee 4)
    ("timers", "ns/timer", True),  # courier only: arm + cancel 1M timers with a handle
    ("when_all", "ns/pair", True),  # courier only: when_all of 2 asks (vs sequential in its extra rows)
    ("send_for_wake", "p50 us", True),  # courier only: a waiting send_for's wake-up after a freed slot
    ("stream", "Mitems/s", False),  # courier only: a stream with demand (vs plain sends in its extra rows)
]
COURIER_ONLY = {"ask_actor_await", "pairs_measured", "long_handler", "pingpong_recipient", "timers", "when_all", "send_for_wake", "stream"}  # no CAF counterpart: compared with ask_actor / pairs instead
# extra metrics shown in their own rows: (workload, metric, label, lower is better)
EXTRA = [
    ("pingpong", "p99", "pingpong p99 ns", True),
    ("spawn_a", "peak_rss_MB", "spawn_a peak RSS MB", True),
    ("fanin", "bytes/msg", "fanin bytes/queued msg", True),
    ("ask_thread", "p99", "ask_thread p99 ns", True),
    ("ask_thread", "p99.9", "ask_thread p99.9 ns", True),
    ("idle", "wake_p50", "idle wake-up p50 ns", True),
    ("idle", "wake_p99", "idle wake-up p99 ns", True),
    ("long_handler", "p50", "long_handler p50 us", True),
    ("long_handler", "max", "long_handler max us", True),
    ("timers", "arm_ns", "timers: arm ns", True),
    ("timers", "cancel_ns", "timers: cancel ns", True),
    ("timers", "interleaved_ns", "timers: arm+cancel one at a time ns", True),
    ("timers", "bytes/timer", "timers: peak bytes per armed timer", True),
    ("when_all", "sequential_ns", "when_all: two sequential co_awaits ns", True),
    ("when_all", "ratio", "when_all / sequential", True),
    ("when_all", "work20us_ns", "when_all, 20 us handlers ns", True),
    ("when_all", "work20us_ratio", "when_all / sequential, 20 us handlers", True),
    ("send_for_wake", "p99", "send_for wake-up p99 us", True),
    ("send_for_wake", "futex_p50", "bare futex hand-off p50 us (reference)", True),
    ("send_for_wake", "futex_p99", "bare futex hand-off p99 us (reference)", True),
    ("stream", "plain_Mitems/s", "stream: plain sends Mitems/s (ref)", False),
    ("stream", "ratio", "stream / plain sends", False),
    ("stream", "slow_max_queued", "stream, 1us consumer: max queued", True),
    ("stream", "slow_plain_max_queued", "plain, 1us consumer: max queued", True),
    ("stream", "slow_rss_MB", "stream, 1us consumer: RSS MB", True),
    ("stream", "slow_plain_rss_MB", "plain, 1us consumer: RSS MB", True),
]


def run_one(binary, workload, scale, json_path):
    cmd = [binary, "--workload", workload, "--runs", "1", "--scale", str(scale), "--json", json_path]
    if workload == "footprint":
        cmd.append("--no-warmup")  # RSS growth is only meaningful in a fresh process
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [l for l in open(json_path) if l.strip()]
    result = json.loads(lines[-1]) if lines else {"check": "no output"}
    if proc.returncode != 0 and result.get("check") == "ok":
        result["check"] = "exit %d" % proc.returncode
    return result


def fmt(v):
    if v is None:
        return "-"
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 1:
        return "%.2f" % v
    return "%.3g" % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workload", action="append")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.quick:
        args.runs, args.scale = 3, 0.02
    courier = os.path.join(args.build, "benches", "courier-bench")
    caf = os.path.join(args.build, "benches", "caf-bench")
    impls = [("courier", courier)] + ([("caf", caf)] if os.path.exists(caf) else [])
    nometrics = os.path.join(args.build, "benches", "courier-bench-nometrics")
    json_out = args.json or os.path.join(args.build, "bench-results.jsonl")
    selected = [w for w in WORKLOADS if not args.workload or w[0] in args.workload]
    results = {}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name, unit, lower in selected:
            for run in range(args.runs):
                runs_here = [i for i in impls if not (name in COURIER_ONLY and i[0] != "courier")]
                if name in ("pairs", "fanin") and os.path.exists(nometrics):
                    runs_here.append(("nometrics", nometrics))  # the metrics overhead row
                for impl, binary in runs_here:  # alternate, so machine drift hits all
                    path = os.path.join(tmp, "%s-%s-%d.jsonl" % (impl, name, run))
                    r = run_one(binary, name, args.scale, path)
                    if impl == "nometrics":
                        r["impl"] = "courier-nometrics"
                    results.setdefault((impl, name), []).append(r)
                    with open(json_out, "a") as out:
                        out.write(json.dumps(r) + "\n")
            print("  measured %s" % name, file=sys.stderr, flush=True)

    def median(impl, name, key="value"):
        rs = results.get((impl, name), [])
        if not rs or any(r.get("check") != "ok" for r in rs):
            return None
        return statistics.median(r[key] for r in rs if key in r)

    def check(impl, name):
        rs = results.get((impl, name), [])
        bad = [r.get("check") for r in rs if r.get("check") != "ok"]
        return "ok" if rs and not bad else (bad[0] if bad else "-")

    workers = next((r.get("workers") for rs in results.values() for r in rs if "workers" in r), "?")
    alloc = next((r.get("allocator") for (i, _), rs in results.items() if i == "courier" for r in rs if "allocator" in r), "?")
    print("\nworkers %s, courier allocator %s, courier batch 64, CAF defaults; medians of %d runs, scale %g\n"
          % (workers, alloc, args.runs, args.scale))
    header = "%-26s %14s %14s %10s  %s" % ("workload", "courier", "CAF", "ratio", "checks (courier / CAF)")
    print(header)
    print("-" * len(header))
    rows = [(n, n + " " + u, lower, "value") for n, u, lower in selected]
    rows += [(n, label, lower, key) for n, key, label, lower in EXTRA if any(n == s[0] for s in selected)]
    for name, label, lower, key in rows:
        c = median("courier", name, key)
        has_caf = len(impls) > 1 and name not in COURIER_ONLY
        f = median("caf", name, key) if has_caf else None
        ratio = None
        if c is not None and f is not None and c > 0 and f > 0:
            ratio = f / c if lower else c / f
        cc, fc = check("courier", name), (check("caf", name) if has_caf else "-")
        failed |= cc != "ok" or (has_caf and fc != "ok")
        print("%-26s %14s %14s %10s  %s / %s" % (label, fmt(c), fmt(f), ("%.1fx" % ratio) if ratio else "-", cc, fc))
    for name in ("pairs", "fanin"):
        on, off = median("courier", name), median("nometrics", name)
        if on and off:
            print("%-26s %14s %14s %10s  %s" % ("metrics cost, " + name, fmt(on), fmt(off), "%+.1f%%" % ((off - on) / off * 100),
                                               "metrics on / off, Mmsg/s (target <= 3%)"))
    plain, measured = median("courier", "pairs"), median("courier", "pairs_measured")
    if plain and measured:
        print("%-26s %14s %14s %10s  %s" % ("per-type metrics cost", fmt(measured), fmt(plain),
                                           "%+.1f%%" % ((plain - measured) / plain * 100),
                                           "pairs with both actor types measured / not, Mmsg/s"))
    cont, aw = median("courier", "ask_actor"), median("courier", "ask_actor_await")
    if cont and aw:
        print("%-26s %14s %14s %10s  %s" % ("ask_actor co_await vs then", fmt(aw), fmt(cont), "%.2fx" % (cont / aw),
                                           "continuation / co_await time (target <= 1.3x)"))
    fanin_runs = [r.get("value") for r in results.get(("courier", "fanin"), []) if r.get("check") == "ok"]
    if fanin_runs:
        print("%-26s %s  (every run, Mmsg/s; one mode means no run far below the rest)"
              % ("fanin runs", " ".join(fmt(v) for v in fanin_runs)))
    print("\nratio: how many times better courier is than CAF (>1 = courier better). JSON lines: %s" % json_out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
