"""Training of the jpegplus models (run from ``jpegplus train``; never from tests or CI)."""
