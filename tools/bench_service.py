#!/usr/bin/env python3
"""The service section of tools/bench: courier-kv against Debian's
redis-server, both driven by redis-benchmark with the same settings, on
loopback, one server at a time (alternating, ROUNDS rounds, medians).

usage: bench_service.py BUILD_DIR [--quick] [--rounds N] [--requests N] [--no-pin]

Prints requests/s and p50 / p99 latency side by side with the ratios
courier-kv / Redis (throughput: higher is better; p99: lower is better).

CPUs: on a machine with 2 or more, the client runs on CPU 0 and each
server on the others (taskset), the same for both servers, so a server's
threads never queue behind the client for a core and the comparison does
not depend on where the kernel happened to put three busy threads on two
cores. --no-pin leaves placement to the kernel.
"""
import argparse
import csv
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

TESTS = "ping,set,get,incr,mset"
PIPELINES = (1, 16)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("the server exited at start")
            time.sleep(0.05)  # polling the listener: the connect decides
    raise SystemExit("the server did not start listening")


def cpu_split(pin):
    """(client prefix, server prefix) for taskset, or none when not pinning."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2 or not shutil.which("taskset"):
        return [], [], "kernel's placement"
    rest = ",".join(str(c) for c in cpus[1:])
    return (["taskset", "-c", str(cpus[0])], ["taskset", "-c", rest],
            "client on CPU %d, servers on CPU %s" % (cpus[0], rest))


def start(kind, build, port, kv_args=(), prefix=()):
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--daemonize", "no"]
    else:
        cmd = [os.path.join(build, "examples", "kv", "courier-kv"), "--port", str(port), *kv_args]
    proc = subprocess.Popen([*prefix, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, proc)
    return proc


def bench(port, pipeline, requests, tests, prefix=()):
    cmd = [*prefix, "redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", tests, "-c", "50", "-n", str(requests),
           "-P", str(pipeline), "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    rows = {}
    for row in csv.DictReader(io.StringIO(out)):
        name = row["test"].split(" ")[0]  # "MSET (10 keys)" -> MSET
        if name.startswith("PING"):
            name = row["test"]  # PING_INLINE, PING_MBULK
        rows[name] = (float(row["rps"]), float(row["p50_latency_ms"]), float(row["p99_latency_ms"]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--requests", type=int, default=None)
    ap.add_argument("--kv-args", default="", help="extra courier-kv options, e.g. '--workers 1'")
    ap.add_argument("--tests", default=None, help="redis-benchmark -t list (default: %s)" % TESTS)
    ap.add_argument("--no-pin", action="store_true", help="let the kernel place the client and the servers")
    args = ap.parse_args()
    client_cpus, server_cpus, placement = cpu_split(not args.no_pin)
    for tool in ("redis-server", "redis-benchmark"):
        if not shutil.which(tool):
            print("== service section skipped: %s not found (Debian: redis-server, redis-tools)" % tool)
            return 0
    rounds = args.rounds or (1 if args.quick else 3)
    requests = args.requests or (20000 if args.quick else 200000)
    results = {}  # (server, pipeline, test) -> [(rps, p50, p99)]
    for r in range(rounds):
        for server in ("courier-kv", "redis"):
            port = free_port()
            proc = start(server, args.build, port, args.kv_args.split(), server_cpus)
            try:
                for p in PIPELINES:
                    for test, v in bench(port, p, requests, args.tests or TESTS, client_cpus).items():
                        results.setdefault((server, p, test), []).append(v)
            finally:
                proc.terminate()
                proc.wait(timeout=60)
    print()
    print("== service: redis-benchmark -t %s -c 50 -n %d, medians of %d rounds (%s)"
          % (args.tests or TESTS, requests, rounds, placement))
    head = "%-12s %3s %12s %12s %7s %16s %16s %7s" % ("test", "-P", "courier rps", "redis rps", "ratio",
                                                       "courier p50/p99", "redis p50/p99", "p99 x")
    print(head)
    print("-" * len(head))
    tests = sorted({t for (_, _, t) in results}, key=lambda t: ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR",
                                                                  "MSET"].index(t) if t in
                   ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"] else 99)
    for p in PIPELINES:
        for t in tests:
            c = results.get(("courier-kv", p, t))
            rd = results.get(("redis", p, t))
            if not c or not rd:
                continue
            med = lambda rows, i: statistics.median(x[i] for x in rows)
            c_rps, r_rps = med(c, 0), med(rd, 0)
            c50, c99, r50, r99 = med(c, 1), med(c, 2), med(rd, 1), med(rd, 2)
            print("%-12s %3d %12.0f %12.0f %6.2fx %7.3f/%-8.3f %7.3f/%-8.3f %6.2fx" % (
                t, p, c_rps, r_rps, c_rps / r_rps if r_rps else 0, c50, c99, r50, r99, c99 / r99 if r99 else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
