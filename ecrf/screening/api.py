"""Screening API (v1). The three forms have the generic form endpoints (``/screenings/``,
``/consents/``, ``/lab-results/``, from ``ecrf.crf.api``); this module adds:

- ``screening-log/``: the screening log (list) and a new entry (creates the participant and its
  screening form together);
- ``consents/{id}/patient-decision/`` and ``consents/{id}/withdraw/``: the consent lifecycle;
- ``lab-imports/``: the central lab's CSV file, accepted whole or refused whole with a row report;
- ``screening-report/``: the top of the CONSORT flow per site.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, user_roles
from ecrf.core.api import StrictSerializerMixin
from ecrf.core.errors import forbidden
from ecrf.crf.api import build_serializer
from ecrf.crf.selectors import can_read_forms, form_get
from ecrf.screening import imports, services
from ecrf.screening.eligibility import reason_label
from ecrf.screening.models import LabImport, PatientDecision, WithdrawalType
from ecrf.screening.selectors import (
    REPORT_ROLES,
    SCREENING_LOG_ROLES,
    screening_log_for,
    screening_report,
)
from ecrf.screening.specs import CONSENT, SCREENING
from ecrf.core.errors import invalid

_ScreeningForm = build_serializer(SCREENING)
_ConsentForm = build_serializer(CONSENT)


class ScreeningLogEntrySerializer(_ScreeningForm):
    """A screening-log entry: the site and screening number create the participant."""

    participant = serializers.IntegerField(source="participant_id", read_only=True)
    site = serializers.CharField(write_only=True, help_text="Site code.")
    screening_number = serializers.CharField(write_only=True, max_length=30, help_text="Unique per site.")
    ineligibility_reason_labels = serializers.SerializerMethodField()

    class Meta(_ScreeningForm.Meta):
        fields = (*_ScreeningForm.Meta.fields, "site", "screening_number", "ineligibility_reason_labels")

    def get_ineligibility_reason_labels(self, obj: Any) -> list[str]:
        return [reason_label(c) for c in obj.ineligibility_reasons or ()]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["site"] = instance.participant.site.code
        data["screening_number"] = instance.participant.screening_number
        data["subject_id"] = instance.participant.subject_id
        data["randomized"] = instance.participant.is_randomized
        data["consented"] = bool(getattr(instance, "consented", False))
        data["rescreen_of"] = instance.rescreen_of.screening_number if instance.rescreen_of_id else None
        return data


class ScreeningLogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The screening log: every screened patient in your scope, eligible or not, with the outcome
    computed on the server (``eligibility``, ``phenotype``, ``ineligibility_reasons``). POST enters a
    new patient: ``site``, ``screening_number`` and the screening form's fields."""

    serializer_class = ScreeningLogEntrySerializer
    queryset = SCREENING.model.objects.none()

    def get_queryset(self):
        if not user_roles(self.request.user) & SCREENING_LOG_ROLES:
            raise forbidden("Your role does not work with the screening log.")
        qs = screening_log_for(self.request.user)
        params = self.request.query_params
        if params.get("site"):
            qs = qs.filter(participant__site__code=params["site"])
        if params.get("eligibility"):
            qs = qs.filter(eligibility=params["eligibility"])
        if params.get("screening_number"):
            qs = qs.filter(participant__screening_number=params["screening_number"])
        return qs

    def create(self, request: Request) -> Response:
        if not user_roles(request.user) & SITE_ENTRY_ROLES:
            raise forbidden("Only site staff may enter patients in the screening log.")
        serializer = ScreeningLogEntrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        site = data.pop("site")
        number = data.pop("screening_number")
        submit = data.pop("submit", False)
        data.pop("reason", None)
        data.pop("expected_version", None)
        form = services.screening_register(actor=request.user, site=site, screening_number=number, data=data,
                                           submit=submit)
        return Response(ScreeningLogEntrySerializer(form).data, status=status.HTTP_201_CREATED)


class PatientDecisionSerializer(StrictSerializerMixin, serializers.Serializer):
    expected_version = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=PatientDecision.choices)
    decided_at = serializers.DateTimeField()
    form_version = serializers.CharField(required=False, allow_blank=True, default="")
    withdrawal_type = serializers.ChoiceField(choices=WithdrawalType.choices, required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH)


class WithdrawalSerializer(StrictSerializerMixin, serializers.Serializer):
    expected_version = serializers.IntegerField()
    withdrawal_type = serializers.ChoiceField(choices=WithdrawalType.choices)
    withdrawn_on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH)


