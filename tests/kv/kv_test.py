#!/usr/bin/env python3
"""courier-kv driven by Debian's redis-cli and by raw sockets: every command,
pipelined batches, 200 concurrent connections, a client that never reads,
malformed input, and SIGTERM with requests in flight.

usage: kv_test.py COURIER_KV REDIS_CLI
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

KV, CLI = sys.argv[1], sys.argv[2]
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(*extra):
    port = free_port()
    proc = subprocess.Popen([KV, "--port", str(port), *extra], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("courier-kv exited at start: " + proc.stderr.read())
            time.sleep(0.02)  # polling the listener, not synchronisation: the connect decides
    raise SystemExit("courier-kv did not start listening")


def cli(port, *args):
    out = subprocess.run([CLI, "-p", str(port), *args], capture_output=True, text=True, timeout=30)
    return out.stdout.rstrip("\n")


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class reader:
    """Reads whole RESP replies from a socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return line.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise ValueError("bad reply line %r" % line)


def test_commands(port):
    c = lambda *a: cli(port, *a)
    check(c("PING") == "PONG", "PING")
    check(c("PING", "hi") == "hi", "PING message")
    check(c("ECHO", "hello world") == "hello world", "ECHO")
    check(c("FLUSHALL") == "OK", "FLUSHALL")
    check(c("SET", "k", "v") == "OK", "SET")
    check(c("GET", "k") == "v", "GET")
    check(c("GET", "missing") == "", "GET of a missing key is nil")
    check(c("SET", "k", "w", "NX") == "", "SET NX on an existing key")
    check(c("SET", "n", "1", "NX") == "OK", "SET NX on a new key")
    check(c("SET", "absent", "1", "XX") == "", "SET XX on a missing key")
    check(c("SET", "k", "x", "XX") == "OK", "SET XX on an existing key")
    check(c("GET", "k") == "x", "SET XX wrote")
    check(c("SET", "e", "v", "EX", "100") == "OK", "SET EX")
    ttl = int(c("TTL", "e"))
    check(99 <= ttl <= 100, "TTL after SET EX 100: %d" % ttl)
    check(c("SET", "p", "v", "PX", "100000") == "OK", "SET PX")
    pttl = int(c("PTTL", "p"))
    check(90000 < pttl <= 100000, "PTTL after SET PX 100000: %d" % pttl)
    check(c("TTL", "k") == "-1", "TTL of a key without expiry")
    check(c("TTL", "missing") == "-2", "TTL of a missing key")
    check(c("PTTL", "missing") == "-2", "PTTL of a missing key")
    check(c("EXPIRE", "k", "100") == "1", "EXPIRE")
    check(c("EXPIRE", "missing", "100") == "0", "EXPIRE a missing key")
    check(c("PEXPIRE", "n", "150") == "1", "PEXPIRE")
    check(c("SET", "gone", "v", "PX", "50") == "OK", "SET PX 50")
    deadline = time.time() + 30
    while c("EXISTS", "gone", "n") != "0" and time.time() < deadline:
        time.sleep(0.05)  # polling the expiry itself: the EXISTS reply decides
    check(c("EXISTS", "gone", "n") == "0", "keys expire on courier's timers")
    check(c("SET", "c", "10") == "OK", "SET a counter")
    check(c("INCR", "c") == "11", "INCR")
    check(c("DECR", "c") == "10", "DECR")
    check(c("INCRBY", "c", "-15") == "-5", "INCRBY")
    check(c("INCR", "fresh") == "1", "INCR of a missing key")
    check(c("MSET", "a", "1", "b", "2", "c2", "3") == "OK", "MSET")
    check(c("MGET", "a", "missing", "b", "c2") == "1\n\n2\n3", "MGET")
    check(c("EXISTS", "a", "b", "missing", "a") == "3", "EXISTS counts each key")
    check(c("DEL", "a", "b", "missing") == "2", "DEL")
    check(c("EXISTS", "a", "b") == "0", "DEL deleted")
    size = int(c("DBSIZE"))
    check(size >= 5, "DBSIZE: %d" % size)
    info = c("INFO")
    check("# Metrics" in info and "live_actors:" in info and "db0:keys=" in info, "INFO with runtime metrics")
    check(c("COMMAND", "COUNT").isdigit(), "COMMAND COUNT")
    # Errors, in Redis's words; the connection and the server go on.
    check(c("INCR", "k").startswith("ERR value is not an integer or out of range"), "INCR of a non-integer")
    check(c("INCRBY", "c", "x").startswith("ERR value is not an integer or out of range"), "INCRBY non-integer")
    check(c("SET", "big", "9223372036854775807") == "OK", "SET the largest integer")
    check(c("INCR", "big").startswith("ERR increment or decrement would overflow"), "INCR overflow")
    check(c("GET").startswith("ERR wrong number of arguments for 'get' command"), "GET arity")
    check(c("SET", "k").startswith("ERR wrong number of arguments for 'set' command"), "SET arity")
    check(c("MSET", "a").startswith("ERR wrong number of arguments"), "MSET arity")
    check(c("SET", "k", "v", "EX", "0").startswith("ERR invalid expire time"), "SET EX 0")
    check(c("SET", "k", "v", "BOGUS").startswith("ERR syntax error"), "SET syntax")
    check(c("NOSUCH", "x").startswith("ERR unknown command 'NOSUCH'"), "unknown command")
    s = connect(port)
    s.sendall(resp("QUIT"))
    r = reader(s)
    check(r.reply() == "+OK", "QUIT answers OK")
    try:
        r.fill()
        check(False, "QUIT closes the connection")
    except (EOFError, ConnectionResetError):
        pass
    s.close()
    check(c("FLUSHALL") == "OK" and c("DBSIZE") == "0", "FLUSHALL empties every shard")


