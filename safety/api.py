"""Safety API (ARCHITECTURE.md "API (v1)"): ``sae-reports``, ``clocks`` and ``adjudications``.

The adverse-event CRF itself is served by the generic form API at ``/api/v1/adverse-events/``.
Everything here is blinded: no field, filter, ordering or error depends on the arm. SUSAR
clocks show blinded readers "potential SUSAR" and then "closed"; reviewers never see the other
reviewer's pending review, and a reviewer who asks for the treatment is refused and audited.
Lists are paginated and cost a fixed number of queries (tests/safety/test_api.py).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.accounts.roles import SITE_ENTRY_ROLES, Role, user_roles
from ecrf.audit.models import EventKind
from ecrf.audit.services import event_record
from ecrf.core.api import StrictSerializerMixin
from ecrf.core.errors import forbidden, not_found
from safety import selectors, services
from safety.clocks import ClockKind
from safety.models import (
    Adjudication,
    AdjudicationReview,
    AdjudicationStatus,
    CaseStatus,
    Clock,
    ClockVisibility,
    ReportStatus,
    SAEReport,
    SpecialInterest,
    Submission,
)
from safety.clocks import CLOCK_LABELS

# --- SAE reports ------------------------------------------------------------------------------


class SubmissionSerializer(serializers.ModelSerializer):
    submitted_by = serializers.CharField(source="submitted_by.username")

    class Meta:
        model = Submission
        fields = ("id", "submitted_at", "submitted_by", "recipient", "reference", "late", "recorded_at")
        read_only_fields = fields


class SAEReportSerializer(serializers.ModelSerializer):
    participant = serializers.IntegerField(source="adverse_event.participant_id")
    participant_label = serializers.CharField(source="adverse_event.participant.label")
    site = serializers.CharField(source="adverse_event.participant.site.code")
    followup = serializers.BooleanField(source="is_followup")
    status = serializers.CharField(help_text="draft or submitted")
    submissions = SubmissionSerializer(many=True)

    class Meta:
        model = SAEReport
        fields = ("id", "adverse_event", "participant", "participant_label", "site", "sequence", "followup", "status",
                  "version", "snapshot", "changes", "narrative", "created_at", "submissions")
        read_only_fields = fields


class SubmissionInputSerializer(StrictSerializerMixin, serializers.Serializer):
    expected_version = serializers.IntegerField(help_text="The report version you read.")
    submitted_at = serializers.DateTimeField(help_text="When the report was sent (with its time zone).")
    recipient = serializers.CharField(max_length=200, help_text="To whom it was sent.")
    reference = serializers.CharField(max_length=100, help_text="The report's reference (e.g. the sponsor's case number).")
    narrative = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpRequestInputSerializer(StrictSerializerMixin, serializers.Serializer):
    question = serializers.CharField(help_text="What the site should follow up on.")


class SAEReportFilter(filters.FilterSet):
    adverse_event = filters.NumberFilter(field_name="adverse_event_id")
    participant = filters.NumberFilter(field_name="adverse_event__participant_id")
    site = filters.CharFilter(field_name="adverse_event__participant__site__code")
    status = filters.ChoiceFilter(choices=ReportStatus.choices)
    followup = filters.BooleanFilter(method="filter_followup")

    class Meta:
        model = SAEReport
        fields = ("adverse_event", "participant", "site", "status", "followup")

    def filter_followup(self, qs: Any, name: str, value: bool) -> Any:
        return qs.filter(sequence__gt=0) if value else qs.filter(sequence=0)


class SAEReportViewSet(viewsets.ReadOnlyModelViewSet):
    """SAE reports (initial and follow-up) of the adverse events you see: your sites, or all
    sites for central roles. ``submit`` records a submission (site staff); ``request-followup``
    asks the site for follow-up (safety officers)."""

    serializer_class = SAEReportSerializer
    filterset_class = SAEReportFilter
    queryset = SAEReport.objects.none()

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return SAEReport.objects.none()
        submissions = Submission.objects.select_related("submitted_by").order_by("submitted_at", "pk")
        return (selectors.sae_reports_for(self.request.user)
                .prefetch_related(Prefetch("submissions", queryset=submissions))
                .order_by("adverse_event_id", "sequence"))

    def get_object(self) -> SAEReport:
        return selectors.sae_report_get(self.request.user, self.kwargs["pk"])

    def _fresh(self, report: SAEReport) -> dict:
        return SAEReportSerializer(self.get_queryset().get(pk=report.pk)).data

    @extend_schema(request=SubmissionInputSerializer, responses=SAEReportSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        if not user_roles(request.user) & SITE_ENTRY_ROLES:
            raise forbidden("Only site staff record SAE report submissions.")
        report = self.get_object()
        body = SubmissionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.sae_report_submit(actor=request.user, report=report, version=data["expected_version"],
                                   submitted_at=data["submitted_at"], recipient=data["recipient"],
                                   reference=data["reference"], narrative=data["narrative"])
        return Response(self._fresh(report))

    @extend_schema(request=FollowUpRequestInputSerializer, responses=SAEReportSerializer)
    @action(detail=True, methods=["post"], url_path="request-followup")
    def request_followup(self, request: Request, pk: str | None = None) -> Response:
        if Role.SAFETY_OFFICER not in user_roles(request.user):
            raise forbidden("Only safety officers ask sites for follow-up.")
        report = self.get_object()
        body = FollowUpRequestInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        req = services.followup_request(actor=request.user, ae=report.adverse_event, question=body.validated_data["question"])
        return Response(self._fresh(req.report), status=201)


# --- clocks -----------------------------------------------------------------------------------


class ClockSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    adverse_event = serializers.IntegerField(source="adverse_event_id")
    participant = serializers.IntegerField(source="adverse_event.participant_id")
    participant_label = serializers.CharField(source="adverse_event.participant.label")
    site = serializers.CharField(source="adverse_event.participant.site.code")
    kind = serializers.CharField()
    label = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    state = serializers.CharField(source="shown_state")
    state_label = serializers.SerializerMethodField()
    met_at = serializers.SerializerMethodField()
    seconds_left = serializers.SerializerMethodField()
    susar_case = serializers.SerializerMethodField(
        help_text="For SUSAR-candidate clocks: 'potential_susar' then 'closed' (pharmacovigilance: 'susar' or 'not_susar').")

    def _masked(self, clock: Clock) -> bool:
        return clock.visibility != ClockVisibility.OPEN and not hasattr(clock, "pv_outcome")

    def get_label(self, clock: Clock) -> str:
        return CLOCK_LABELS[ClockKind(clock.kind)]

    def get_state_label(self, clock: Clock) -> str:
        label = selectors.STATE_LABELS[clock.shown_state]
        if self._masked(clock) and clock.shown_state != "closed":
            return f"Potential SUSAR · {label}"
        return label

    def get_met_at(self, clock: Clock) -> str | None:
        # A blinded reader never learns whether (or when) a SUSAR report was sent.
        if self._masked(clock) or clock.met_at is None or clock.shown_state == "closed":
            return None
        return serializers.DateTimeField().to_representation(clock.met_at)

    def get_seconds_left(self, clock: Clock) -> int | None:
        if clock.shown_state not in ("running", "due_soon", "overdue"):
            return None
        return int((clock.due_at - self.context["now"]).total_seconds())

    def get_susar_case(self, clock: Clock) -> str | None:
        if clock.kind in selectors.OPEN_KINDS:
            return None
        if hasattr(clock, "pv_outcome") and clock.case_status == CaseStatus.CLOSED:
            return clock.pv_outcome or "closed"
        return "closed" if clock.case_status == CaseStatus.CLOSED else "potential_susar"


class ClockFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(field_name="shown_state", choices=[(s, s) for s in selectors.CLOCK_STATES])
    kind = filters.ChoiceFilter(choices=[(k.value, k.value) for k in ClockKind])
    site = filters.CharFilter(field_name="adverse_event__participant__site__code")
    adverse_event = filters.NumberFilter(field_name="adverse_event_id")
    participant = filters.NumberFilter(field_name="adverse_event__participant_id")

    class Meta:
        model = Clock
        fields = ("state", "kind", "site", "adverse_event", "participant")


class ClockViewSet(viewsets.ReadOnlyModelViewSet):
    """Reporting clocks, overdue first, then due soon, running, met late, met, closed.

    ``state`` filters (repeatable). Site staff, monitors and data managers see the SAE clocks
    of their participants; SUSAR-candidate clocks are seen by safety officers (masked:
    "potential SUSAR" and then "closed") and by pharmacovigilance (real state)."""

    serializer_class = ClockSerializer
    filterset_class = ClockFilter
    queryset = Clock.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.now = timezone.now()

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "now": getattr(self, "now", timezone.now())}

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return Clock.objects.none()
        return selectors.clocks_for(self.request.user, now=self.now)

    def get_object(self) -> Clock:
        return selectors.clock_get(self.request.user, self.kwargs["pk"], now=self.now)


# --- adjudication -----------------------------------------------------------------------------

# Query parameters or body fields that would ask for the treatment: refused and audited.
TREATMENT_WORDS = frozenset({"arm", "treatment", "allocation", "assignment", "unblind", "product", "kit"})


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")

    class Meta:
        model = AdjudicationReview
        fields = ("id", "round", "reviewer", "tiebreak", "serious", "related_iv", "related_sc", "expected", "llt_code",
                  "special_interest", "comment", "submitted_at")
        read_only_fields = fields


class ReviewInputSerializer(StrictSerializerMixin, serializers.Serializer):
    serious = serializers.BooleanField()
    related_iv = serializers.BooleanField()
    related_sc = serializers.BooleanField()
    expected = serializers.BooleanField()
    llt_code = serializers.IntegerField()
    special_interest = serializers.ChoiceField(choices=SpecialInterest.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class AdjudicationEventSerializer(serializers.Serializer):
    """The source AE as reviewers see it: clinical facts, the investigator's causality per
    route; never the arm or the product."""

    id = serializers.IntegerField()
    version = serializers.IntegerField()
    participant_label = serializers.CharField(source="participant.label")
    site = serializers.CharField(source="participant.site.code")
    verbatim_term = serializers.CharField()
    llt_code = serializers.IntegerField(allow_null=True)
    pt_name = serializers.CharField()
    soc_name = serializers.CharField()
    onset_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    grade = serializers.IntegerField()
    serious = serializers.BooleanField()
    criteria = serializers.ListField(child=serializers.CharField())
    outcome = serializers.CharField()
    causality_iv = serializers.CharField()
    causality_sc = serializers.CharField()
    anemia = serializers.BooleanField()
    bleeding = serializers.BooleanField()
    exemption = serializers.CharField()


class AdjudicationSerializer(serializers.ModelSerializer):
    adverse_event = AdjudicationEventSerializer()
    status = serializers.CharField(help_text="open, third_review (disagreement) or final")
    final = serializers.SerializerMethodField()

    class Meta:
        model = Adjudication
        fields = ("id", "status", "round", "source_version", "adverse_event", "final", "final_by", "final_at", "version",
                  "created_at")
        read_only_fields = fields

    def get_final(self, adj: Adjudication) -> dict | None:
        return adj.final if adj.status == AdjudicationStatus.FINAL else None


class AdjudicationDetailSerializer(AdjudicationSerializer):
    my_review = serializers.SerializerMethodField()
    reviews = serializers.SerializerMethodField(help_text="This round's reviews: your own, and all of them once final.")

    class Meta(AdjudicationSerializer.Meta):
        fields = (*AdjudicationSerializer.Meta.fields, "my_review", "reviews")
        read_only_fields = fields

    def get_my_review(self, adj: Adjudication) -> dict | None:
        mine = [r for r in self.context["reviews"] if r.reviewer_id == self.context["request"].user.pk]
        return ReviewSerializer(mine[0]).data if mine else None

    def get_reviews(self, adj: Adjudication) -> list[dict]:
        return ReviewSerializer(self.context["reviews"], many=True).data


class AdjudicationFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=[(AdjudicationStatus.OPEN.value, "open"),
                                           (AdjudicationStatus.THIRD_REVIEW.value, "third_review")])
    site = filters.CharFilter(field_name="adverse_event__participant__site__code")

    class Meta:
        model = Adjudication
        fields = ("status", "site")


class AdjudicationViewSet(viewsets.ReadOnlyModelViewSet):
    """The adjudication queue (safety officers acting as reviewers): events waiting for your
    independent review. ``review`` reads (GET) or records (POST) your own review;
    ``reviews/<id>`` reads one review: your own, or any once the adjudication is final.
    Another reviewer's pending review is 404 and audited; asking for the treatment is 403 and
    audited."""

    serializer_class = AdjudicationSerializer
    filterset_class = AdjudicationFilter
    queryset = Adjudication.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if Role.SAFETY_OFFICER not in user_roles(request.user):
            raise forbidden("Only safety officers adjudicate.")
        asked = {k.lower() for k in request.query_params} | {str(v).lower() for v in request.query_params.getlist("fields")}
        if isinstance(request.data, dict):
            asked |= {str(k).lower() for k in request.data}
        if asked & TREATMENT_WORDS:
            event_record(kind=EventKind.ACCESS_DENIED, actor=request.user, request=request, object_type="safety.adjudication",
                         object_id=str(kwargs.get("pk", "")), what="treatment arm requested by a reviewer")
            raise forbidden("Adjudication is blind to treatment: the arm is not available to reviewers.")

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return Adjudication.objects.none()
        return selectors.adjudication_queue(self.request.user)

    def get_object(self) -> Adjudication:
        return selectors.adjudication_get(self.request.user, self.kwargs["pk"])

    def _detail(self, request: Request, adj: Adjudication) -> dict:
        reviews = selectors.reviews_visible(request.user, adj)
        return AdjudicationDetailSerializer(adj, context={"request": request, "reviews": reviews}).data

    @extend_schema(responses=AdjudicationDetailSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(self._detail(request, self.get_object()))

    @extend_schema(methods=["GET"], responses=ReviewSerializer)
    @extend_schema(methods=["POST"], request=ReviewInputSerializer, responses=AdjudicationDetailSerializer)
    @action(detail=True, methods=["get", "post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        adj = self.get_object()
        if request.method == "GET":
            review = adj.reviews.select_related("reviewer").filter(round=adj.round, reviewer=request.user).first()
            if review is None:
                raise not_found("review of yours in this round")
            return Response(ReviewSerializer(review).data)
        body = ReviewInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.adjudication_review_submit(actor=request.user, adjudication=adj, data=dict(body.validated_data))
        adj.refresh_from_db()
        return Response(self._detail(request, adj), status=201)

    @extend_schema(responses=ReviewSerializer)
    @action(detail=True, methods=["get"], url_path=r"reviews/(?P<review_id>[0-9]+)", url_name="review-detail")
    def review_detail(self, request: Request, pk: str | None = None, review_id: str | None = None) -> Response:
        adj = self.get_object()
        review = selectors.review_get(request.user, adj, review_id, request=request)
        return Response(ReviewSerializer(review).data)


def register(router) -> None:  # noqa: ANN001
    router.register("sae-reports", SAEReportViewSet, basename="sae-reports")
    router.register("clocks", ClockViewSet, basename="clocks")
    router.register("adjudications", AdjudicationViewSet, basename="adjudications")