class ConsentLifecycleViewSet(viewsets.GenericViewSet):
    """The consent lifecycle: the patient's later decision on a representative's consent, and
    withdrawal by type and date (``data_use`` only where the study allows it)."""

    serializer_class = _ConsentForm
    queryset = CONSENT.model.objects.none()

    def _consent(self, pk: Any) -> Any:
        user = self.request.user
        if not can_read_forms(user, CONSENT):
            raise forbidden("Your role may not read consent records.")
        consent = form_get(user, CONSENT, pk)  # 404 outside your scope
        if not user_roles(user) & CONSENT.write_roles:
            raise forbidden("Your role may not record consent decisions.")
        return consent

    @extend_schema(request=PatientDecisionSerializer, responses=_ConsentForm)
    @action(detail=True, methods=["post"], url_path="patient-decision")
    def patient_decision(self, request: Request, pk: str | None = None) -> Response:
        consent = self._consent(pk)
        body = PatientDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        consent = services.consent_record_patient_decision(
            actor=request.user, consent=consent, decision=v["decision"], decided_at=v["decided_at"],
            version=v["expected_version"], form_version=v["form_version"], withdrawal_type=v["withdrawal_type"],
            reason=v["reason"])
        return Response(_ConsentForm(consent).data)

    @extend_schema(request=WithdrawalSerializer, responses=_ConsentForm)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        consent = self._consent(pk)
        body = WithdrawalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        consent = services.consent_withdraw(actor=request.user, consent=consent, withdrawal_type=v["withdrawal_type"],
                                            withdrawn_on=v["withdrawn_on"], version=v["expected_version"],
                                            reason=v["reason"])
        return Response(_ConsentForm(consent).data)


class LabImportSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username")

    class Meta:
        model = LabImport
        fields = ("id", "uploaded_by", "uploaded_at", "filename", "sha256", "status", "row_count", "created_count",
                  "updated_count", "unchanged_count", "report")
        read_only_fields = fields


class LabImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The central lab's CSV imports. POST a file (multipart ``file``, or a ``text/csv`` body with
    ``?filename=``): every row is validated; any bad row refuses the whole file (400 with a report
    of each rejected row) and nothing is stored; otherwise every row is stored (201)."""

    serializer_class = LabImportSerializer
    queryset = LabImport.objects.none()
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if Role.LAB not in user_roles(request.user):
            raise forbidden("Only the central lab imports central-lab results.")

    def get_queryset(self):
        return LabImport.objects.select_related("uploaded_by").order_by("-uploaded_at", "-pk")

    @extend_schema(request={"multipart/form-data": inline_serializer("LabImportUpload", {"file": serializers.FileField()})},
                   responses={201: LabImportSerializer, 400: LabImportSerializer})
    def create(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise invalid("Attach the lab's CSV file as 'file'.", file="Required.")
        record = imports.lab_import_csv(actor=request.user, filename=upload.name, content=upload.read())
        code = status.HTTP_201_CREATED if record.status == "accepted" else status.HTTP_400_BAD_REQUEST
        body = LabImportSerializer(record).data
        if code == status.HTTP_400_BAD_REQUEST:
            body = {"error": {"code": "invalid", "message": imports.refusal_message(record),
                              "fields": {"file": [imports.refusal_message(record)]}}, "import": body}
        return Response(body, status=code)


class ScreeningReportViewSet(viewsets.GenericViewSet):
    """Screened, not eligible by reason, eligible by phenotype, consented and randomized, per site
    (and the total across sites for roles that see every site). Blinded: no arm."""

    queryset = LabImport.objects.none()

    @extend_schema(responses=inline_serializer("ScreeningReport", {"sites": serializers.ListField(),
                                                                   "total": serializers.DictField(allow_null=True)}))
    def list(self, request: Request) -> Response:
        if not user_roles(request.user) & REPORT_ROLES:
            raise forbidden("Your role does not see the screening report.")
        return Response(screening_report(request.user))


def register(router) -> None:
    router.register("screening-log", ScreeningLogViewSet, basename="screening-log")
    router.register("consents", ConsentLifecycleViewSet, basename="consent-lifecycle")
    router.register("lab-imports", LabImportViewSet, basename="lab-import")
    router.register("screening-report", ScreeningReportViewSet, basename="screening-report")
