"""Read-only API of the SOFA endpoints per participant (never with the arm). The SOFA day forms
themselves are served by the generic form API at /api/v1/sofa/."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets
from rest_framework.request import Request

from ecrf.core.errors import forbidden, not_found
from ecrf.sofa.endpoints import reason_message
from ecrf.sofa.models import SofaEndpoint
from ecrf.sofa.selectors import can_read_endpoints, endpoints_for


class SofaEndpointSerializer(serializers.ModelSerializer):
    participant = serializers.IntegerField(source="participant_id")
    subject_id = serializers.CharField(source="participant.subject_id")
    site = serializers.CharField(source="participant.site.code")
    # Reasons: the stable code (``*_reason``) and its human message.
    not_evaluable_message = serializers.SerializerMethodField()
    mitt_message = serializers.SerializerMethodField()

    class Meta:
        model = SofaEndpoint
        fields = ("participant", "subject_id", "site", "evaluable", "not_evaluable_reason", "not_evaluable_message",
                  "primary_response", "responder", "secondary_response", "secondary_responder", "alive_on_day9",
                  "mean_sofa_days_1_9", "mitt", "mitt_reason", "mitt_message", "counts_as_responder_in_analysis",
                  "filled_series", "inputs", "rules_version", "derived_at")
        read_only_fields = fields

    def get_not_evaluable_message(self, obj: SofaEndpoint) -> str:
        return reason_message(obj.not_evaluable_reason)

    def get_mitt_message(self, obj: SofaEndpoint) -> str:
        return reason_message(obj.mitt_reason)


class EndpointFilter(filters.FilterSet):
    site = filters.CharFilter(field_name="participant__site__code")
    mitt = filters.BooleanFilter()
    evaluable = filters.BooleanFilter()

    class Meta:
        model = SofaEndpoint
        fields = ("site", "mitt", "evaluable")


class SofaEndpointViewSet(viewsets.ReadOnlyModelViewSet):
    """Each participant's SOFA endpoints (primary response, responder, days 2-15 response, mean
    SOFA days 1-9 if alive on day 9, mITT), with the inputs they were derived from. Every
    randomized participant has one from randomization on; what it lacks is given as a reason
    code and message (not evaluable, not in the mITT). Look up by participant id. Site staff see their sites; monitors their assigned sites; data managers all."""

    serializer_class = SofaEndpointSerializer
    filterset_class = EndpointFilter
    queryset = SofaEndpoint.objects.none()
    lookup_field = "participant_id"
    lookup_url_kwarg = "participant"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not can_read_endpoints(request.user):
            raise forbidden("Your role may not see participants' endpoint values.")

    def get_queryset(self):
        return endpoints_for(self.request.user).order_by("participant_id")

    def get_object(self) -> SofaEndpoint:
        try:
            pid = int(self.kwargs["participant"])
        except (TypeError, ValueError):
            raise not_found("endpoint") from None
        endpoint = self.get_queryset().filter(participant_id=pid).first()
        if endpoint is None:
            raise not_found("endpoint")
        return endpoint


def register(router) -> None:
    router.register("endpoints", SofaEndpointViewSet, basename="sofa-endpoint")
