"""Helpers for testing uno and code built on it: model-free embedders and reusable conformance suites.

- :mod:`uno.testing.embedders`: :class:`~uno.embed.HashingEmbedder` and a call-counting wrapper.
- :mod:`uno.testing.conformance`: pytest suites any ``Embedder`` or ``VectorIndex`` implementation should pass
  (imports pytest, so it is not imported here).
"""
