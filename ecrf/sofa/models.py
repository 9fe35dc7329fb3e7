"""Daily SOFA forms (raw bedside values plus the server's scoring) and each participant's
SOFA-based endpoints, stored with the inputs they were derived from."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecrf.audit.history import audited_history
from ecrf.crf.models import CRF, EntryStatus, NoDeleteModel
from ecrf.sofa.endpoints import DATA_STATUS
from ecrf.sofa.scoring import HARD_LIMITS
from ecrf.study.protocol import DEFAULT_PROTOCOL

# The scoring rules a stored score was computed with (sofa.md: the trial used the original SOFA).
SCORING_VERSION = "SOFA-1996"
# The endpoint rules (trial.md "Primary endpoint"); bump when the derivation changes (the nightly
# catch-up then re-derives every participant). SAP-2: only submitted forms are data; a death on
# day 1 keeps the observed baseline; a record (with reasons) from randomization on.
ENDPOINT_RULES_VERSION = "SAP-2"


class PaO2Unit(models.TextChoices):
    MMHG = "mmHg", "mmHg"
    KPA = "kPa", "kPa"


class MassUnit(models.TextChoices):
    MG_DL = "mg/dL", "mg/dL"
    UMOL_L = "umol/L", "umol/L"  # the same choice set as the labs app (one API enum)


class RespiratorySupport(models.TextChoices):
    NONE = "none", _("None")
    NON_INVASIVE = "non_invasive", _("Non-invasive (NIV or CPAP)")
    INVASIVE = "invasive", _("Invasive ventilation")


# Entry statuses of the SOFA forms that are scored and shown (a retracted or "not done" form is
# no day): a draft gets a provisional score so that the person entering it sees it.
COUNTED_STATUSES = (EntryStatus.DRAFT, EntryStatus.SUBMITTED)
# Entry statuses whose values are data (trial team: only submitted forms are data): the days the
# endpoints observe and the days a later day's missing components are carried forward from.
# ``EntryStatus(...)`` fails at import if the pure module's status ever stops naming one.
OBSERVED_STATUSES = (EntryStatus(DATA_STATUS),)


def hard_range(name: str) -> list[MinValueValidator | MaxValueValidator]:
    """The field's hard limits: the scoring module's (``HARD_LIMITS``), widest over the units the
    value may be entered in. The form's validation checks the unit given first, with the specific
    message and hint; these make the limits hold through every path and show in the schema."""
    limits = [limit for (field, _unit), limit in HARD_LIMITS.items() if field == name]
    return [MinValueValidator(min(x.low for x in limits)), MaxValueValidator(max(x.high for x in limits))]


def _dec(label: str, digits: int, places: int, help_text: str = "", *, name: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=digits, decimal_places=places, null=True, blank=True,
                               help_text=help_text, validators=hard_range(name))


def _derived_dec(label: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=10, decimal_places=2, null=True, blank=True, editable=False)


def _subscore(label: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label, null=True, blank=True, editable=False)


class SofaDay(CRF):
    """One study day's worst values (day 1: the 24 h before randomization) and its SOFA."""

    day = models.PositiveSmallIntegerField(
        _("study day"), validators=[MinValueValidator(1), MaxValueValidator(DEFAULT_PROTOCOL.sofa_days)],
        help_text=_("1 = baseline (worst values of the 24 h before randomization), 2-15 = that calendar day."))
    # Respiration: the PaO2 and FiO2 of the same blood gas, the one with the day's lowest ratio.
    pao2 = _dec(_("PaO2"), 7, 2, _("Of the blood gas with the day's lowest PaO2/FiO2."), name="pao2")
    pao2_unit = models.CharField(_("PaO2 unit"), max_length=8, choices=PaO2Unit.choices, blank=True)
    fio2 = _dec(_("FiO2 (fraction)"), 6, 3, _("Fraction 0.21-1.0, of the same blood gas (0.40, not 40)."), name="fio2")
    respiratory_support = models.CharField(_("respiratory support"), max_length=20,
                                           choices=RespiratorySupport.choices, blank=True)
    platelets = _dec(_("platelets (x10^3/µL)"), 7, 1, name="platelets")
    bilirubin = _dec(_("bilirubin"), 7, 2, name="bilirubin")
    bilirubin_unit = models.CharField(_("bilirubin unit"), max_length=8, choices=MassUnit.choices, blank=True)
    map = _dec(_("MAP (mmHg)"), 6, 1, name="map")
    dopamine = _dec(_("dopamine (µg/kg/min)"), 7, 3, _("Given for at least 1 h; 0 if not given."), name="dopamine")
    dobutamine = _dec(_("dobutamine (µg/kg/min)"), 7, 3, _("Given for at least 1 h; 0 if not given."), name="dobutamine")
    epinephrine = _dec(_("epinephrine (µg/kg/min)"), 7, 3, _("Given for at least 1 h; 0 if not given."), name="epinephrine")
    norepinephrine = _dec(_("norepinephrine (µg/kg/min)"), 7, 3, _("Given for at least 1 h; 0 if not given."),
                          name="norepinephrine")
    gcs = models.SmallIntegerField(_("GCS (3-15)"), null=True, blank=True, validators=hard_range("gcs"),
                                   help_text=_("If sedated, the best estimate without sedation."))
    gcs_sedated = models.BooleanField(_("sedated"), default=False)
    creatinine = _dec(_("creatinine"), 7, 2, name="creatinine")
    creatinine_unit = models.CharField(_("creatinine unit"), max_length=8, choices=MassUnit.choices, blank=True)
    urine_output = _dec(_("urine output (mL/24 h)"), 7, 1, name="urine_output")

    # --- derived on the server (invariant 8) ---
    pao2_mmhg = _derived_dec(_("PaO2 (mmHg, normalized)"))
    pf_ratio = _derived_dec(_("PaO2/FiO2 (mmHg)"))
    bilirubin_mg_dl = _derived_dec(_("bilirubin (mg/dL, normalized)"))
    creatinine_mg_dl = _derived_dec(_("creatinine (mg/dL, normalized)"))
    respiration = _subscore(_("respiration subscore"))
    coagulation = _subscore(_("coagulation subscore"))
    liver = _subscore(_("liver subscore"))
    cardiovascular = _subscore(_("cardiovascular subscore"))
    cns = _subscore(_("CNS subscore"))
    renal = _subscore(_("renal subscore"))
    total = _subscore(_("SOFA total"))
    missing_components = models.JSONField(_("missing components"), default=list, blank=True, editable=False)
    imputed_components = models.JSONField(_("how missing components were filled"), default=dict, blank=True,
                                          editable=False)
    review_flags = models.JSONField(_("values flagged for review"), default=dict, blank=True, editable=False)
    scoring_version = models.CharField(_("scoring rules"), max_length=20, default=SCORING_VERSION, editable=False)

    class Meta(CRF.Meta):
        verbose_name = _("SOFA day")
        ordering = ["participant_id", "day", "pk"]
        constraints = [
            # The service refuses a second SOFA for a day with a clear message; this catches races.
            models.UniqueConstraint(fields=["participant", "day"], condition=~Q(status="retracted"),
                                    name="sofa_day_one_per_participant_day"),
        ]

    def __str__(self) -> str:
        return f"SOFA day {self.day}"


