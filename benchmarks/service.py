#!/usr/bin/env python
"""Speed of the HTTP service (`quotestance serve`) against the in-process batch path, on generated quotes.

Starts the real server (uvicorn, in a subprocess, on a free loopback port, ``--backend`` passed through),
warms it up, then prints one table:

(a) service throughput: quotes/s when ``--clients`` concurrent clients (threads, one keep-alive httpx
    connection each) send ``POST /v1/predict`` requests of 1 quote, and then of 8 quotes, until all
    ``--quotes`` quotes are scored; with each row's per-request latency (p50, p99) and its ratio to (b);
(b) the batch path on the same quotes in this process, server stopped: ``StancePredictor.load(model,
    backend=...)`` then ``predictor.predict(texts, targets)`` in one call (model load not timed; one
    warm-up call on other quotes first); the ratio is to this, timed in the main thread. The same call
    is then timed again in a worker thread, where the server runs its batches: on a CPU shared with other
    busy processes, torch's intra-op threads can be much slower from the main thread than from another;
(c) p50 and p99 latency (ms) of single-quote requests sent one at a time by one client (``--singles``).

Quotes come from benchmarks/quote_generator.py (deterministic from ``--seed``). The clients run in this
process, on the same CPUs as the server, as they would on a one-machine deployment. Figures only, no
asserts; a request that fails is counted and reported.

Usage: python benchmarks/service.py [--model models/default] [--quotes 2000] [--clients 16] [--singles 300]
                                    [--backend auto] [--seed 0]
Needs the `serve` and `test` extras (fastapi, uvicorn, httpx).
"""
from __future__ import annotations

import argparse
import itertools
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from quote_generator import generate_quotes  # noqa: E402

BACKENDS = ("auto", "torch", "torch-fp32", "torch-bf16", "onnx", "onnx-int8")
REQUEST_SIZES = (1, 8)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


class Server:
    """``python -m quotestance.cli serve`` in a subprocess; its output goes to a log file."""

    def __init__(self, model: Path, backend: str, startup_timeout: float):
        self.model, self.backend, self.startup_timeout = model, backend, startup_timeout
        self.process: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="quotestance-serve-", suffix=".log")[1])
        self.base_url = ""

    def __enter__(self) -> "Server":
        env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p)
        for _attempt in range(3):  # the free port may be taken before the server binds it
            port = _free_port()
            self.base_url = f"http://127.0.0.1:{port}"
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "quotestance.cli", "serve", "--model", str(self.model),
                     "--host", "127.0.0.1", "--port", str(port), "--backend", self.backend, "--log-level", "warning"],
                    cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if httpx.get(f"{self.base_url}/healthz", timeout=2.0).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
            self.stop()
            if "address already in use" not in self.log_tail().lower():
                break
        raise RuntimeError(f"the server did not answer /healthz within {self.startup_timeout:.0f} s; "
                           f"its log ends:\n{self.log_tail()}")

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


def _payload(quotes: list[dict]) -> dict:
    return {"quotes": [{"id": q["id"], "text": q["text"], "target": q["target"]} for q in quotes]}


