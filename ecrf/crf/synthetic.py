"""The synthetic-trial pipeline lives in ``ecrf.core.synthetic`` (each app registers its own
step there); these names stay importable from here for older step modules."""

from ecrf.core.synthetic import SyntheticContext, register_step, run_pipeline

__all__ = ["SyntheticContext", "register_step", "run_pipeline"]
