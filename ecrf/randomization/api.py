"""Randomization API (v1): ``participants/{id}/randomize/`` and ``participants/{id}/unblind/``
(blinded callers: the responses never differ by arm, except the unblinding investigator's own
answer), and the statistician's ``allocation-lists/`` and ``study-unblinding/`` (unblinded)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.accounts.roles import Role, user_roles
from ecrf.core.api import StrictSerializerMixin
from ecrf.core.errors import forbidden, invalid, not_found
from ecrf.crf.api import ParticipantSerializer
from ecrf.crf.models import Participant
from ecrf.randomization import services, unblinding
from ecrf.randomization.models import AllocationList, Slot, Unblinding, UnblindingKind


class UnblindSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="", max_length=REASON_MAX_LENGTH)
    password = serializers.CharField(allow_blank=True, required=False, default="", style={"input_type": "password"})


class ParticipantRandomizationViewSet(viewsets.GenericViewSet):
    """Randomize an eligible, consented participant of your site (once; 409 after), and emergency
    unblinding by an investigator of the participant's site (reason and password required)."""

    serializer_class = ParticipantSerializer
    queryset = Participant.objects.none()

    @extend_schema(request=None, responses=ParticipantSerializer)
    @action(detail=True, methods=["post"])
    def randomize(self, request: Request, pk: str | None = None) -> Response:
        try:
            target = Participant(pk=int(pk))
        except (TypeError, ValueError):
            raise not_found("participant") from None
        receipt = services.participant_randomize(actor=request.user, participant=target)
        participant = Participant.objects.select_related("site").get(pk=receipt.participant_id)
        return Response(ParticipantSerializer(participant).data, status=status.HTTP_200_OK)

    @extend_schema(request=UnblindSerializer,
                   responses=inline_serializer("UnblindResult", {"participant": serializers.IntegerField(),
                                                                 "subject_id": serializers.CharField(),
                                                                 "arm": serializers.CharField()}))
    @action(detail=True, methods=["post"])
    def unblind(self, request: Request, pk: str | None = None) -> Response:
        try:
            target = Participant(pk=int(pk))
        except (TypeError, ValueError):
            raise not_found("participant") from None
        body = UnblindSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        arm = unblinding.participant_emergency_unblind(actor=request.user, participant=target,
                                                       reason=body.validated_data["reason"],
                                                       password=body.validated_data["password"], request=request._request)
        participant = Participant.objects.get(pk=target.pk)
        return Response({"participant": participant.pk, "subject_id": participant.subject_id, "arm": arm})


def _statistician(request: Request) -> None:
    if Role.STATISTICIAN not in user_roles(request.user):
        raise forbidden("Allocation lists are readable by the unblinded statistician alone.")


class AllocationListSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username")
    strata = serializers.SerializerMethodField()

    class Meta:
        model = AllocationList
        fields = ("id", "source", "seed", "block_sizes", "ratio", "factors", "slots_per_stratum", "filename",
                  "file_sha256", "checksum", "slot_count", "created_by", "created_at", "strata")
        read_only_fields = fields

    def get_strata(self, obj: AllocationList) -> list[dict[str, Any]]:
        return [{"key": s.key, "size": s.size, "used": s.next_sequence - 1} for s in obj.strata.all()]


class GenerateSerializer(StrictSerializerMixin, serializers.Serializer):
    seed = serializers.CharField(max_length=200)
    slots_per_stratum = serializers.IntegerField(min_value=1, max_value=100000)
    block_sizes = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    strata = serializers.ListField(child=serializers.CharField(), required=False,
                                   help_text='Stratum keys such as "ATH|MALS"; default every stratum without a list.')


class SlotSerializer(serializers.ModelSerializer):
    stratum = serializers.CharField(source="stratum.key")
    participant = serializers.SerializerMethodField()

    class Meta:
        model = Slot
        fields = ("id", "stratum", "sequence", "block", "block_size", "arm", "participant")
        read_only_fields = fields

    def get_participant(self, obj: Slot) -> int | None:
        assignment = getattr(obj, "assignment", None)
        return assignment.participant_id if assignment else None


class AllocationListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Allocation lists and slots: the statistician alone (everybody else 403, administrators
    included). POST generates from a recorded seed; ``import/`` takes the statistician's file."""

    serializer_class = AllocationListSerializer
    queryset = AllocationList.objects.none()
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _statistician(request)

    def get_queryset(self):
        return AllocationList.objects.select_related("created_by").prefetch_related("strata").order_by("pk")

    @extend_schema(request=GenerateSerializer, responses={201: AllocationListSerializer})
    def create(self, request: Request) -> Response:
        body = GenerateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        strata = [tuple(k.split("|")) for k in v["strata"]] if v.get("strata") else None
        record = services.allocation_list_generate(actor=request.user, seed=v["seed"],
                                                   slots_per_stratum=v["slots_per_stratum"],
                                                   block_sizes=v.get("block_sizes"), strata=strata)
        return Response(AllocationListSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": inline_serializer("AllocationUpload", {"file": serializers.FileField()})},
                   responses={201: AllocationListSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_list(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise invalid("Attach the list file as 'file'.", file="Required.")
        record = services.allocation_list_import(actor=request.user, filename=upload.name, content=upload.read())
        return Response(AllocationListSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=SlotSerializer(many=True))
    @action(detail=True, methods=["get"])
    def slots(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        qs = Slot.objects.filter(allocation_list=record).select_related("stratum", "assignment").order_by("stratum__key", "sequence")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(SlotSerializer(page, many=True).data)

    @extend_schema(responses=inline_serializer("Verification", {"reproduced": serializers.BooleanField()}))
    @action(detail=True, methods=["get"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        return Response({"reproduced": services.allocation_list_verify(actor=request.user, allocation_list=self.get_object())})


class StudyUnblindingViewSet(viewsets.GenericViewSet):
    """Study unblinding: the statistician's audited act, only once the study-scope lock is set."""

    serializer_class = UnblindSerializer
    queryset = Unblinding.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if Role.STATISTICIAN not in user_roles(request.user):
            raise forbidden("Only the unblinded statistician unblinds the study.")

    def list(self, request: Request) -> Response:
        record = Unblinding.objects.filter(kind=UnblindingKind.STUDY).select_related("user").first()
        return Response({"study_locked": unblinding.study_lock_active(), "unblinded": record is not None,
                         "unblinded_at": record.at if record else None,
                         "unblinded_by": record.user.username if record else None})

    def create(self, request: Request) -> Response:
        body = UnblindSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = unblinding.study_unblind(actor=request.user, reason=body.validated_data["reason"],
                                          password=body.validated_data["password"], request=request._request)
        return Response({"unblinded": True, "unblinded_at": record.at, "unblinded_by": record.user.username},
                        status=status.HTTP_201_CREATED)


def register(router) -> None:
    router.register("participants", ParticipantRandomizationViewSet, basename="participant-randomization")
    router.register("allocation-lists", AllocationListViewSet, basename="allocation-list")
    router.register("study-unblinding", StudyUnblindingViewSet, basename="study-unblinding")
