"""Queries API (v1): thin adapters over ``ecrf.queries.services`` and ``selectors``.

- ``queries/``: list (filters ``site``, ``form``, ``check`` (or ``manual``), ``state``, ``draft``,
  ``participant``, ``min_age``/``max_age`` in days; paginated, a fixed number of database
  queries), detail, create (a manual query, a draft), and the actions ``release``, ``answer``,
  ``close``, ``reopen``, ``cancel`` and ``messages`` (GET the thread, POST a message);
- ``check-runs/``: the runs of the edit checks (data managers); POST requests an on-demand run,
  whose progress the detail shows;
- ``checks/``: the catalogue of edit checks (code, version, severity, form, fields, message,
  rationale).
Queries are blinded data: nothing here carries the arm.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.accounts.models import User
from ecrf.accounts.roles import user_roles
from ecrf.core.api import StrictSerializerMixin
from ecrf.core.errors import forbidden, invalid
from ecrf.crf.checks import all_checks
from ecrf.crf.registry import get_spec, spec_for_slug
from ecrf.crf.selectors import form_get
from ecrf.queries import services
from ecrf.queries.models import CheckRun, Query, QueryMessage, QueryState
from ecrf.queries.selectors import (
    CATALOGUE_ROLES,
    QUERY_ROLES,
    RUN_ROLES,
    check_run_get,
    check_runs_for,
    filter_queries,
    messages_for,
    queries_for,
    query_get,
)
from ecrf.queries.labels import field_label, form_label


class QuerySerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="participant.site.code", read_only=True)
    subject = serializers.CharField(source="participant.label", read_only=True)
    form = serializers.CharField(source="form_key", read_only=True)
    form_label = serializers.SerializerMethodField()
    field_label = serializers.SerializerMethodField()
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    draft = serializers.BooleanField(source="is_draft", read_only=True)
    raised_by = serializers.CharField(source="raised_by.username", default=None, read_only=True)
    assignee = serializers.CharField(source="assignee.username", default=None, read_only=True)

    class Meta:
        model = Query
        fields = ("id", "participant", "subject", "site", "form", "form_label", "form_id", "field", "field_label",
                  "item", "check_code", "check_version", "severity", "text", "state", "state_label", "draft",
                  "released_at", "accepted", "auto_closed", "raised_by", "assignee", "assignee_role", "opened_at", "answered_at",
                  "closed_at")
        read_only_fields = fields

    def get_form_label(self, obj: Query) -> str:
        return form_label(obj.form_key)

    def get_field_label(self, obj: Query) -> str:
        return field_label(obj.form_key, obj.field)


class QueryCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    form = serializers.CharField(help_text="The form's key (e.g. 'sofa.sofa_day') or its slug (e.g. 'sofa').")
    form_id = serializers.IntegerField(min_value=1)
    field = serializers.CharField(required=False, allow_blank=True, default="",
                                  help_text="A field of the form; empty for the form as a whole.")
    text = serializers.CharField(allow_blank=True, max_length=services.MAX_TEXT)


class TextSerializer(StrictSerializerMixin, serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.MAX_TEXT)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = QueryMessage
        fields = ("id", "kind", "kind_label", "author", "text", "at", "internal")
        read_only_fields = fields


def _spec_named(name: str) -> Any:
    try:
        return get_spec(name)
    except KeyError:
        spec = spec_for_slug(name)
        if spec is None:
            raise invalid(f"No form {name!r}.", form="Give a form key such as 'sofa.sofa_day' or a slug.") from None
        return spec


class AssignSerializer(StrictSerializerMixin, serializers.Serializer):
    assignee = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                     help_text="The user name of an investigator or coordinator of the participant's site.")
    role = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="Or a site role: investigator or coordinator. Neither: the site's answerers.")


class QueryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Data queries in your scope (data managers: all; monitors: assigned sites; site staff: the
    released queries of their site)."""

    serializer_class = QuerySerializer
    queryset = Query.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not user_roles(request.user) & QUERY_ROLES:
            raise forbidden("Your role does not work with data queries.")

    def get_queryset(self):
        params = self.request.query_params
        if params.get("state") and params["state"] not in QueryState.values:
            raise invalid(f"Unknown state {params['state']!r}.", state=f"One of: {', '.join(QueryState.values)}.")
        for name in ("min_age", "max_age", "participant"):
            if params.get(name) and not params[name].isdigit():
                raise invalid(f"{name} must be a whole number.", **{name: "A whole number."})
        return filter_queries(queries_for(self.request.user), params).order_by("opened_at", "pk")

    def get_object(self) -> Query:
        return query_get(self.request.user, self.kwargs["pk"])

    @extend_schema(request=QueryCreateSerializer, responses={201: QuerySerializer})
    def create(self, request: Request) -> Response:
        body = QueryCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        spec = _spec_named(v["form"])
        form = form_get(request.user, spec, v["form_id"])
        query = services.query_raise(actor=request.user, spec=spec, form=form, field=v["field"], text=v["text"])
        return Response(QuerySerializer(query).data, status=status.HTTP_201_CREATED)

    def _act(self, request: Request, pk: Any, service: Any, *, text: bool = True) -> Response:
        query = self.get_object()
        kwargs: dict[str, Any] = {}
        if text:
            body = TextSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            kwargs["text"] = body.validated_data["text"]
        query = service(actor=request.user, query=query, **kwargs)
        return Response(QuerySerializer(query_get(request.user, query.pk)).data)

    @extend_schema(request=None, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, services.query_release, text=False)

    @extend_schema(request=AssignSerializer, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        query = self.get_object()
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        name = body.validated_data.get("assignee") or ""
        assignee = None
        if name:
            assignee = User.objects.filter(username=name).first()
            if assignee is None:
                raise invalid(f"No user {name!r}.", assignee="Give the user name of someone at the participant's site.")
        query = services.query_assign(actor=request.user, query=query, assignee=assignee,
                                      role=body.validated_data.get("role") or "")
        return Response(QuerySerializer(query_get(request.user, query.pk)).data)

    @extend_schema(request=TextSerializer, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, services.query_answer)

    @extend_schema(request=TextSerializer, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, services.query_close)

    @extend_schema(request=TextSerializer, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, services.query_reopen)

    @extend_schema(request=TextSerializer, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, services.query_cancel)

    @extend_schema(request=TextSerializer, responses=MessageSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        query = self.get_object()
        if request.method == "POST":
            body = TextSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            message = services.query_message(actor=request.user, query=query, text=body.validated_data["text"])
            return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
        return Response(MessageSerializer(messages_for(request.user, query), many=True).data)


class CheckRunSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", default=None, read_only=True)
    trigger_label = serializers.CharField(source="get_trigger_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = CheckRun
        fields = ("id", "trigger", "trigger_label", "state", "state_label", "requested_by", "requested_at",
                  "started_at", "finished_at", "checks_total", "checks_done", "progress_percent", "opened",
                  "reopened", "closed", "skipped_locked", "results", "participant_ids")
        read_only_fields = fields


class CheckRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Runs of the edit checks (data managers). POST (no body) requests an on-demand run of every
    check over every participant: 202 with the queued run; its detail shows the progress."""

    serializer_class = CheckRunSerializer
    queryset = CheckRun.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not user_roles(request.user) & RUN_ROLES:
            raise forbidden("Only data managers run the edit checks.")

    def get_queryset(self):
        return check_runs_for(self.request.user)

    def get_object(self) -> CheckRun:
        return check_run_get(self.request.user, self.kwargs["pk"])

    @extend_schema(request=None, responses={202: CheckRunSerializer})
    def create(self, request: Request) -> Response:
        if request.data:
            raise invalid("An on-demand run takes no parameters: it runs every check over every participant.")
        run = services.check_run_request(actor=request.user)
        return Response(CheckRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class CheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    version = serializers.IntegerField()
    severity = serializers.CharField()
    form = serializers.CharField()
    form_label = serializers.SerializerMethodField()
    fields = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()
    rationale = serializers.CharField()

    def get_form_label(self, obj: Any) -> str:
        return form_label(obj.form)


class CheckViewSet(viewsets.GenericViewSet):
    """The catalogue of edit checks, by code (the data team)."""

    serializer_class = CheckSerializer
    queryset = Query.objects.none()
    pagination_class = None

    @extend_schema(responses=CheckSerializer(many=True))
    def list(self, request: Request) -> Response:
        if not user_roles(request.user) & CATALOGUE_ROLES:
            raise forbidden("The check catalogue is the data team's.")
        return Response(CheckSerializer(all_checks(), many=True).data)


def register(router) -> None:
    router.register("queries", QueryViewSet, basename="query")
    router.register("check-runs", CheckRunViewSet, basename="check-run")
    router.register("checks", CheckViewSet, basename="check")
