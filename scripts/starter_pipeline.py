"""The pipeline a user would write from llama-index's starter tutorial, on our embedding
model: the baseline the benchmarks compare against (not used by the assistant).

    python scripts/starter_pipeline.py ingest CORPUS INDEX   # SimpleDirectoryReader -> SentenceSplitter(512) -> HuggingFaceEmbedding -> Chroma
    python scripts/starter_pipeline.py ask INDEX "QUESTION"  # a fresh process: load, embed the question, retrieve top 3
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COLLECTION = "starter"


def embed_model():
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from ingest.embedding import resolve_model
    from ingest.settings import Settings

    return HuggingFaceEmbedding(model_name=resolve_model(Settings()), device="cpu",
                                query_instruction="query: ", text_instruction="passage: ")


def ingest(corpus: Path, index: Path) -> None:
    import chromadb
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    started = time.perf_counter()
    documents = SimpleDirectoryReader(str(corpus)).load_data()
    client = chromadb.PersistentClient(path=str(index))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection(COLLECTION))
    VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed_model(),
        transformations=[SentenceSplitter(chunk_size=512, chunk_overlap=20)],
    )
    print(f"starter: {len(documents)} documents in {time.perf_counter() - started:.1f} s")


def ask(index: Path, question: str) -> None:
    import chromadb
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = chromadb.PersistentClient(path=str(index))
    store = ChromaVectorStore(chroma_collection=client.get_collection(COLLECTION))
    retriever = VectorStoreIndex.from_vector_store(store, embed_model=embed_model()).as_retriever(similarity_top_k=3)
    for hit in retriever.retrieve(question):
        print(f"{hit.score:.3f} {hit.node.get_content()[:100]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("ingest")
    one.add_argument("corpus", type=Path)
    one.add_argument("index", type=Path)
    two = sub.add_parser("ask")
    two.add_argument("index", type=Path)
    two.add_argument("question")
    args = parser.parse_args()
    if args.command == "ingest":
        ingest(args.corpus, args.index)
    else:
        ask(args.index, args.question)
    return 0


if __name__ == "__main__":
    sys.exit(main())
