from __future__ import annotations

from rest_framework import serializers, viewsets

from ecrf.study.models import Site


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ("id", "code", "name", "country", "time_zone", "is_active")
        read_only_fields = fields


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    """Sites of the study (codes, names, time zones: no clinical data; visible to every user)."""

    serializer_class = SiteSerializer
    queryset = Site.objects.order_by("code")
    filterset_fields = ("country", "is_active")


def register(router) -> None:  # noqa: ANN001
    router.register("sites", SiteViewSet, basename="site")
