"""Many people asking at once: N clients (gradio_client, each in its own thread) send questions to
``/ask`` of a real ``python -m ui`` server on loopback, and the run reports errors, requests per
second and latency percentiles.

usage: python scripts/bench_concurrency.py [--clients 20] [--requests 10] [--output benchmarks/concurrency.md]

The server serves the bundled corpus' index (``make index``); the questions are the dev split's.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import benchlib  # noqa: E402


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 180.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"error: the server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("error: the server did not come up in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=10, help="questions per client")
    parser.add_argument("--output", type=Path, default=benchlib.BENCHMARKS_DIR / "concurrency.md")
    args = parser.parse_args()

    from gradio_client import Client

    from assistant.evaluation import load_sets
    from tests.ui_server import free_port

    questions = [q["question"] for q in load_sets(["dev"])[0].questions]
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = benchlib.offline_env(ASSISTANT_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    server = subprocess.Popen([sys.executable, "-m", "ui"], cwd=benchlib.PROJECT_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(url, server)
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        clients = [Client(url, verbose=False) for _ in range(args.clients)]
        for client in clients[:2]:  # warm-up
            client.predict(questions[0], api_name="/ask")
        barrier = threading.Barrier(args.clients)

        def work(k: int) -> None:
            barrier.wait()
            for i in range(args.requests):
                question = questions[(k * args.requests + i) % len(questions)]
                started = time.perf_counter()
                try:
                    result = clients[k].predict(question, api_name="/ask")
                    if not isinstance(result, dict) or "answer" not in result:
                        raise ValueError(f"unexpected result {str(result)[:80]}")
                except Exception as exc:  # every failure counts, whatever its type
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:160])
                    continue
                with lock:
                    latencies.append(time.perf_counter() - started)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    latencies.sort()
    total = args.clients * args.requests
    lines = [
        "# Concurrent clients through /ask",
        "",
        f"`python scripts/bench_concurrency.py --clients {args.clients} --requests {args.requests}` on "
        f"{benchlib.machine()}, load {benchlib.load()} "
        f"({time.strftime('%Y-%m-%d')}): one `python -m ui` server (the bundled corpus, the int8 encoder and "
        "reranker, no language model), each client a `gradio_client.Client` in its own thread, all starting together.",
        "",
        "| clients | requests | errors | requests/s | p50 | p95 | max |",
        "|---|---|---|---|---|---|---|",
        f"| {args.clients} | {total} | {len(errors)} | {len(latencies) / wall:.1f} | "
        f"{statistics.median(latencies) * 1000:.0f} ms | {benchlib.percentile(latencies, 95) * 1000:.0f} ms | {latencies[-1] * 1000:.0f} ms |"
        if latencies else f"| {args.clients} | {total} | {len(errors)} | 0 | – | – | – |",
    ]
    if errors:
        lines += ["", "Errors (first 5):", *[f"- {e}" for e in errors[:5]]]
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
