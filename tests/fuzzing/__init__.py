"""The fuzzer of jpegplus (issue #18): seeds, a mutation engine, API and CLI cases, and their oracles.

``scripts/fuzz.py`` runs long campaigns with it; ``tests/test_fuzz.py`` runs a fixed-seed slice in CI
and replays the corpus of reproducers in ``tests/fuzz_corpus/``.

- :mod:`fuzzing.structure`: JPEG segments, RIFF chunks and ISO boxes, and where the payload sits.
- :mod:`fuzzing.mutate`, :mod:`fuzzing.payload`: the seeded mutators.
- :mod:`fuzzing.seeds`: the files every campaign starts from.
- :mod:`fuzzing.values`, :mod:`fuzzing.api`: API arguments and API cases.
- :mod:`fuzzing.commands`: CLI cases and their checks.
- :mod:`fuzzing.supervise`, :mod:`fuzzing.worker`: children under time and memory limits.
- :mod:`fuzzing.picking`, :mod:`fuzzing.report`, :mod:`fuzzing.corpus`: choices, counts, reproducers.
"""
