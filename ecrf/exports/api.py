"""Exports API (ARCHITECTURE.md "API (v1)"): ``exports`` (request, list, progress, ``download``,
``retry``, ``analysis``) and ``data-cuts``. Thin over ``ecrf.exports.services`` and ``selectors``; refusals are
the project's JSON errors (400 / 403 / 404 / 409) and change nothing. Each download is recorded
in the event log (who, which package, its SHA-256 and its manifest's)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.analysis.primary import summary_line
from ecrf.analysis.services import package_analysis
from ecrf.core.api import StrictSerializerMixin
from ecrf.exports import selectors, services
from ecrf.exports.models import DataCut, ExportJob


class ExportJobSerializer(serializers.ModelSerializer):
    # Plain strings in the schema: "queued", "running", "done", "failed"; "lock" or "cut".
    status = serializers.CharField(read_only=True)
    source = serializers.CharField(read_only=True)
    source_id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(source="kind_label", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", default=None)

    class Meta:
        model = ExportJob
        fields = ("id", "source", "source_id", "kind", "blinded", "status", "progress", "step", "requested_by",
                  "requested_at", "started_at", "finished_at", "attempts", "file_name", "size", "sha256",
                  "manifest_sha256", "odm_valid", "odm_validation", "error")
        read_only_fields = fields


class PackageAnalysisSerializer(serializers.Serializer):
    export = serializers.IntegerField(source="job.pk")
    study = serializers.CharField(source="study_code")
    package_sha256 = serializers.CharField(help_text="SHA-256 of the package zip the analysis was read from.")
    manifest_sha256 = serializers.CharField()
    as_of = serializers.DateTimeField(help_text="The data's time: the study lock's or the data cut's, from the package.")
    summary = serializers.SerializerMethodField()
    result = serializers.JSONField(help_text="The primary analysis (ecrf.analysis.primary.primary_analysis) of the "
                                   "package's ADaM: per arm, overall and per phenotype, site-adjusted logistic "
                                   "regression, 28/90-day mortality, mean SOFA by day.")
    safety = serializers.JSONField(help_text="The safety tables (ecrf.analysis.safety_tables.safety_tables) of the "
                                   "package's ADSL, AE and SUPPAE: N per arm; AE and SAE events and participants per "
                                   "arm and system organ class; the anemia and bleeding signals per arm and phenotype.")

    def get_summary(self, obj: Any) -> str:
        return summary_line(obj.result)


class ExportRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    blinded = serializers.BooleanField(default=True, help_text="False: an unblinded package (statistician, after the "
                                       "study unblinding; or a closed data cut).")
    cut = serializers.IntegerField(required=False, help_text="A data cut's id; without it, the study lock.")


class DataCutSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = DataCut
        fields = ("id", "label", "cutoff_at", "participant_ids", "closed", "created_by", "created_at")
        read_only_fields = ("id", "created_by", "created_at")


class DataCutInputSerializer(StrictSerializerMixin, serializers.Serializer):
    label = serializers.CharField()
    cutoff_at = serializers.DateTimeField(help_text="ISO 8601 with its zone, in the past.")
    participant_ids = serializers.ListField(child=serializers.IntegerField(), required=False,
                                            help_text="Participant ids; without it, everyone screened by the cut-off.")
    closed = serializers.BooleanField(default=False, help_text="True: a closed, unblinded cut for the DSMB.")


class _ExportsViewSet(viewsets.GenericViewSet):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        selectors.require_export_role(request.user)


class ExportJobViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, _ExportsViewSet):
    """Export packages this role may see. ``POST`` queues one; ``download`` returns the zip."""

    serializer_class = ExportJobSerializer
    queryset = ExportJob.objects.none()

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return ExportJob.objects.none()
        return selectors.exports_for(self.request.user)

    def get_object(self) -> ExportJob:
        return selectors.export_get(self.request.user, self.kwargs["pk"])

    @extend_schema(request=ExportRequestSerializer, responses={201: ExportJobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        cut = selectors.cut_get(request.user, data["cut"]) if "cut" in data else None
        job = services.export_request(actor=request.user, blinded=data["blinded"], cut=cut)
        return Response(ExportJobSerializer(job).data, status=201)

    @extend_schema(responses={(200, "application/zip"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        job = self.get_object()
        path = services.export_download(actor=request.user, job=job, request=request)
        response = FileResponse(open(path, "rb"), as_attachment=True, filename=job.file_name, content_type="application/zip")
        response["X-Package-SHA256"] = job.sha256
        return response

    @extend_schema(responses=PackageAnalysisSerializer, description=(
        "The primary analysis and the safety tables of a finished, unblinded package (the statistician; the DSMB on "
        "closed cuts), read from the package's ADaM and SDTM after the package passed its check; each call is recorded in the event log. "
        "409 for a blinded package, one not finished, or one whose file fails its check."))
    @action(detail=True, methods=["get"])
    def analysis(self, request: Request, pk: str | None = None) -> Response:
        done = package_analysis(actor=request.user, job=self.get_object(), request=request)
        return Response(PackageAnalysisSerializer(done).data)

    @extend_schema(request=None, responses=ExportJobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        job = services.export_retry(actor=request.user, job=self.get_object())
        return Response(ExportJobSerializer(job).data)


class DataCutViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Data cuts (the statistician makes them; the DSMB reads them). A cut's packages are
    ``exports`` with ``source`` "cut"."""

    serializer_class = DataCutSerializer
    queryset = DataCut.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        selectors.require_cut_role(request.user)

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return DataCut.objects.none()
        return selectors.cuts_for(self.request.user)

    @extend_schema(request=DataCutInputSerializer, responses={201: DataCutSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = DataCutInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        cut = services.data_cut_create(actor=request.user, label=data["label"], cutoff_at=data["cutoff_at"],
                                       participant_ids=data.get("participant_ids"), closed=data["closed"])
        return Response(DataCutSerializer(cut).data, status=201)


def register(router) -> None:  # noqa: ANN001
    router.register("exports", ExportJobViewSet, basename="exports")
    router.register("data-cuts", DataCutViewSet, basename="data-cuts")
