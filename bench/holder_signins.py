#!/usr/bin/env python3
"""Holder sign-in traffic at a fixed rate: POST /api/v1/holder/session {"cardNo","pin"} (bench/isolation's phase b).

Open loop: attempt i is due at start + i/rate whatever the answers, sent by a pool of workers with keep-alive
connections; attempts still unsent when the time is up are counted as not sent. The mix: 85% wrong PINs at the
--targets cards (they lock after five, and keep being tried), 10% unknown card numbers, 5% the right PIN of --holder.
Prints one JSON summary on stdout: attempts by status code and by kind, sign-in latency, attempts not sent.

  bench/holder_signins.py --port 8080 --targets LZ0000001,LZ0000002 --holder LZ0000006:258036 --rate 100 --duration 15
"""
import argparse
import http.client
import json
import queue
import random
import threading
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n")[-1])
    parser.add_argument("--port", type=int, required=True, help="server port on 127.0.0.1")
    parser.add_argument("--targets", required=True, help="comma-separated activated card numbers to try wrong PINs at")
    parser.add_argument("--holder", required=True, help="CARD_NO:PIN of an activated card signing in correctly")
    parser.add_argument("--rate", type=float, default=100, help="attempts per second (default 100)")
    parser.add_argument("--duration", type=float, default=15, help="seconds (default 15, at most 600)")
    parser.add_argument("--workers", type=int, default=64, help="concurrent connections (default 64)")
    args = parser.parse_args()
    if not 0 < args.duration <= 600 or not 0 < args.rate <= 1000:
        parser.error("--duration must be in (0, 600] and --rate in (0, 1000]")
    return args


def attempts(args, rng):
    """(kind, body) for each attempt, in order."""
    targets = args.targets.split(",")
    holder, pin = args.holder.split(":")
    for i in range(int(args.rate * args.duration)):
        roll = rng.random()
        if roll < 0.05:
            yield "right_pin", {"cardNo": holder, "pin": pin}
        elif roll < 0.15:
            yield "unknown_card", {"cardNo": f"LX{rng.randrange(10**7):07d}", "pin": f"{rng.randrange(10**6):06d}"}
        else:
            wrong = f"{rng.randrange(10**6):06d}"
            yield "wrong_pin", {"cardNo": targets[i % len(targets)], "pin": wrong if wrong != pin else "135792"}


def percentile(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))] * 1000, 1) if values else None


def main():
    args = parse_args()
    rng = random.Random(11643)
    jobs = queue.Queue()
    lock = threading.Lock()
    by_status, by_kind, latency = {}, {}, {}
    start = time.monotonic()
    stop_at = start + args.duration + 1  # one second's grace for the last attempts

    def worker():
        conn = None
        while True:
            job = jobs.get()
            if job is None or time.monotonic() > stop_at:
                break
            kind, body = job
            began = time.monotonic()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", args.port, timeout=10)
                conn.request("POST", "/api/v1/holder/session", json.dumps(body), {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                if conn:
                    conn.close()
                conn = None
            elapsed = time.monotonic() - began
            with lock:
                by_status[status] = by_status.get(status, 0) + 1
                by_kind.setdefault(kind, {}).setdefault(status, 0)
                by_kind[kind][status] += 1
                latency.setdefault(kind, []).append(elapsed)
        if conn:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    planned = 0
    for i, job in enumerate(attempts(args, rng)):
        delay = start + i / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        jobs.put(job)
        planned += 1
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join(timeout=max(0.1, stop_at + 11 - time.monotonic()))
    answered = sum(by_status.values())
    summary = {
        "planned": planned,
        "sent": answered,
        "not_sent": planned - answered,
        "seconds": round(time.monotonic() - start, 2),
        "by_status": dict(sorted(by_status.items())),
        "by_kind": by_kind,
        "latency_ms": {kind: {"p50": percentile(v, 0.50), "p99": percentile(v, 0.99)} for kind, v in sorted(latency.items())},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