def _check(response: httpx.Response, quotes: list[dict]) -> str | None:
    """None if the answer is 200 with one scored result per quote, ids in order; else what was wrong."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    results = response.json().get("results", [])
    if [r.get("id") for r in results] != [q["id"] for q in quotes]:
        return "ids missing or out of order"
    errors = [r["error"] for r in results if r.get("error")]
    return f"item error: {errors[0]}" if errors else None


def run_load(base_url: str, quotes: list[dict], per_request: int, clients: int) -> dict:
    """``clients`` threads, each with its own connection, send the requests until none is left."""
    requests = [quotes[i:i + per_request] for i in range(0, len(quotes), per_request)]
    counter = itertools.count()  # next() on it is atomic under the GIL
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def client() -> None:
        own_latencies, own_failures = [], []
        with httpx.Client(base_url=base_url, timeout=120.0) as http:
            http.get("/healthz")  # open the connection before the clock starts
            start_gate.wait()
            while (index := next(counter)) < len(requests):
                batch = requests[index]
                began = time.perf_counter()
                try:
                    problem = _check(http.post("/v1/predict", json=_payload(batch)), batch)
                except httpx.HTTPError as err:
                    problem = f"{type(err).__name__}: {err}"
                own_latencies.append(time.perf_counter() - began)
                if problem:
                    own_failures.append(problem)
        with lock:
            latencies.extend(own_latencies)
            failures.extend(own_failures)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    return {"requests": len(requests), "quotes": len(quotes), "seconds": seconds, "qps": len(quotes) / seconds,
            "latencies": latencies, "failures": failures}


def run_singles(base_url: str, quotes: list[dict]) -> dict:
    """One client, one single-quote request at a time."""
    latencies, failures = [], []
    with httpx.Client(base_url=base_url, timeout=120.0) as http:
        http.get("/healthz")
        for quote in quotes:
            began = time.perf_counter()
            try:
                problem = _check(http.post("/v1/predict", json=_payload([quote])), [quote])
            except httpx.HTTPError as err:
                problem = f"{type(err).__name__}: {err}"
            latencies.append(time.perf_counter() - began)
            if problem:
                failures.append(problem)
    return {"latencies": latencies, "failures": failures}


def run_batch(model: Path, backend: str, quotes: list[dict], warmup: list[dict]) -> dict:
    """The batch path, timed in the main thread and then, the same call, in a worker thread (as the server runs it)."""
    from quotestance import StancePredictor

    predictor = StancePredictor.load(model, backend=backend)
    predictor.predict([q["text"] for q in warmup], [q["target"] for q in warmup])
    texts, targets = [q["text"] for q in quotes], [q["target"] for q in quotes]
    timings = {}

    def timed(where: str) -> None:
        began = time.perf_counter()
        results = predictor.predict(texts, targets)
        seconds = time.perf_counter() - began
        timings[where] = {"requests": 1, "quotes": len(results), "seconds": seconds, "qps": len(results) / seconds}

    timed("main")
    worker = threading.Thread(target=timed, args=("thread",))
    worker.start()
    worker.join()
    return {**timings["main"], "thread": timings["thread"], "backend": predictor.backend_name}


def _ms(latencies: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(latencies) * 1000.0, q)) if latencies else float("nan")


def main() -> int:
    from quotestance.cli import _quiet_libraries

    _quiet_libraries()
    for name in ("httpx", "httpcore"):  # one line per request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "models" / "default"), help="trained model folder")
    parser.add_argument("--quotes", type=int, default=2000, help="quotes scored per throughput row (default 2000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients for throughput (default 16)")
    parser.add_argument("--singles", type=int, default=300, help="single-quote requests for latency (default 300)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS, help="inference backend (default auto)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated quotes (default 0)")
    parser.add_argument("--startup-timeout", type=float, default=180.0, help="seconds to wait for /healthz")
    args = parser.parse_args()
    if args.quotes < 1 or args.clients < 1 or args.singles < 1:
        parser.error("--quotes, --clients and --singles must be at least 1")
    model = Path(args.model).resolve()
    if not (model / "config.json").is_file():
        print(f"error: no trained model in {model}", file=sys.stderr)
        return 2

    quotes = generate_quotes(args.quotes, seed=args.seed)
    singles = generate_quotes(args.singles, seed=args.seed + 1)
    warmup = generate_quotes(max(64, 4 * args.clients), seed=args.seed + 2)
    load_before = _load()

    _log(f"starting the server on {model.name} (backend {args.backend}) ...")
    with Server(model, args.backend, args.startup_timeout) as server:
        info = httpx.get(f"{server.base_url}/v1/model", timeout=30.0).json()
        _log(f"serving at {server.base_url} with backend {info['backend']}; warming up ...")
        run_load(server.base_url, warmup, 1, min(args.clients, len(warmup)))
        run_load(server.base_url, warmup, 8, min(args.clients, len(warmup)))
        service = {}
        for size in REQUEST_SIZES:
            _log(f"service: {args.quotes} quotes, {size} per request, {args.clients} clients ...")
            service[size] = run_load(server.base_url, quotes, size, args.clients)
        _log(f"latency: {args.singles} single-quote requests, one client ...")
        latency = run_singles(server.base_url, singles)
        server_alive = server.process.poll() is None
    _log("batch: in-process predict() ...")
    batch = run_batch(model, args.backend, quotes, warmup)
    load_after = _load()

    import torch

    print(f"\nservice vs batch on {args.quotes:,} generated quotes (seed {args.seed}); model {model.name}, "
          f"server backend {info['backend']}, batch backend {batch['backend']}")
    print(f"{os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads); clients in the "
          f"benchmark process; load average before {load_before}, after {load_after}")
    header = (f"{'route':<36}{'clients':>8}{'requests':>10}{'quotes':>8}{'seconds':>9}{'quotes/s':>10}"
              f"{'svc/batch':>10}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}")
    print(header)
    print("-" * len(header))
    for size, run in service.items():
        name = f"service, {size} quote{'s' if size > 1 else ''} per request"
        print(f"{name:<36}{args.clients:>8}{run['requests']:>10}{run['quotes']:>8}{run['seconds']:>9.2f}"
              f"{run['qps']:>10.1f}{run['qps'] / batch['qps']:>10.2f}{_ms(run['latencies'], 50):>9.1f}"
              f"{_ms(run['latencies'], 99):>9.1f}{len(run['failures']):>8}")
    print(f"{'batch, in-process predict() (1 call)':<36}{'-':>8}{batch['requests']:>10}{batch['quotes']:>8}"
          f"{batch['seconds']:>9.2f}{batch['qps']:>10.1f}{1.0:>10.2f}{'-':>9}{'-':>9}{0:>8}")
    thread = batch["thread"]
    print(f"{'  same call, in a worker thread':<36}{'-':>8}{thread['requests']:>10}{thread['quotes']:>8}"
          f"{thread['seconds']:>9.2f}{thread['qps']:>10.1f}{thread['qps'] / batch['qps']:>10.2f}{'-':>9}{'-':>9}{0:>8}")
    lat = latency["latencies"]
    print(f"\nsingle-quote requests one at a time, one client, {len(lat)} requests: "
          f"p50 {_ms(lat, 50):.1f} ms, p99 {_ms(lat, 99):.1f} ms (mean {np.mean(lat) * 1000:.1f}, "
          f"max {np.max(lat) * 1000:.1f}); failed {len(latency['failures'])}")
    print("p50/p99 ms in the table: per request under load (client-side, queueing included); svc/batch: "
          "quotes/s of the row over that of the batch path")
    failures = [f for run in service.values() for f in run["failures"]] + latency["failures"]
    if failures:
        print(f"{len(failures)} requests failed; first: {failures[0]}")
    if not server_alive:
        print(f"the server exited early; its log ends:\n{server.log_tail()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
