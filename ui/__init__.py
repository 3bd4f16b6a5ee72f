"""The web page over the assistant: ``python -m ui`` serves it (see ui/app.py)."""
