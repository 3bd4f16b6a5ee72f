"""Typed settings shared by every stage, read once from the environment.

All variables carry the ``ASSISTANT_`` prefix (see the README's settings table);
command-line flags override them. Nothing here touches disk or loads a model.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_MODEL_DIR = DATA_DIR / "models" / "multilingual-e5-small"


class Settings(BaseSettings):
    """Every knob the assistant has, with the defaults a fresh clone uses."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Material to ingest.")
    index_dir: Path = Field(DATA_DIR / "index", description="Where the index lives.")
    embed_model: str = Field(
        str(DEFAULT_MODEL_DIR),
        description="sentence-transformers model name or path; default is the bundled multilingual-e5-small.",
    )
    reranker_dir: Path = Field(
        DATA_DIR / "models" / "reranker",
        description="The built reranker (int8 ONNX; made by make setup from the shipped adapter).",
    )
    chroma_host: str | None = Field(None, description="Chroma server host; unset means the embedded store.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    index_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,40}[A-Za-z0-9]$",
        description="The index's name in Chroma (its collections are '<name>_passages' etc.); with a Chroma "
                    "server, app servers sharing this name need no local index folder. Unset: derived from the index folder.",
    )

    llm_backend: Literal["none", "openai", "ollama"] = "none"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = 30.0

    thesaurus: Path = Field(
        Path("/usr/share/mythes/th_nb_NO_v2.dat"),
        description="LibreOffice's Norwegian thesaurus (Debian mythes-no) for query expansion; a missing file means none.",
    )

    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str | None = Field(None, description="Basic-auth user for the UI; unset means no auth.")
    auth_password: SecretStr | None = None
    api_key: SecretStr | None = Field(
        None, description="Bearer key for the /v1 chat API (ui/openai_api.py); without it the API is closed beyond loopback.",
    )

    feedback_db: Path = Field(DATA_DIR / "feedback.sqlite3", description="SQLite file for the users' answer ratings.")

    # OCR takes a few seconds a page on one core (README «Skannede PDF-er»): 200 pages is ~10 minutes.
    ocr_max_pages: int = Field(200, ge=1, description="Most scanned pages one PDF may have (ingest/ocr.py).")
    ocr_cache_dir: Path = Field(DATA_DIR / "ocr-cache", description="OCR text of scanned PDFs, by the file's hash.")

    def __init__(self, **values) -> None:
        """A bad value (from the environment or an override) is a SettingsError: one line that names
        the variable, which every command line prints as it prints other errors."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            error = exc.errors()[0]
            name = "ASSISTANT_" + "_".join(str(x) for x in error["loc"]).upper()
            raise SettingsError(f"setting {name}: {error['msg']}") from None

    @property
    def uses_default_model(self) -> bool:
        return Path(self.embed_model) == DEFAULT_MODEL_DIR
