"""The generic API for every registered form, plus participants (read, site-scoped) and history."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.audit.models import REASON_MAX_LENGTH
from ecrf.accounts.roles import PARTICIPANT_LIST_ROLES, user_roles
from ecrf.core.api import ServiceValidatedRangesMixin, StrictSerializerMixin
from ecrf.core.errors import DomainError, ErrorCode, forbidden
from ecrf.crf import services
from ecrf.crf.history import form_history, participant_history
from ecrf.crf.models import EntryStatus, Participant
from ecrf.crf.registry import FormSpec
from ecrf.crf.selectors import can_read_forms, form_get, forms_for, participant_get, participants_for
from ecrf.crf.registry import all_specs

META_READ_FIELDS = ("id", "participant", "status", "status_reason", "version", "created_at", "updated_at", "submitted_at")


class HistoryEntrySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    who = serializers.CharField(allow_null=True)
    form = serializers.CharField()
    record = serializers.CharField()
    change = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)


class ParticipantSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    randomized = serializers.BooleanField(source="is_randomized")

    class Meta:
        model = Participant
        fields = ("id", "site", "screening_number", "subject_id", "randomized", "randomized_at", "emergency_unblinded", "version", "created_at")
        read_only_fields = fields


class ParticipantFilter(filters.FilterSet):
    site = filters.CharFilter(field_name="site__code")
    randomized = filters.BooleanFilter(field_name="randomized_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Participant
        fields = ("site", "randomized", "screening_number", "subject_id")


class ParticipantViewSet(viewsets.ReadOnlyModelViewSet):
    """Participants visible to you: your sites, or all sites for central roles."""

    serializer_class = ParticipantSerializer
    filterset_class = ParticipantFilter
    queryset = Participant.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not user_roles(request.user) & PARTICIPANT_LIST_ROLES:
            raise forbidden("Your role does not work with participant records.")

    def get_queryset(self):  # noqa: ANN201
        return participants_for(self.request.user).order_by("pk")

    def get_object(self) -> Participant:
        return participant_get(self.request.user, self.kwargs["pk"])

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        participant = participant_get(request.user, pk, frozenset(PARTICIPANT_LIST_ROLES))
        return Response(HistoryEntrySerializer(participant_history(request.user, participant), many=True).data)


_SERIALIZERS: dict[str, type[serializers.ModelSerializer]] = {}


def build_serializer(spec: FormSpec) -> type[serializers.ModelSerializer]:
    """One serializer class per form spec (apps reusing it get the same class: one schema component)."""
    if spec.key not in _SERIALIZERS:
        _SERIALIZERS[spec.key] = _build_serializer(spec)
    return _SERIALIZERS[spec.key]


def _build_serializer(spec: FormSpec) -> type[serializers.ModelSerializer]:
    class Meta:
        model = spec.model
        fields = META_READ_FIELDS + spec.fields + spec.derived_fields + ("reason", "submit", "expected_version")
        read_only_fields = META_READ_FIELDS + spec.derived_fields
        validators: list = []  # uniqueness is the service's rule, with a clear message

    attrs: dict[str, Any] = {
        "Meta": Meta,
        "participant": serializers.IntegerField(source="participant_id", help_text="Participant id (on create only)."),
        "reason": serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=REASON_MAX_LENGTH,
                                        help_text="Reason for change; required once submitted."),
        "submit": serializers.BooleanField(write_only=True, required=False, default=False),
        "expected_version": serializers.IntegerField(write_only=True, required=False,
                                                     help_text="The version you read (required on change)."),
    }
    for name in spec.derived_fields:
        attrs.setdefault(name, serializers.ReadOnlyField())
    if spec.representation is not None:
        def to_representation(self, instance):  # noqa: ANN001, ANN202
            return spec.representation(instance, serializers.ModelSerializer.to_representation(self, instance))

        attrs["to_representation"] = to_representation
    serializer = type(f"{spec.model.__name__}Serializer", (StrictSerializerMixin, ServiceValidatedRangesMixin,
                                                                 serializers.ModelSerializer), attrs)
    return serializer


class ReasonSerializer(StrictSerializerMixin, serializers.Serializer):
    expected_version = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True, required=False, max_length=REASON_MAX_LENGTH)


def build_viewset(spec: FormSpec) -> type[viewsets.GenericViewSet]:
    serializer_class = build_serializer(spec)

    class FormFilter(filters.FilterSet):
        participant = filters.NumberFilter(field_name="participant_id")
        status = filters.ChoiceFilter(choices=EntryStatus.choices)

        class Meta:
            model = spec.model
            fields = ("participant", "status")

    class FormViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
        __doc__ = f"{spec.label} forms (site-scoped; every change audited with a reason once submitted)."
        filterset_class = FormFilter
        queryset = spec.model.objects.none()

        def get_serializer_class(self):  # noqa: ANN201
            return serializer_class

        def get_queryset(self):  # noqa: ANN201
            if not can_read_forms(self.request.user, spec):
                raise forbidden(f"Your role may not read {spec.label} forms.")
            return forms_for(self.request.user, spec).order_by("pk")

        def get_object(self):  # noqa: ANN201
            if not can_read_forms(self.request.user, spec):
                raise forbidden(f"Your role may not read {spec.label} forms.")
            return form_get(self.request.user, spec, self.kwargs["pk"])

        def _require_write(self, request: Request) -> None:
            # Data managers' corrections go through the admin with a reason; the API is for site entry.
            if not user_roles(request.user) & spec.write_roles:
                raise forbidden(f"Your role may not change {spec.label} forms.")

        def _payload(self, request: Request, *, partial: bool) -> dict[str, Any]:
            self._require_write(request)
            serializer = serializer_class(data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            return dict(serializer.validated_data)

        def create(self, request: Request) -> Response:
            data = self._payload(request, partial=False)
            participant = participant_get(request.user, data.pop("participant_id"), spec.read_roles | spec.write_roles)
            submit = data.pop("submit", False)
            data.pop("reason", None)
            data.pop("expected_version", None)
            form = services.form_create(actor=request.user, spec=spec, participant=participant, data=data, submit=submit)
            return Response(serializer_class(form).data, status=status.HTTP_201_CREATED)

        def partial_update(self, request: Request, pk: str | None = None) -> Response:
            form = self.get_object()
            data = self._payload(request, partial=True)
            if "participant_id" in data:
                raise DomainError(ErrorCode.INVALID, "A form cannot move to another participant.",
                                  fields={"participant": "Read-only after creation."})
            version = data.pop("expected_version", None)
            reason = data.pop("reason", None)
            submit = data.pop("submit", False)
            form = services.form_update(actor=request.user, spec=spec, form=form, data=data, version=version,
                                        reason=reason, submit=submit)
            return Response(serializer_class(form).data)

        def destroy(self, request: Request, pk: str | None = None) -> Response:
            self.get_object()
            raise DomainError(ErrorCode.DELETE_REFUSED, "Clinical data is never deleted; retract the entry with a reason instead.")

        def _status_action(self, request: Request, func: Any) -> Response:
            form = self.get_object()
            self._require_write(request)
            body = ReasonSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            form = func(actor=request.user, spec=spec, form=form, version=body.validated_data["expected_version"],
                        reason=body.validated_data.get("reason"))
            return Response(serializer_class(form).data)

        @extend_schema(request=ReasonSerializer, responses=serializer_class)
        @action(detail=True, methods=["post"])
        def submit(self, request: Request, pk: str | None = None) -> Response:
            return self._status_action(request, services.form_submit)

        @extend_schema(request=ReasonSerializer, responses=serializer_class)
        @action(detail=True, methods=["post"])
        def retract(self, request: Request, pk: str | None = None) -> Response:
            return self._status_action(request, services.form_retract)

        @extend_schema(request=ReasonSerializer, responses=serializer_class)
        @action(detail=True, methods=["post"], url_path="not-done")
        def not_done(self, request: Request, pk: str | None = None) -> Response:
            return self._status_action(request, services.form_mark_not_done)

        @extend_schema(responses=HistoryEntrySerializer(many=True))
        @action(detail=True, methods=["get"])
        def history(self, request: Request, pk: str | None = None) -> Response:
            form = self.get_object()
            return Response(HistoryEntrySerializer(form_history(spec, form), many=True).data)

    FormViewSet.__name__ = f"{spec.model.__name__}ViewSet"
    FormViewSet.__qualname__ = FormViewSet.__name__
    FormViewSet.http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    return FormViewSet


__all__ = ["build_viewset", "ParticipantViewSet", "OpenApiResponse", "inline_serializer"]


def register(router) -> None:  # noqa: ANN001
    router.register("participants", ParticipantViewSet, basename="participant")
    for spec in all_specs():
        router.register(spec.slug, build_viewset(spec), basename=spec.api_basename)
