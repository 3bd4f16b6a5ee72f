"""Every tunable of the answer path in one place, with the measurement or reason that
chose it. The fitted weights and thresholds themselves are data: assistant/data/decision.json
(written by scripts/fit.py from the dev split)."""
from __future__ import annotations

# --- retrieval (assistant/retrieve.py) ------------------------------------------------
DENSE_TOP = 20  # dense candidates before fusion; more than any small corpus needs
KEYWORD_TOP = 20  # BM25 candidates before fusion
RRF_K = 60  # reciprocal rank fusion's constant, for the "rrf" comparison only
# Passages whose sentences are ranked: the passage holding the answer was among the top 8
# for every answerable dev question that reaches the text (scripts/fit.py labels).
SENTENCE_PASSAGES = 8
# The reranker's pool: every sentence of this many passages, the likeliest RERANK_POOL of them by the
# feature model, and the RERANK_RECORDS nearest participant records. The reranker costs ~40 ms per
# candidate on one core: 24 + 5 candidates took ~1.2 s per question (dev calibration run), so the query
# path reads 12 + 5 (8 + 5 ranked as well on dev end to end, 1,015 against 1,021 of 1,620, but recall@3
# fell from 0.94 to 0.92). Training and calibration mined pools of 24 + 5.
RERANK_PASSAGES = 20
RERANK_POOL = 12
RERANK_RECORDS = 5
# The pairs run in groups of at most RERANK_GROUP, of similar length, RERANK_THREADS groups at a time, each
# on one thread (assistant.reranker.Reranker). One batch padded every pair to the longest (~28 % of a
# 12 + 5 batch was padding): grouping cost 20 % less CPU per question on 60 dev pools. Two groups side by
# side instead of one batch on two threads: 20 clients through /ask got 8.3 answers/s (p95 2.9 s) against
# 7.2 (p95 3.4 s), with one question's latency no worse (scripts/bench_*.py, 4 Dec 2026, night).
# int8 scores move by ~0.6 logits with a pair's batch-mates whatever the grouping (dynamic quantisation
# scales each batch as a whole); sentence top-1 on 310 dev questions was 0.677 in one batch, 0.668 in
# length groups, 0.681 one pair at a time, 0.674 in fp32; end to end on the six dev sets 1,031 of 1,620
# right in groups against 1,021 in one batch. Calibration scores dev the same way.
RERANK_THREADS = 2
RERANK_GROUP = 6
# A list of people from the records narrows to one when the reranker scores that record this many
# logits above the next (odds e^1 = 2.7 to 1): it answers, the others are only in the same group.
# Chosen on dev (scripts/tune_record_lead.py and the leads behind it, 4 Dec): of 29 list questions,
# those expecting several people all had leads <= 0.46, those expecting one had 0.1-4.8; 1.0 is the
# round value in the gap that narrows the most single-person lists without cutting a real list. The
# scorer cannot see the difference (extra names do not fail an answer): dev scores are equal for 1-99.
RECORD_LEAD = 1.0

# One encoder thread per query. On this 2-core machine a query embedding took ~30 ms with
# one torch thread but 80 ms to nearly a second with two as soon as anything else ran (a
# second request, another process): the threads spin-wait for each other. The int8 ONNX
# encoder with one thread: p50 17 ms (150 eval questions, load ~6). Concurrent UI requests
# use the other core instead.
QUERY_THREADS = 1

# --- sentence choice and answer (assistant/service.py) --------------------------------
# A second sentence joins the answer at this share of the best one's probability: answers
# spread over two sentences or list lines.
SECOND_SENTENCE_SHARE = 0.8
MAX_CITED_CHARS = 1400  # a cited passage is a section or less (the scorer's limit is 1500)
ANSWER_CHARS = 690  # an answer longer than this (without markers) is cut (the scorer fails at 700)
SHORTENED_CHARS = 650  # where an over-long single sentence is cut

# --- language (assistant/language.py, assistant/decide.py) ------------------------------
MIN_HEAD = 4  # shortest compound head that counts for a thesaurus relative («midl» in «utviklingsmidl»)
# The unknown-words guard applies to questions a Norwegian dictionary mostly reads; Swedish,
# Danish and English ones (share 0.25-0.4 on dev) lean on the multilingual dense model.
NORWEGIAN_FOR_GUARD = 0.7

# --- fitting (scripts/fit.py) ----------------------------------------------------------
# «høy» confidence: answers above this threshold were right this often on dev. 0.95 is out
# of reach while the right sentence is ranked first for ~60 % of the text questions (dev CV).
PRECISION_FOR_HIGH = 0.8
REGULARISATION = 1.0  # sklearn's C; the features are standardised first
# The share of the questions reaching the text (not the records) that it cannot answer,
# assumed when choosing the thresholds: the independent sets had 10-20 % unanswerable
# questions overall, more among those not about people; dev has more on purpose.
UNANSWERABLE_SHARE = 0.25
# Thresholds whose weighted dev accuracy is within this many standard errors of the best are
# treated as tied, and the most permissive of them is taken. On 29 Nov the curve was flat:
# best 0.558 (low 0.44, 49 of 179 answerable dev questions refused) vs 0.545 at low 0.35 (11
# refused); a plainly stated fact («Dekkene ble levert av …») was refused at 0.44.
TIE_STANDARD_ERRORS = 0.5
# Refuse a Norwegian question when this share of the words it asks about never occurs in the material
# (after lemmas and synonyms): 1.0 = none of them (scripts/fit.py explains why it is a rule, not fitted).
UNKNOWN_GUARD = 1.0

# --- language model (assistant/llm.py) -------------------------------------------------
MAX_PASSAGES = 6  # the offline answer's own passages first, then the next best hits
MAX_PASSAGE_CHARS = 9000  # all passages together, well inside a small model's context
MAX_TOKENS = 800  # room for a reasoning model's <think> block before a 700-character answer
CONTEXT_WINDOW = 8192
TEMPERATURE = 0.1
CONDENSE_SHARE = 1 / 3  # of the time budget, at most, for making a follow-up standalone
UNDECIDED_WORDS = 12  # partial answers show once they read as bokmål, or are this long and not English
EARLY_LANGUAGE_WORDS = 15  # an English reply this long is cut off and retried at once
# The share of a claim's content words (Norwegian stems) that its cited passage must hold
# (assistant/verify.py). Measured in tests/test_llm.py::test_verification_rule_keeps_good_claims_and_drops_planted_bad_ones:
# the 19 faithful claims there score 0.75–1.0; the planted errors with the right names and
# numbers score 0.0–0.25 (those with a wrong name or number often score 1.0, which is why
# names and numbers are checked one by one).
MIN_SUPPORT = 0.6
# A word this long may be found inside a compound of the passage («samarbeid» in «samarbeidsprosjekt»).
MIN_COMPOUND = 5
