"""Review API (ARCHITECTURE.md "API (v1)"): ``locks`` (freeze, lock, ``unlock``, the study-lock
``gate``), ``verifications`` and ``signatures``. Thin over ``ecrf.review.services`` and
``selectors``; refusals are the project's JSON errors (400 / 403 / 404 / 409) and change nothing.
A refused study lock (409 ``lock_gate_blocked``) lists its blockers, each with a link."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.accounts.roles import user_roles
from ecrf.core.api import StrictSerializerMixin
from ecrf.core.errors import forbidden, invalid, not_found
from ecrf.crf.models import LockScope, ScopeLevel
from ecrf.crf.registry import spec_for_model
from ecrf.crf.selectors import participant_get
from ecrf.review import gate, selectors, services
from ecrf.review.models import Signature, SignatureMeaning, Verification
from ecrf.study.models import Site


def _require(request: Request, roles: frozenset[str], message: str) -> None:
    if not user_roles(request.user) & roles:
        raise forbidden(message)


def _slug(form_type: ContentType | None) -> str | None:
    if form_type is None:
        return None
    spec = spec_for_model(form_type.model_class())
    return spec.slug if spec else form_type.model


# --- locks --------------------------------------------------------------------------------------

class LockScopeSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code", default=None)
    participant_label = serializers.CharField(source="participant.label", default=None)
    form = serializers.SerializerMethodField()
    set_by = serializers.CharField(source="set_by.username", default=None)
    released_by = serializers.CharField(source="released_by.username", default=None)
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = LockScope
        fields = ("id", "level", "kind", "site", "participant", "participant_label", "form", "form_id", "set_at", "set_by",
                  "reason", "active", "released_at", "released_by", "release_reason")
        read_only_fields = fields

    def get_form(self, scope: LockScope) -> str | None:
        return _slug(scope.form_type)


class LockInputSerializer(StrictSerializerMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=[("freeze", "freeze"), ("lock", "lock")])
    level = serializers.ChoiceField(choices=ScopeLevel.choices)
    site = serializers.CharField(required=False, help_text="The site's code (site level).")
    participant = serializers.IntegerField(required=False, help_text="The participant's id (participant level).")
    form = serializers.CharField(required=False, help_text="The form's type, its API slug (form level).")
    form_id = serializers.IntegerField(required=False, help_text="The form's id (form level).")
    reason = serializers.CharField(max_length=500, help_text="Why, or the lock's label (the study lock's name).")


class UnlockInputSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the data must change again (audited).")


class BlockerSerializer(serializers.Serializer):
    condition = serializers.CharField()
    message = serializers.CharField()
    participant_id = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()


class LockScopeViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Freezes and locks (data managers only). ``POST`` sets one; ``unlock`` releases it with a
    reason; ``gate`` lists what blocks the study lock (``?site=`` for one site)."""

    serializer_class = LockScopeSerializer
    queryset = LockScope.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _require(request, selectors.LOCK_ROLES, "Only data managers freeze, lock and unlock data.")

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return LockScope.objects.none()
        return selectors.scopes_for(self.request.user)

    def get_object(self) -> LockScope:
        scope = self.get_queryset().filter(pk=int(self.kwargs["pk"]) if str(self.kwargs["pk"]).isdigit() else 0).first()
        if scope is None:
            raise not_found("freeze or lock")
        return scope

    def _target(self, data: dict[str, Any]) -> dict[str, Any]:
        level = data["level"]
        if level == "site":
            if "site" not in data:
                raise invalid("Name the site to freeze or lock.", site="Required at site level.")
            site = Site.objects.filter(code=data["site"]).first()
            if site is None:
                raise invalid("No such site.", site="Unknown site code.")
            return {"site": site}
        if level == "participant":
            if "participant" not in data:
                raise invalid("Name the participant to freeze or lock.", participant="Required at participant level.")
            return {"participant": participant_get(self.request.user, data["participant"], selectors.LOCK_ROLES)}
        if level == "form":
            if "form" not in data or "form_id" not in data:
                raise invalid("Name the form to freeze or lock: its type and id.", form="Required at form level.")
            return {"form": selectors.reviewable_form_get(self.request.user, data["form"], data["form_id"], selectors.LOCK_ROLES)[1]}
        return {}

    @extend_schema(request=LockInputSerializer, responses={201: LockScopeSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = LockInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        service = services.scope_lock if data["kind"] == "lock" else services.scope_freeze
        try:
            scope = service(actor=request.user, level=data["level"], reason=data["reason"], request=request, **self._target(data))
        except gate.GateBlocked as exc:
            return Response(exc.as_dict(), status=exc.status)
        return Response(LockScopeSerializer(scope).data, status=201)

    @extend_schema(request=UnlockInputSerializer, responses=LockScopeSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request: Request, pk: str | None = None) -> Response:
        scope = self.get_object()
        body = UnlockInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scope = services.scope_unlock(actor=request.user, scope=scope, reason=body.validated_data["reason"], request=request)
        return Response(LockScopeSerializer(scope).data)

    @extend_schema(parameters=[OpenApiParameter("site", int, description="One site's id; the whole study if absent")],
                   responses=BlockerSerializer(many=True))
    @action(detail=False, methods=["get"])
    def gate(self, request: Request) -> Response:
        site = request.query_params.get("site")
        if site not in (None, "") and not str(site).isdigit():
            raise invalid("The site is a site id.", site="Not an id.")
        found = gate.blockers(site_id=int(site) if site else None)
        return Response({"count": len(found), "blockers": [asdict(b) for b in found]})


# --- verifications ------------------------------------------------------------------------------

@extend_schema_serializer(component_name="SourceDataVerification")
class VerificationSerializer(serializers.ModelSerializer):
    form = serializers.SerializerMethodField()
    verified_by = serializers.CharField(source="verified_by.username")
    current = serializers.SerializerMethodField(help_text="False once the form changed: the verification is stale.")

    class Meta:
        model = Verification
        fields = ("id", "participant", "form", "form_id", "fields", "version", "values_hash", "verified_by", "verified_at",
                  "current")
        read_only_fields = fields

    def get_form(self, row: Verification) -> str | None:
        return _slug(row.form_type)

    def get_current(self, row: Verification) -> bool:
        forms = self.context.get("forms", {})
        target = forms.get((row.form_type_id, row.form_id))
        return target is not None and selectors.verification_current(row, *target)


class VerificationInputSerializer(StrictSerializerMixin, serializers.Serializer):
    form = serializers.CharField(help_text="The form's type: its API slug (e.g. sofa).")
    form_id = serializers.IntegerField()
    expected_version = serializers.IntegerField(help_text="The form version you verified.")
    fields = serializers.ListField(child=serializers.CharField(), required=False, default=list,
                                   help_text="Some fields only; empty for the whole form.")


def _participant_param(request: Request, roles: frozenset[str]) -> Any:
    raw = request.query_params.get("participant")
    if raw in (None, ""):
        raise invalid("Name the participant: ?participant=<id>.", participant="Required.")
    return participant_get(request.user, raw, roles)


def _forms_by_key(participant_id: int) -> dict[tuple[int, int], tuple[Any, Any]]:
    forms = selectors.participant_forms([participant_id]).get(participant_id, [])
    return {(ContentType.objects.get_for_model(spec.model).pk, f.pk): (spec, f) for spec, f in forms}


class VerificationViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Source data verifications of one participant (``?participant=``); ``POST`` verifies a
    form or some of its fields (monitors of the site, data managers), 409 if it changed since
    the version you send."""

    serializer_class = VerificationSerializer
    queryset = Verification.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _require(request, selectors.REVIEW_READ_ROLES if request.method == "GET" else selectors.VERIFY_ROLES,
                 "Your role does not verify source data." if request.method != "GET" else "Your role does not read verifications.")

    @extend_schema(parameters=[OpenApiParameter("participant", int, required=True)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        participant = _participant_param(request, selectors.REVIEW_READ_ROLES)
        rows = Verification.objects.filter(participant=participant).select_related("verified_by", "form_type").order_by("pk")
        page = self.paginate_queryset(rows)
        data = VerificationSerializer(page, many=True, context={"forms": _forms_by_key(participant.pk)}).data
        return self.get_paginated_response(data)

    @extend_schema(request=VerificationInputSerializer, responses={201: VerificationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = VerificationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        spec, form = selectors.reviewable_form_get(request.user, data["form"], data["form_id"], selectors.VERIFY_ROLES)
        row = services.form_verify(actor=request.user, spec=spec, form=form, version=data["expected_version"],
                                   fields=data["fields"])
        return Response(VerificationSerializer(row, context={"forms": _forms_by_key(row.participant_id)}).data, status=201)


# --- signatures ---------------------------------------------------------------------------------

class SignatureSerializer(serializers.ModelSerializer):
    form = serializers.SerializerMethodField()
    level = serializers.CharField(help_text="casebook or form")
    signer = serializers.CharField(source="signer.username")
    void = serializers.SerializerMethodField(help_text="True once anything it covers changed: needs signing again.")

    class Meta:
        model = Signature
        fields = ("id", "participant", "level", "form", "form_id", "signer", "signer_name", "signed_at", "meaning",
                  "meaning_text", "records", "manifest_hash", "void")
        read_only_fields = fields

    def get_form(self, sig: Signature) -> str | None:
        return _slug(sig.form_type)

    def get_void(self, sig: Signature) -> bool:
        return self.context.get("void", {}).get(sig.pk, False)


class SignatureInputSerializer(StrictSerializerMixin, serializers.Serializer):
    participant = serializers.IntegerField()
    meaning = serializers.ChoiceField(choices=SignatureMeaning.choices)
    password = serializers.CharField(help_text="Your password, re-entered (21 CFR 11.200).", trim_whitespace=False)
    expected = serializers.CharField(help_text="What you reviewed: the casebook's manifest hash, or the form's version.")
    form = serializers.CharField(required=False, help_text="A form's API slug: sign that one form, not the casebook.")
    form_id = serializers.IntegerField(required=False)


class SignatureViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Electronic signatures of one participant (``?participant=``), each with whether it is
    void now; ``POST`` signs the casebook (or ``form`` + ``form_id``) with the password."""

    serializer_class = SignatureSerializer
    queryset = Signature.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        _require(request, selectors.REVIEW_READ_ROLES if request.method == "GET" else selectors.SIGN_ROLES,
                 "Only investigators sign." if request.method != "GET" else "Your role does not read signatures.")

    @extend_schema(parameters=[OpenApiParameter("participant", int, required=True)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        participant = _participant_param(request, selectors.REVIEW_READ_ROLES)
        pairs = selectors.signatures_for(request.user, participant)
        page = self.paginate_queryset([sig for sig, _ in pairs])
        data = SignatureSerializer(page, many=True, context={"void": {sig.pk: void for sig, void in pairs}}).data
        return self.get_paginated_response(data)

    @extend_schema(request=SignatureInputSerializer, responses={201: SignatureSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = SignatureInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        participant = participant_get(request.user, data["participant"], selectors.SIGN_ROLES)
        form = None
        if data.get("form") or data.get("form_id") is not None:
            if not data.get("form") or data.get("form_id") is None:
                raise invalid("Name the form by its type and id, or neither to sign the casebook.", form="Both or neither.")
            form = selectors.reviewable_form_get(request.user, data["form"], data["form_id"], selectors.SIGN_ROLES)[1]
        sig = services.signature_create(actor=request.user, participant=participant, meaning=data["meaning"],
                                        password=data["password"], expected=data["expected"], form=form, request=request)
        return Response(SignatureSerializer(sig, context={"void": {sig.pk: False}}).data, status=201)


def register(router) -> None:  # noqa: ANN001
    router.register("locks", LockScopeViewSet, basename="locks")
    router.register("verifications", VerificationViewSet, basename="verifications")
    router.register("signatures", SignatureViewSet, basename="signatures")

