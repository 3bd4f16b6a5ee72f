"""Ingest benchmark: a generated Norwegian corpus (see make_corpus.py) ingested cold,
then again unchanged, then after a one-file edit, each run a fresh ``python -m ingest``
process. Reports wall time, chunks per second and peak RSS as a Markdown table.

    python scripts/bench_ingest.py --pages 1000
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
    r".*? in (?P<seconds>[\d.]+) s \((?:index unchanged|embedded (?P<embedded>\d+) new)"
)
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


def row(name: str, runs: list[Measurement], *, rate: bool = True) -> list[str]:
    wall = benchlib.median([r.wall for r in runs])
    chunks = runs[-1].chunks
    return [
        name + (f" (median of {len(runs)})" if len(runs) > 1 else ""),
        f"{wall:.1f}",
        f"{benchlib.median([r.inside for r in runs]):.1f}",
        f"{chunks:,}",
        f"{int(benchlib.median([r.embedded for r in runs])):,}",
        f"{chunks / wall:.1f}" if rate else "—",
        f"{max(r.peak_rss_mb for r in runs):,.0f}",
        ", ".join(r.load.split(" / ")[0] for r in runs),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000, help="pages in the generated corpus (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the cheap cases, median reported (default 3)")
    parser.add_argument("--seed", type=int, default=2023, help="corpus seed (default 2023)")
    parser.add_argument("--output", type=Path, default=benchlib.BENCHMARKS_DIR / "ingest.md",
                        help="Markdown file to append the results to (default benchmarks/ingest.md); '-' for none")
    parser.add_argument("--threads", type=int, help="torch/OpenMP threads of the ingest process "
                        "(OMP_NUM_THREADS); default: unset, as a user runs it")
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

        cold = ingest_once(corpus, index, "cold ingest", env)
        print(f"cold: {cold.wall:.1f} s", file=sys.stderr)
        unchanged = [ingest_once(corpus, index, "unchanged ingest", env) for _ in range(args.repeats)]
        edited = []
        for i in range(args.repeats):
            edit_one_file(corpus, i + 1)
            edited.append(ingest_once(corpus, index, "incremental ingest", env))
        print(f"unchanged: {[round(r.wall, 1) for r in unchanged]}, one file edited: {[round(r.wall, 1) for r in edited]}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    header = ["run", "wall s", "ingest s", "chunks", "texts embedded", "chunks/s (wall)", "peak RSS MB", "load after (1 min)"]
    rows = [
        row("cold (fresh index)", [cold]),
        row("unchanged re-ingest", unchanged, rate=False),
        row("one file edited", edited),
    ]
    report = "\n".join([
        f"### Ingest: {stats.pages:,} generated pages ({stats.files} Markdown files, {stats.chars:,} characters)",
        "",
        f"Started {started_at} · {benchlib.machine()} · load average at start {load_before} (1/5/15 min)",
        "",
        benchlib.table(header, rows),
        "",
        "Each run is a fresh `python -m ingest --quiet` process. *wall s* includes interpreter start, imports "
        "and model load; *ingest s* is the time the ingest itself reports. *texts embedded* counts passages "
        "and sentences (both are embedded); *chunks/s* is chunks in the index ÷ wall time. Peak RSS is the child's maximum resident set (os.wait4).",
        f"Torch/OpenMP threads: {args.threads or 'default (one per core)'}. "
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
