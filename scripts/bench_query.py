"""Query benchmark: the assistant against the starter pipeline a user would write with
llama-index defaults (VectorStoreIndex over the report, default SentenceSplitter,
top-k, no LLM), side by side in one run, each system in its own fresh process.

Measures cold start (process start to first answer), warm latency per question
(p50/p95 over several passes of the dev split, tests/eval/dev.yaml), peak RSS, and recall@1/@3:
is a passage containing the question's ``source`` snippet among the top 1/3?

    python scripts/bench_query.py
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import benchlib

QUESTIONS = benchlib.PROJECT_ROOT / "tests" / "eval" / "dev.yaml"
CORPUS = benchlib.PROJECT_ROOT / "corpus"
REPORT = CORPUS / "om-prosjektet.md"
TOP = 3
STARTER_CHUNK_SIZES = (1024, 256)


@dataclass
class Result:
    """What one worker process measured; the parent adds the peak RSS."""

    system: str
    cold_start_s: float  # process start to first answer
    ready_s: float  # process start to index and model loaded
    latencies_ms: list[float]  # every warm question, all passes
    recall: dict[str, float]  # name -> share of snippet questions
    passage_chars: float  # mean length of the top-3 passages
    extra: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0


# --- evaluation questions -----------------------------------------------------------------


def load_questions() -> list[dict]:
    import yaml

    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))


def snippet_questions(questions: list[dict]) -> list[dict]:
    """The answerable questions that name a snippet their passage must contain."""
    return [q for q in questions if q.get("source") and not q.get("abstain")]


def folded(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def holds(passage: str, snippet: str) -> bool:
    return folded(snippet) in folded(passage)


def recall_at(rankings: list[list[str]], snippets: list[str], k: int) -> float:
    """Share of questions whose snippet is in one of their first ``k`` passages."""
    found = sum(any(holds(p, s) for p in ranked[:k]) for ranked, s in zip(rankings, snippets))
    return found / len(snippets)


def mean_chars(rankings: list[list[str]]) -> float:
    passages = [p for ranked in rankings for p in ranked[:TOP]]
    return sum(map(len, passages)) / max(len(passages), 1)


# --- workers (each runs in its own process) -------------------------------------------------


def worker_ours(index_dir: Path, started: float, passes: int) -> Result:
    """The assistant as the UI uses it: ``Assistant(settings).ask(question, history)``."""
    from assistant.service import Assistant
    from ingest.settings import Settings

    questions = load_questions()
    assistant = Assistant(Settings(index_dir=index_dir))
    ready = time.time() - started
    assistant.ask(questions[0]["question"], questions[0].get("history"))
    cold = time.time() - started

    latencies, people_ms, report_ms = [], [], []
    people = {q["id"]: assistant.evidence(q["question"], q.get("history")).people for q in questions}
    for _ in range(passes):
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q["question"], q.get("history"))
            ms = (time.perf_counter() - t) * 1000
            latencies.append(ms)
            (people_ms if people[q["id"]] else report_ms).append(ms)
    encode_ms = []  # the query embedding alone, for the questions that need one
    for _ in range(passes):
        for q in questions:
            if not people[q["id"]]:
                t = time.perf_counter()
                assistant.retriever.embed_query(q["question"])
                encode_ms.append((time.perf_counter() - t) * 1000)

    recall, passage_chars, extra = ours_recall(assistant, questions)

    extra.update(
        people_p50_ms=benchlib.percentile(people_ms, 50),
        report_p50_ms=benchlib.percentile(report_ms, 50),
        report_p95_ms=benchlib.percentile(report_ms, 95),
        encode_p50_ms=benchlib.percentile(encode_ms, 50),
        passages=sum(c.kind == "text" for c in assistant.generation.chunks),
        people_questions=sum(people.values()),
    )
    return Result("ours", cold, ready, latencies, recall, passage_chars, extra)


def ours_recall(assistant, questions: list[dict]) -> tuple[dict[str, float], float, dict[str, float]]:
    """Recall of the answer ranking (cited passages first, then the hybrid ranking), of the
    hybrid ranking alone and of the citations, under both fusion methods."""
    from assistant.query import normalise

    chunks = assistant.generation.chunks
    position = {c.id: i for i, c in enumerate(chunks)}
    retriever = assistant.retriever
    asked = snippet_questions(questions)
    snippets = [q["source"] for q in asked]

    def shown(pos: int) -> str:  # a passage as a citation shows it: its heading, then the text
        return f"{chunks[pos].section.split(' > ')[-1]}\n\n{chunks[pos].text}"

    recall: dict[str, float] = {}
    extra: dict[str, float] = {}
    for fusion in ("rrf", "convex"):
        retriever.fusion = fusion
        answer_ranked, hybrid_ranked, cited = [], [], []
        for q in asked:
            answer = assistant.ask(q["question"], q.get("history"))
            hits = retriever.search(normalise(q["question"]), retriever.embed_query(q["question"]), top=TOP)
            hybrid = [h.position for h in hits]
            cited_positions = [position[c.chunk_id] for c in answer.citations]
            answer_ranked.append([shown(p) for p in cited_positions + [p for p in hybrid if p not in cited_positions]])
            hybrid_ranked.append([shown(p) for p in hybrid])
            cited.append([c.text for c in answer.citations])
        for k in (1, TOP):
            recall[f"answer@{k}/{fusion}"] = recall_at(answer_ranked, snippets, k)
            recall[f"hybrid@{k}/{fusion}"] = recall_at(hybrid_ranked, snippets, k)
        recall[f"cited/{fusion}"] = recall_at(cited, snippets, len(chunks))
        if fusion == "rrf":
            passage_chars = mean_chars(answer_ranked)
            extra["citation_chars"] = mean_chars(cited)
            extra["hybrid_chars"] = mean_chars(hybrid_ranked)
    retriever.fusion = "rrf"
    return recall, passage_chars, extra


def worker_starter(chunk_size: int, started: float, passes: int) -> Result:
    """What the llama-index starter tutorial gives, on the same local embedding model."""
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core import Settings as LISettings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from ingest.settings import DEFAULT_MODEL_DIR

    questions = load_questions()
    LISettings.embed_model = HuggingFaceEmbedding(
        model_name=str(DEFAULT_MODEL_DIR), query_instruction="query: ", text_instruction="passage: "
    )
    LISettings.chunk_size = chunk_size  # default SentenceSplitter (overlap 200) at this size
    index = VectorStoreIndex.from_documents([Document(text=REPORT.read_text(encoding="utf-8"))])
    retriever = index.as_retriever(similarity_top_k=TOP)
    ready = time.time() - started
    retriever.retrieve(questions[0]["question"])
    cold = time.time() - started

    latencies = []
    for _ in range(passes):
        for q in questions:  # no history: the starter has no conversation handling
            t = time.perf_counter()
            retriever.retrieve(q["question"])
            latencies.append((time.perf_counter() - t) * 1000)

    ranked = [[n.node.get_content() for n in retriever.retrieve(q["question"])] for q in snippet_questions(questions)]
    snippets = [q["source"] for q in snippet_questions(questions)]
    recall = {f"dense@{k}": recall_at(ranked, snippets, k) for k in (1, TOP)}
    nodes = len(index.docstore.docs)
    return Result(f"starter {chunk_size}", cold, ready, latencies, recall, mean_chars(ranked), {"passages": nodes})


# --- the parent: build the index, run the workers, write the table ---------------------------


def run_worker(args: list[str], env: dict[str, str], workdir: Path, name: str) -> Result:
    out = workdir / f"{name}.json"
    started = time.time()
    run = benchlib.check(
        benchlib.run_measured([__file__, "--worker", *args, "--started", repr(started), "--result", str(out)], env), name
    )
    result = Result(**json.loads(out.read_text()))
    result.peak_rss_mb = run.peak_rss_mb
    return result


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def report(ours: Result, starters: list[Result], *, n_questions: int, n_snippets: int, passes: int,
           threads: int | None, loads: list[str], command: str) -> str:
    def lat(r: Result, p: float) -> str:
        return fmt(benchlib.percentile(r.latencies_ms, p), 1)

    r = ours.recall
    rows = [
        ["recall@1 (passages containing the source snippet)", "",
         f"{fmt(r['answer@1/rrf'])} (answer) · {fmt(r['hybrid@1/rrf'])} (hybrid)", *[fmt(s.recall["dense@1"]) for s in starters]],
        ["recall@3", "≥ 0.95",
         f"{fmt(r['answer@3/rrf'])} (answer) · {fmt(r['hybrid@3/rrf'])} (hybrid)", *[fmt(s.recall["dense@3"]) for s in starters]],
        ["answer citation recall (a citation holds the snippet)", "", fmt(r["cited/rrf"]), *["—" for _ in starters]],
        ["convex fusion instead of RRF: recall@1 / @3 (hybrid) · citation",
         "", f"{fmt(r['hybrid@1/convex'])} / {fmt(r['hybrid@3/convex'])} · {fmt(r['cited/convex'])}", *["—" for _ in starters]],
        ["avg passage length, top 3 (chars)", "section-sized",
         f"{ours.passage_chars:.0f} (citations {ours.extra['citation_chars']:.0f})", *[f"{s.passage_chars:.0f}" for s in starters]],
        ["passages in the index", "", f"{ours.extra['passages']:.0f}", *[f"{s.extra['passages']:.0f}" for s in starters]],
        ["warm latency p50, all questions (ms)", "≤ 50", lat(ours, 50), *[lat(s, 50) for s in starters]],
        ["warm latency p95, all questions (ms)", "", lat(ours, 95), *[lat(s, 95) for s in starters]],
        ["warm latency p50 / p95, questions answered from the report (ms)", "",
         f"{fmt(ours.extra['report_p50_ms'], 1)} / {fmt(ours.extra['report_p95_ms'], 1)}", *[f"{lat(s, 50)} / {lat(s, 95)}" for s in starters]],
        ["… of which the query embedding alone, p50 (ms)", "", fmt(ours.extra["encode_p50_ms"], 1), *["(in the above)" for _ in starters]],
        ["cold start to first answer (s)", "≤ 10", fmt(ours.cold_start_s, 1), *[fmt(s.cold_start_s, 1) for s in starters]],
        ["… of which start until ready: imports, index, model (s)", "", fmt(ours.ready_s, 1), *[fmt(s.ready_s, 1) for s in starters]],
        ["peak RSS (MB)", "≤ 1,536", f"{ours.peak_rss_mb:,.0f}", *[f"{s.peak_rss_mb:,.0f}" for s in starters]],
    ]
    header = ["metric", "target", "ours (hybrid, section passages)", *[f"starter, chunk_size {s.system.split()[-1]}" for s in starters]]
    e = ours.extra
    notes = [
        f"Recall over the {n_snippets} answerable questions with a `source` snippet; latency over all {n_questions} "
        f"questions × {passes} warm passes, each system in its own fresh process on the same embedding model "
        f"(multilingual-e5-small, local folder).",
        "*ours (answer)*: the answer's cited passages in order, then the hybrid ranking; *ours (hybrid)*: "
        "`retriever.search(normalise(q), embed_query(q), top=3)` alone (report passages only, question without history). "
        "The starter embeds the report at start-up (in memory, no persisted index), and its retriever sees the question without history.",
        f"Ours answers {e['people_questions']:.0f} of the {n_questions} questions from the participant records "
        f"(no query embedding; warm p50 {fmt(e['people_p50_ms'], 1)} ms) and the rest by encode + hybrid retrieval + "
        "sentence scoring, so the all-questions p50 mixes two paths; the report-question row is the one to compare.",
        f"Torch/OpenMP threads: {threads or 'default (one per core)'}. Load average (1/5/15 min) at start, after ours, after the starters: "
        + " → ".join(loads) + ".",
        f"Command: `{command}`",
    ]
    return "\n".join([benchlib.table(header, rows), "", *[f"- {n}" for n in notes], ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passes", type=int, default=5, help="warm passes over the questions (default 5)")
    parser.add_argument("--threads", type=int, help="torch/OpenMP threads in the measured processes "
                        "(OMP_NUM_THREADS); default: unset, as a user runs it")
    parser.add_argument("--output", type=Path, default=benchlib.BENCHMARKS_DIR / "results.md",
                        help="Markdown file to append the results to (default benchmarks/results.md); '-' for none")
    parser.add_argument("--keep", action="store_true", help="keep the temporary index folder")
    # Internal: run one system in this process and write its Result as JSON.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chunk-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        sys.path.insert(0, str(benchlib.PROJECT_ROOT))
        if args.worker == "ours":
            result = worker_ours(args.index, args.started, args.passes)
        else:
            result = worker_starter(args.chunk_size, args.started, args.passes)
        args.result.write_text(json.dumps(asdict(result)))
        return 0

    env = benchlib.offline_env(**benchlib.thread_env(args.threads))
    started_at = time.strftime("%Y-%m-%d %H:%M")
    workdir = Path(tempfile.mkdtemp(prefix="bench-query-"))
    loads = [benchlib.load()]
    try:
        index = workdir / "index"
        benchlib.check(benchlib.run_measured(["-m", "ingest", "--corpus", str(CORPUS), "--index", str(index), "--quiet"], env), "ingest")
        common = ["--passes", str(args.passes)]
        ours = run_worker(["ours", "--index", str(index), *common], env, workdir, "ours")
        loads.append(benchlib.load())
        starters = [
            run_worker(["starter", "--chunk-size", str(size), *common], env, workdir, f"starter-{size}")
            for size in STARTER_CHUNK_SIZES
        ]
        loads.append(benchlib.load())
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    questions = load_questions()
    command = " ".join(["python", "scripts/bench_query.py", *(argv if argv is not None else sys.argv[1:])])
    body = report(ours, starters, n_questions=len(questions), n_snippets=len(snippet_questions(questions)),
                  passes=args.passes, threads=args.threads, loads=loads, command=command)
    title = f"### Query benchmark, started {started_at}\n\n{benchlib.machine()}\n"
    print(title + "\n" + body)
    if str(args.output) != "-":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        with open(args.output, "a", encoding="utf-8") as fh:
            fh.write(title + "\n" + body + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
