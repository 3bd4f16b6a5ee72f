"""The one error the model provisioning raises; its message is shown to the user as is."""
from __future__ import annotations


class ConversionError(RuntimeError):
    """The source file is missing or malformed, or the target folder cannot be used."""
