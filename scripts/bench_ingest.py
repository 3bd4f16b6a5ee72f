"""Ingest benchmark, side by side with the llama-index starter pipeline (starter_pipeline.py:
SimpleDirectoryReader -> SentenceSplitter(512) -> HuggingFaceEmbedding with our model -> Chroma)
on the same generated Norwegian corpus (make_corpus.py), in the same run: cold ingest, an
unchanged re-ingest, a one-file edit, and a fresh process's first answer. Every run is a fresh
process; wall time (start-up included) and the child's peak RSS are reported as a Markdown table
with the issue's targets.

    python scripts/bench_ingest.py --pages 100
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import benchlib
from make_corpus import write_corpus

SUMMARY = re.compile(
    r"Ingested (?P<documents>\d+) documents, (?P<sections>\d+) sections, (?P<chunks>\d+) chunks, "
    r".*? in (?P<seconds>[\d.]+) s \(.*?(?:index unchanged|embedded (?P<embedded>\d+) new)"
)
QUESTION = "Hvem hadde ansvaret for biblioteket?"
EDITED_FILE_INDEX = 0.5  # edit the file in the middle of the corpus


@dataclass(frozen=True)
class Measurement:
    wall: float
    inside: float  # the ingest's own reported seconds (without interpreter start and imports)
    chunks: int
    embedded: int
    peak_rss_mb: float
    load: str


def ingest_once(corpus: Path, index: Path, what: str, env: dict[str, str]) -> Measurement:
    command = ["-m", "ingest", "--corpus", str(corpus), "--index", str(index), "--quiet"]
    run = benchlib.check(benchlib.run_measured(command, env), what)
    match = SUMMARY.search(run.stdout)
    if match is None:
        sys.exit(f"{what}: unexpected output from python -m ingest:\n{run.stdout}")
    return Measurement(
        wall=run.seconds,
        inside=float(match["seconds"]),
        chunks=int(match["chunks"]),
        embedded=int(match["embedded"] or 0),
        peak_rss_mb=run.peak_rss_mb,
        load=benchlib.load(),
    )


def starter_once(args: list[str], what: str, env: dict[str, str]) -> benchlib.Run:
    return benchlib.check(benchlib.run_measured(["scripts/starter_pipeline.py", *args], env), what)


def ask_once(index: Path, env: dict[str, str]) -> benchlib.Run:
    return benchlib.check(benchlib.run_measured(["-m", "assistant", "ask", "--index", str(index), "--json", QUESTION], env),
                          "first answer")


def edit_one_file(corpus: Path, round_: int) -> Path:
    """Append one new sentence to a paragraph of one file: a typical small correction."""
    files = sorted(corpus.glob("*.md"))
    path = files[int(len(files) * EDITED_FILE_INDEX)]
    text = path.read_text(encoding="utf-8")
    marker = "\n\n## "
    cut = text.index(marker) if marker in text else len(text)
    sentence = f" Tillegg nr. {round_}: rapporten ble rettet etter innspill fra styringsgruppa."
    path.write_text(text[:cut] + sentence + text[cut:], encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000, help="pages in the generated corpus (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the cheap cases, median reported (default 3)")
    parser.add_argument("--seed", type=int, default=2023, help="corpus seed (default 2023)")
    parser.add_argument("--output", type=Path, default=benchlib.BENCHMARKS_DIR / "ingest.md",
                        help="Markdown file to append the results to (default benchmarks/ingest.md); '-' for none")
    parser.add_argument("--threads", type=int, help="torch/OpenMP threads of the ingest process "
                        "(OMP_NUM_THREADS); default: unset, as a user runs it")
    parser.add_argument("--no-starter", action="store_true", help="skip the llama-index starter (its runs double the time)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus and index folders")
    args = parser.parse_args(argv)

    env = benchlib.offline_env(**benchlib.thread_env(args.threads))
    started_at = time.strftime("%Y-%m-%d %H:%M")
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        corpus, index = workdir / "corpus", workdir / "index"
        stats = write_corpus(corpus, args.pages, seed=args.seed)
        load_before = benchlib.load()
        print(f"Corpus: {stats.files} files, {stats.pages} pages, {stats.chars:,} characters. Load: {load_before}", file=sys.stderr)

        starter_cold = None
        if not args.no_starter:
            starter_cold = starter_once(["ingest", str(corpus), str(workdir / "starter")], "starter ingest", env)
            print(f"starter cold: {starter_cold.seconds:.1f} s", file=sys.stderr)
        cold = ingest_once(corpus, index, "cold ingest", env)
        print(f"cold: {cold.wall:.1f} s", file=sys.stderr)
        unchanged = [ingest_once(corpus, index, "unchanged ingest", env) for _ in range(args.repeats)]
        edited = []
        for i in range(args.repeats):
            edit_one_file(corpus, i + 1)
            edited.append(ingest_once(corpus, index, "incremental ingest", env))
        print(f"unchanged: {[round(r.wall, 1) for r in unchanged]}, one file edited: {[round(r.wall, 1) for r in edited]}", file=sys.stderr)
        first = [ask_once(index, env) for _ in range(args.repeats)]
        starter_first = [] if args.no_starter else [
            starter_once(["ask", str(workdir / "starter"), QUESTION], "starter ask", env) for _ in range(args.repeats)
        ]
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    med = benchlib.median
    ours_first = med([r.seconds for r in first])
    edit_s = med([r.wall for r in edited])
    if starter_cold is not None:
        starter_cold_s, starters_first = starter_cold.seconds, med([r.seconds for r in starter_first])
        starter = [f"{starter_cold_s:.1f} (passages only)", f"{starter_cold.peak_rss_mb:,.0f}", f"{starters_first:.1f}",
                   f"{max(r.peak_rss_mb for r in starter_first):,.0f}"]
        ratios = [f"{cold.wall / starter_cold_s:.2f}", f"{edit_s / starter_cold_s:.2f} of starter cold", f"{ours_first / starters_first:.2f}"]
    else:
        starter, ratios = ["not run"] * 4, ["—"] * 3
    header = ["", "this project", "llama-index starter", "ratio", "target"]
    rows = [
        ["cold ingest (wall s)", f"{cold.wall:.1f} ({cold.chunks:,} passages + sentence vectors)", starter[0], ratios[0], "≤ 0.8; 1,000 pages ≤ 240 s"],
        [f"unchanged re-ingest (median of {len(unchanged)})", f"{med([r.wall for r in unchanged]):.1f}", "—", "", ""],
        [f"one file edited (median of {len(edited)})", f"{edit_s:.1f}", "—", ratios[1], "≤ 0.1"],
        ["peak RSS, cold ingest (MB)", f"{cold.peak_rss_mb:,.0f}", starter[1], "", "≤ 1,000 (100 pages), ≤ 1,100 (1,000 pages)"],
        ["peak RSS, one file edited (MB)", f"{max(r.peak_rss_mb for r in edited):,.0f}", "—", "", ""],
        [f"fresh process → first answer (median of {len(first)}, s)", f"{ours_first:.1f}", starter[2], ratios[2], "≤ 0.5"],
        ["peak RSS, first answer (MB)", f"{max(r.peak_rss_mb for r in first):,.0f}", starter[3], "", ""],
    ]
    report = "\n".join([
        f"### Ingest: {stats.pages:,} generated pages ({stats.files} Markdown files, {stats.chars:,} characters)",
        "",
        f"Started {started_at} · {benchlib.machine()} · load average at start {load_before} (1/5/15 min), at end {benchlib.load()}",
        "",
        benchlib.table(header, rows),
        "",
        "Every run is a fresh process (`python -m ingest --quiet`, `python -m assistant ask --json`, "
        "`scripts/starter_pipeline.py`); wall time includes interpreter start, imports and model load. "
        f"Our cold ingest's own reported time: {cold.inside:.1f} s; passages embedded on the edits: "
        f"{', '.join(str(r.embedded) for r in edited)}. Peak RSS is the child's maximum resident set (os.wait4). "
        f"The first answer is to «{QUESTION}».",
        f"Threads: {args.threads or 'default (one per core)'}. "
        f"Command: `{' '.join(['python', 'scripts/bench_ingest.py', *(argv if argv is not None else sys.argv[1:])])}`",
        "",
    ])
    print(report)
    if str(args.output) != "-":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        with open(args.output, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
