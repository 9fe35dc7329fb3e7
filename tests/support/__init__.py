"""Test support: the one place tests import helpers from (besides their own conftest).

- ``stages``: a participant at each stage of the trial (screened, consented, phenotyped,
  randomized with a real allocation slot, dosed), built through the project's services.
- ``screening``: the screening, consent and central-lab form data those stages enter.
- ``times``: site-time helpers (``athens``) and administration payloads (``iv``, ``sc``).
- ``fixtures``: pytest fixtures built on the stages (``randomized``, ``screened``); loaded for the
  whole suite from ``tests/conftest.py``.
"""