class SofaEndpoint(NoDeleteModel):
    """A participant's SOFA endpoints (trial.md), with the exact inputs they came from.

    Derived on the server only (``ecrf.sofa.services.endpoint_derive``), re-derived whenever an
    input changes; history keeps every earlier result with the reason.
    """

    participant = models.OneToOneField("crf.Participant", on_delete=models.PROTECT, related_name="sofa_endpoint")
    evaluable = models.BooleanField(_("evaluable"))
    not_evaluable_reason = models.CharField(_("not evaluable because"), max_length=40, blank=True)
    primary_response = models.DecimalField(_("primary response (day 1 - mean days 2-9)"), max_digits=12,
                                           decimal_places=6, null=True, blank=True)
    responder = models.BooleanField(_("responder (> 1.4)"), null=True, blank=True)
    secondary_response = models.DecimalField(_("response over days 2-15"), max_digits=12, decimal_places=6,
                                             null=True, blank=True)
    secondary_responder = models.BooleanField(_("responder over days 2-15"), null=True, blank=True)
    alive_on_day9 = models.BooleanField(_("alive on day 9"))
    mean_sofa_days_1_9 = models.DecimalField(_("mean SOFA days 1-9 (alive on day 9)"), max_digits=12,
                                             decimal_places=6, null=True, blank=True)
    mitt = models.BooleanField(_("in the mITT population (received a dose)"))
    mitt_reason = models.CharField(_("not in the mITT population because"), max_length=40, blank=True)
    counts_as_responder_in_analysis = models.BooleanField(_("responder in the primary analysis"))
    filled_series = models.JSONField(_("daily SOFA as analysed"), default=list)
    inputs = models.JSONField(_("inputs"), default=dict)
    inputs_digest = models.CharField(max_length=64)
    rules_version = models.CharField(max_length=20, default=ENDPOINT_RULES_VERSION)
    derived_at = models.DateTimeField(default=timezone.now)
    history = audited_history()

    class Meta:
        ordering = ["participant_id"]
        verbose_name = _("SOFA endpoints")
        # The API's ``mitt`` and ``evaluable`` filters, in the API's order (by participant).
        indexes = [models.Index(fields=["mitt", "participant"], name="sofa_endpoint_mitt"),
                   models.Index(fields=["evaluable", "participant"], name="sofa_endpoint_evaluable")]

    def __str__(self) -> str:
        return f"SOFA endpoints of participant {self.participant_id}"
