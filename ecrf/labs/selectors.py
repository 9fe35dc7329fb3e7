"""Lab reads: the day-15 phenotype reversal and the anemia signal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ecrf.crf.models import EntryStatus
from ecrf.labs.models import LABELS, CentralLab, LabPanel
from ecrf.labs.reversal import phenotype_reversal
from ecrf.labs.units import LOCAL_ANALYTES, UNITS, to_standard
from ecrf.study.services import current_protocol


def reversal_for(participant: Any, *, phenotype: str, baseline_ferritin: Decimal | None) -> bool | None:
    """Day-15 reversal from the submitted day-15 central-lab result (None: not evaluable).

    The phenotype and screening ferritin come from screening (``ecrf.screening``)."""
    protocol = current_protocol()
    lab = CentralLab.objects.filter(participant_id=participant.pk, day=protocol.reversal_day, status=EntryStatus.SUBMITTED).first()
    ferritin = to_standard("ferritin", lab.ferritin, lab.ferritin_unit) if lab and lab.ferritin is not None else None
    return phenotype_reversal(phenotype, baseline_ferritin=baseline_ferritin, day15_ferritin=ferritin,
                              day15_hla_dr=lab.hla_dr if lab else None, protocol=protocol)


def anemia_days(participant: Any) -> list[int]:
    """Study days on which a submitted panel shows hemoglobin below the anemia threshold."""
    return list(LabPanel.objects.filter(participant_id=participant.pk, status=EntryStatus.SUBMITTED, anemia=True)
                .order_by("day").values_list("day", flat=True))


def panels_near(participant: Any, *, day: int | None, window: int = 2) -> list[dict[str, Any]]:
    """The submitted local lab panels within ``window`` study days of ``day`` (the context an
    adjudicator reads an event against), each analyte in its standard unit; a fixed one query."""
    if day is None:
        return []
    panels = LabPanel.objects.filter(participant_id=participant.pk, status=EntryStatus.SUBMITTED,
                                     day__gte=day - window, day__lte=day + window).order_by("day", "sample_time")
    rows = []
    for panel in panels:
        values = {}
        for analyte in LOCAL_ANALYTES:
            value, unit = getattr(panel, analyte), getattr(panel, f"{analyte}_unit")
            values[analyte] = to_standard(analyte, value, unit) if value is not None and unit else None
        rows.append({"day": panel.day, "sample_time": panel.sample_time, "values": values, "pk": panel.pk})
    return rows


def standard_units() -> dict[str, tuple[str, str]]:
    """Each local analyte's label and standard unit, the unit ``panels_near`` reports it in."""
    return {analyte: (str(LABELS[analyte]), UNITS[analyte][0]) for analyte in LOCAL_ANALYTES}