def test_pipelining(port):
    s = connect(port)
    n = 5000
    batch = b"".join(resp("SET", "pk%d" % i, "v%d" % i) for i in range(n))
    batch += b"".join(resp("GET", "pk%d" % i) for i in range(n))
    batch += b"".join(resp("INCR", "pipe-counter") for _ in range(n))
    s.sendall(batch)
    r = reader(s)
    sets = [r.reply() for _ in range(n)]
    gets = [r.reply() for _ in range(n)]
    incrs = [r.reply() for _ in range(n)]
    check(all(x == "+OK" for x in sets), "pipelined SETs")
    check(gets == ["v%d" % i for i in range(n)], "pipelined GETs in request order")
    check(incrs == list(range(1, n + 1)), "pipelined INCRs in order")
    s.close()
    # redis-cli --pipe: raw protocol from stdin, a summary at the end.
    data = b"".join(resp("SET", "cli%d" % i, i) for i in range(10000))
    out = subprocess.run([CLI, "-p", str(port), "--pipe"], input=data, capture_output=True, timeout=60)
    check(b"errors: 0, replies: 10000" in out.stdout, "redis-cli --pipe: %r" % out.stdout[-80:])
    check(cli(port, "GET", "cli9999") == "9999", "the last piped SET")


def test_concurrency(port):
    clients, rounds = 200, 50
    errors = []

    def one(k):
        try:
            s = connect(port)
            r = reader(s)
            for i in range(rounds):
                s.sendall(resp("INCR", "shared") + resp("SET", "own%d" % k, i) + resp("GET", "own%d" % k))
                r.reply()
                if r.reply() != "+OK" or r.reply() != str(i):
                    errors.append(k)
            s.close()
        except Exception as e:  # noqa: BLE001 - any failure of a client is a test failure
            errors.append(repr(e))

    threads = [threading.Thread(target=one, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(not errors, "200 concurrent connections: %s" % errors[:3])
    check(cli(port, "GET", "shared") == str(clients * rounds), "200 x 50 INCRs exact")


def test_bad_input(port):
    def exchange(payload):
        s = connect(port)
        s.sendall(payload)
        r = reader(s)
        first = r.reply()
        closed = False
        try:
            r.fill()
        except (EOFError, ConnectionResetError):
            closed = True
        s.close()
        return first, closed

    first, closed = exchange(b"*abc\r\n")
    check(first.startswith("-ERR Protocol error: invalid multibulk length") and closed, "bad multibulk: %s" % first)
    first, closed = exchange(b"*1\r\n$-5\r\n")
    check(first.startswith("-ERR Protocol error: invalid bulk length") and closed, "negative bulk: %s" % first)
    first, closed = exchange(b"*1\r\n$300000\r\n")  # over this server's --max-bulk 200000
    check(first.startswith("-ERR Protocol error: invalid bulk length") and closed, "bulk over the limit: %s" % first)
    first, closed = exchange(b"*1\r\n:5\r\n")
    check(first.startswith("-ERR Protocol error: expected '$'") and closed, "not a bulk: %s" % first)
    first, closed = exchange(b"*1\r\n$3\r\nGETxx")
    check(first.startswith("-ERR Protocol error") and closed, "bulk without CRLF: %s" % first)
    # Recoverable errors keep the connection.
    s = connect(port)
    r = reader(s)
    s.sendall(resp("NOSUCH") + resp("GET") + resp("SET", "t", "x") + resp("INCR", "t") + b"PING\r\n")
    replies = [r.reply() for _ in range(5)]
    check(replies[0].startswith("-ERR unknown command") and replies[1].startswith("-ERR wrong number")
          and replies[2] == "+OK" and replies[3].startswith("-ERR value is not an integer")
          and replies[4] == "+PONG", "recoverable errors, then an inline PING: %s" % replies)
    s.close()
    # Random garbage on a few connections: the server answers or closes them, and goes on.
    for seed in range(20):
        s = connect(port)
        s.sendall(bytes((seed * 7919 + i * 104729) % 256 for i in range(512)))
        s.settimeout(2)
        try:
            while s.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
    check(cli(port, "PING") == "PONG", "the server goes on after malformed input")


def test_slow_reader(port):
    big = "x" * 100000
    check(cli(port, "SET", "big", big) == "OK", "SET a 100 KB value")
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = resp("GET", "big") * 50
    closed = False
    deadline = time.time() + 60
    try:
        while time.time() < deadline:  # never reads: 5 MB of replies per round pile up
            s.sendall(request)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    s.close()
    check(closed, "a client that never reads is closed once its pending output passes the limit")
    check(cli(port, "PING") == "PONG", "the server goes on after closing a slow reader")


def test_sigterm():
    proc, port = start("--workers", "2")
    s = connect(port)
    n = 20000
    s.sendall(b"".join(resp("SET", "t%d" % i, i) for i in range(n)))
    proc.send_signal(signal.SIGTERM)
    r = reader(s)
    got = 0
    bad = 0
    try:
        while True:
            reply = r.reply()
            if reply != "+OK":
                bad += 1
            got += 1
    except (EOFError, ConnectionResetError):
        pass
    s.close()
    code = proc.wait(timeout=60)
    check(code == 0, "SIGTERM: exit code %d" % code)
    check(bad == 0 and got >= 1 and r.buf == b"", "SIGTERM: %d whole replies, %d bad, %d stray bytes" % (got, bad, len(r.buf)))
    print("sigterm: %d of %d pipelined requests answered before the close" % (got, n), flush=True)


def main():
    proc, port = start("--workers", "2", "--io-threads", "2", "--max-bulk", "200000", "--output-limit", "2000000")
    try:
        for t in (test_commands, test_pipelining, test_concurrency, test_bad_input, test_slow_reader):
            print("==", t.__name__, flush=True)
            t(port)
        proc.send_signal(signal.SIGINT)
        check(proc.wait(timeout=60) == 0, "SIGINT: exit code 0")
    finally:
        if proc.poll() is None:
            proc.kill()
    print("== test_sigterm", flush=True)
    test_sigterm()
    print("%d checks, %d failed" % (checks, len(failures)), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
