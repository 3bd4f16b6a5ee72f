"""Cold start of an app server with an empty data folder over a Chroma server, against an
embedded-mode cold start over the same generated corpus (issue 11's target: ≤ 1.5×).

    python scripts/bench_replica_start.py --pages 1000 --work /tmp/bench-replica

Builds (or reuses, in ``--work``) a generated corpus and its embedded index, publishes that
index to a `chroma run` server on loopback with `python -m ingest` (its vectors are reused,
nothing is embedded again), then times fresh processes from start to first answer:
`python -m assistant ask --json` over the embedded index, and the same with
ASSISTANT_CHROMA_HOST set and a nonexistent index folder. Also times the index load alone
(embedded: files; server: fetch + BM25 rebuilt in memory). Appends a table to
benchmarks/replicas.md.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

QUESTION = "Hvem ledet arbeidet med tjenestedesign?"
NAME = "bench"
LOAD_ONLY = """
import json, sys, time
from ingest.settings import Settings
settings = Settings()
started = time.perf_counter()
if settings.chroma_host:
    from ingest import remote
    manifest, generation = remote.load_current(settings)
else:
    from ingest.index import load_current
    manifest, generation = load_current(settings.index_dir)
print(json.dumps({"seconds": time.perf_counter() - started, "chunks": len(generation.chunks),
                  "sentences": len(generation.sentence_chunk)}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000, help="pages in the generated corpus (default 1000)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-replica"),
                        help="folder for the corpus, the indexes and Chroma's data; reused between runs")
    parser.add_argument("--repeats", type=int, default=3, help="cold starts per mode, median reported (default 3)")
    parser.add_argument("--output", type=Path, default=benchlib.BENCHMARKS_DIR / "replicas.md",
                        help="Markdown file to append the results to; '-' for none")
    args = parser.parse_args(argv)
    work, started_at = args.work, time.strftime("%Y-%m-%d %H:%M")
    env = benchlib.offline_env(**benchlib.thread_env(1))
    corpus, embedded = work / "corpus", work / "embedded"
    if not corpus.is_dir():
        benchlib.check(benchlib.run_measured(["scripts/make_corpus.py", str(corpus), "--pages", str(args.pages)], env), "corpus")
    if not (embedded / "manifest.json").is_file():
        print("embedded cold ingest (long) …", file=sys.stderr)
        benchlib.check(benchlib.run_measured(["-m", "ingest", "--quiet", "--corpus", str(corpus), "--index", str(embedded)], env), "ingest")

    port = _free_port()
    chroma = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(work / "chroma"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        _wait(f"http://127.0.0.1:{port}/api/v2/heartbeat")
        server = dict(env, ASSISTANT_CHROMA_HOST="127.0.0.1", ASSISTANT_CHROMA_PORT=str(port), ASSISTANT_INDEX_NAME=NAME)
        cache = work / "ingest-cache"
        if not cache.is_dir():
            shutil.copytree(embedded, cache)  # the ingest job's cache: its vectors are reused
        publish = benchlib.check(benchlib.run_measured(
            ["-m", "ingest", "--quiet", "--corpus", str(corpus), "--index", str(cache)], server), "publish")
        print(f"publish: {publish.seconds:.1f} s {publish.stdout.strip()}", file=sys.stderr)
        load = benchlib.load()
        runs: dict[str, list[benchlib.Run]] = {"embedded": [], "server": []}
        loads: dict[str, list[dict]] = {"embedded": [], "server": []}
        for i in range(args.repeats):  # alternate, so changes in the machine's load hit both
            empty = work / f"empty-{i}"
            shutil.rmtree(empty, ignore_errors=True)
            for mode, child_env in (("embedded", dict(env, ASSISTANT_INDEX_DIR=str(embedded))),
                                    ("server", dict(server, ASSISTANT_INDEX_DIR=str(empty)))):
                run = benchlib.check(benchlib.run_measured(["-m", "assistant", "ask", "--json", QUESTION], child_env), mode)
                runs[mode].append(run)
                loads[mode].append(json.loads(benchlib.check(benchlib.run_measured(["-c", LOAD_ONLY], child_env), mode).stdout))
                print(f"{mode}: first answer {run.seconds:.1f} s, load {loads[mode][-1]['seconds']:.2f} s", file=sys.stderr)
            assert not empty.exists(), "the server-mode app server wrote to its index folder"
        same = {json.dumps({k: v for k, v in json.loads(r.stdout).items() if k != "timings_ms"}, sort_keys=True)
                for r in runs["embedded"] + runs["server"]}
    finally:
        chroma.terminate()
        chroma.wait(timeout=30)

    med = benchlib.median
    first = {m: med([r.seconds for r in rs]) for m, rs in runs.items()}
    loaded = {m: med([x["seconds"] for x in xs]) for m, xs in loads.items()}
    sizes = loads["server"][0]
    rows = [
        [f"fresh process → first answer (median of {args.repeats}, s)", f"{first['embedded']:.1f}", f"{first['server']:.1f}",
         f"{first['server'] / first['embedded']:.2f}", "≤ 1.5"],
        ["index load alone (median, s)", f"{loaded['embedded']:.2f}", f"{loaded['server']:.2f}",
         f"{loaded['server'] / loaded['embedded']:.1f}", ""],
        ["peak RSS, first answer (MB)", f"{max(r.peak_rss_mb for r in runs['embedded']):,.0f}",
         f"{max(r.peak_rss_mb for r in runs['server']):,.0f}", "", ""],
    ]
    report = "\n".join([
        f"### Replica cold start: {args.pages:,} generated pages ({sizes['chunks']:,} passages, {sizes['sentences']:,} sentences)",
        "",
        f"Started {started_at} · {benchlib.machine()} · load average before the cold starts {load} (1/5/15 min), at end {benchlib.load()}",
        "",
        benchlib.table(["", "embedded", "Chroma server, empty data folder", "ratio", "target"], rows),
        "",
        "Each cold start is a fresh `python -m assistant ask --json` process (interpreter, imports, model, index, "
        f"one answer to «{QUESTION}»), one torch thread. *Index load alone*: embedded reads the generation's files; "
        "server mode fetches passages and sentence vectors from `chroma run` on loopback (pages of 1,000 rows, "
        f"4 in parallel) and rebuilds the BM25 index in memory. Same answer in every run: {len(same) == 1}. "
        f"Publishing the embedded index to the server with `python -m ingest` (vectors reused): {publish.seconds:.1f} s.",
        f"Command: `{' '.join(['python', 'scripts/bench_replica_start.py', *(argv if argv is not None else sys.argv[1:])])}`",
        "",
    ])
    print(report)
    if str(args.output) != "-":
        with open(args.output, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, seconds: float = 60) -> None:
    import urllib.request

    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if time.time() > deadline:
                sys.exit(f"{url} did not answer within {seconds} s")
            time.sleep(0.3)


if __name__ == "__main__":
    sys.exit(main())
