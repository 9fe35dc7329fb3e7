"""Moved to ``tests.support.screening``; this re-export keeps older importers working until they
import from there."""

from tests.support.screening import PHENOTYPE_LABS, consent, eligible_participant, lab, screen, screening_data

__all__ = ["PHENOTYPE_LABS", "consent", "eligible_participant", "lab", "screen", "screening_data"]
