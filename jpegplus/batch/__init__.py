"""Whole folders of photos: planned outputs, a manifest, and local or Ray engines.

>>> from pathlib import Path
>>> from jpegplus.batch import Operation, Options, run
>>> summary = run([Path("photos")], Options(Operation.COMPRESS), out_dir=Path("packed"))  # doctest: +SKIP
"""

from jpegplus.batch.manifest import MANIFEST_NAME, Record, Summary, read_manifest
from jpegplus.batch.naming import Job, Plan, plan
from jpegplus.batch.options import Operation, Options, PictureFormat
from jpegplus.batch.runner import Engine, run

__all__ = [
    "MANIFEST_NAME",
    "Engine",
    "Job",
    "Operation",
    "Options",
    "PictureFormat",
    "Plan",
    "Record",
    "Summary",
    "plan",
    "read_manifest",
    "run",
]
