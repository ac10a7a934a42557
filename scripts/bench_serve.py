#!/usr/bin/env python3
"""Throughput and latency of `zkinfer serve` on one set-up model.

Starts the server on a free loopback port with a fresh job database, proves one warm-up job
(it loads the proving key), then measures two loads:

- saturated: JOBS jobs submitted at once by CLIENTS clients, each polling its own jobs;
  jobs per minute = JOBS / (first submission to last completion), latency = submission to
  the answer of a long-polling `GET /jobs/ID?wait=30` that saw it done (so it includes the
  wait in the queue);
- one client: SEQUENTIAL jobs one after another; latency of a lone job.

Usage (standard library only):
    cargo build --release
    python3 scripts/bench_serve.py target/release/zkinfer MODELS_DIR MODEL \
        [--workers 1 2] [--jobs 40] [--clients 8] [--sequential 20]

MODELS_DIR/MODEL must hold model.zkm, pk.bin, vk.bin and srs.bin (`zkinfer compile` then
`zkinfer setup`); MODELS_DIR/MODEL/input.json, or --input, is the sample every job proves.
Prints a Markdown table.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

WAIT_S = 30  # long polling: the server answers when the job ends


def request(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def submit(base, model, sample):
    while True:
        status, body = request(base, "POST", "/jobs", {"model": model, "input": sample})
        if status == 202:
            return body["id"]
        if status != 429:
            sys.exit(f"submit failed: {status} {body}")
        time.sleep(0.05)


def wait(base, job_id):
    while True:
        status, job = request(base, "GET", f"/jobs/{job_id}?wait={WAIT_S}")
        if status != 200:
            sys.exit(f"poll failed: {status} {job}")
        if job["status"] == "done":
            return
        if job["status"] == "failed":
            sys.exit(f"job {job_id} failed: {job['error']}")


def peak_rss_mib(pid):
    """The server's peak resident memory so far (Linux), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values, p):
    s = sorted(values)
    i = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[i]


def start_server(binary, models, workers, data):
    proc = subprocess.Popen(
        [binary, "serve", "--models", models, "--data", data, "--addr", "127.0.0.1:0",
         "--workers", str(workers), "--queue-limit", "10000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"server did not start: {line!r}")
    return proc, line.split()[2]  # http://127.0.0.1:PORT


def saturated(base, model, sample, jobs, clients):
    latencies = []
    lock = threading.Lock()
    per_client = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]

    def client(n):
        submitted = [(time.perf_counter(), submit(base, model, sample)) for _ in range(n)]
        for t0, job_id in submitted:
            wait(base, job_id)
            with lock:
                latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in per_client if n]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return jobs / (time.perf_counter() - start) * 60, latencies


def sequential(base, model, sample, n):
    latencies = []
    for _ in range(n):
        t0 = time.perf_counter()
        wait(base, submit(base, model, sample))
        latencies.append(time.perf_counter() - t0)
    return latencies


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("models")
    ap.add_argument("model")
    ap.add_argument("--input")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--jobs", type=int, default=40)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--sequential", type=int, default=20)
    a = ap.parse_args()
    input_path = a.input or os.path.join(a.models, a.model, "input.json")
    with open(input_path) as f:
        sample = json.load(f)

    print(f"`{' '.join(sys.argv)}`; {platform.node()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| workers | load | jobs | jobs/min | p50 latency | p99 latency | max | server peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for workers in a.workers:
        data = tempfile.mkdtemp(prefix="bench-serve-")
        proc, base = start_server(a.binary, a.models, workers, data)
        try:
            wait(base, submit(base, a.model, sample))  # loads the proving key
            rate, lat = saturated(base, a.model, sample, a.jobs, a.clients)
            rss = peak_rss_mib(proc.pid)
            rss_text = "n/a" if rss is None else f"{rss:.0f} MiB"
            print(f"| {workers} | {a.jobs} at once, {a.clients} clients | {a.jobs} | {rate:.0f} | "
                  f"{percentile(lat, 50):.2f} s | {percentile(lat, 99):.2f} s | {max(lat):.2f} s | "
                  f"{rss_text} |")
            lat = sequential(base, a.model, sample, a.sequential)
            rate = len(lat) / sum(lat) * 60
            print(f"| {workers} | one job at a time | {a.sequential} | {rate:.0f} | "
                  f"{percentile(lat, 50):.2f} s | {percentile(lat, 99):.2f} s | {max(lat):.2f} s | |")
            sys.stdout.flush()
        finally:
            proc.terminate()
            proc.wait(timeout=120)
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
