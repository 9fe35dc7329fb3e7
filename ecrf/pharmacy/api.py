"""Pharmacy API (v1, unblinded): ``preparations/`` for the site's pharmacists only (own sites),
with ``preparations/worklist/``: what each randomized participant needs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.core.api import StrictSerializerMixin
from ecrf.crf.models import Participant
from ecrf.pharmacy import services
from ecrf.pharmacy.models import Preparation, Product, Route
from ecrf.pharmacy.selectors import preparations_for, require_pharmacist, worklist


class PreparationSerializer(serializers.ModelSerializer):
    participant = serializers.IntegerField(source="participant_id")
    subject_id = serializers.CharField(source="participant.subject_id", read_only=True)
    prepared_by = serializers.CharField(source="prepared_by.username", read_only=True)

    class Meta:
        model = Preparation
        fields = ("id", "participant", "subject_id", "route", "dose_number", "product", "lot", "dose", "label",
                  "prepared_by", "prepared_at", "status", "status_reason", "version")
        read_only_fields = fields


class PreparationInput(StrictSerializerMixin, serializers.Serializer):
    participant = serializers.IntegerField()
    route = serializers.ChoiceField(choices=Route.choices)
    product = serializers.ChoiceField(choices=Product.choices)
    lot = serializers.CharField(max_length=60)
    dose = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    dose_number = serializers.IntegerField(min_value=1, required=False)
    prepared_at = serializers.DateTimeField(required=False)


class PreparationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PreparationSerializer
    queryset = Preparation.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        require_pharmacist(request.user)

    def get_queryset(self):
        return preparations_for(self.request.user)

    @extend_schema(request=PreparationInput, responses={201: PreparationSerializer})
    def create(self, request: Request) -> Response:
        body = PreparationInput(data=request.data)
        body.is_valid(raise_exception=True)
        v = dict(body.validated_data)
        prep = services.preparation_record(actor=request.user, participant=Participant(pk=v.pop("participant")), **v)
        return Response(PreparationSerializer(prep).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=inline_serializer("WorkItem", {"participant": serializers.IntegerField()}, many=True))
    @action(detail=False, methods=["get"])
    def worklist(self, request: Request) -> Response:
        return Response([{
            "participant": item.participant.pk, "subject_id": item.participant.subject_id,
            "site": item.participant.site.code, "randomized_at": item.participant.randomized_at,
            "arm": item.arm, "phenotype": item.phenotype,
            "requirements": [{"route": r.route, "product": r.product, "dose": r.dose, "doses": r.doses,
                              "prepared": item.prepared.get(r.route, 0)} for r in item.requirements],
        } for item in worklist(request.user)])


def register(router) -> None:
    router.register("preparations", PreparationViewSet, basename="preparation")
