"""Query pages (server-rendered, no JavaScript needed): the data team's inbox with filters, counts
and bulk actions, the aging picture, the check catalogue, the check runs with an on-demand run,
the site's query list, the query page with its thread and actions, and raising a query on a form.
Thin adapters over ``ecrf.queries.services`` and ``selectors``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecrf.accounts.models import User
from ecrf.accounts.roles import Role, user_roles
from ecrf.core.errors import DomainError, forbidden
from ecrf.crf.checks import all_checks
from ecrf.crf.registry import all_specs, spec_for_slug
from ecrf.crf.selectors import can_read_forms, form_get
from ecrf.queries import services
from ecrf.queries.errors import QueryError
from ecrf.queries.labels import field_label, form_label
from ecrf.queries.models import UNRESOLVED_STATES, QueryState
from ecrf.queries.selectors import (
    AGE_BANDS,
    CATALOGUE_ROLES,
    DATA_TEAM_ROLES,
    QUERY_ROLES,
    RUN_ROLES,
    SITE_ANSWER_ROLES,
    aging,
    check_run_get,
    check_runs_for,
    filter_queries,
    is_data_team,
    messages_for,
    queries_for,
    query_counts,
    query_get,
    site_answerers,
)

PAGE_SIZE = 50


def _require(request: HttpRequest, roles: frozenset[str], what: str) -> None:
    if not user_roles(request.user) & roles:
        raise forbidden(what)


class FilterForm(forms.Form):
    site = forms.CharField(label=gettext_lazy("Site code"), required=False)
    form = forms.ChoiceField(label=gettext_lazy("Form"), required=False)
    check = forms.CharField(label=gettext_lazy("Edit check (code, or 'manual')"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False,
                              choices=[("", gettext_lazy("Any"))] + list(QueryState.choices))
    draft = forms.ChoiceField(label=gettext_lazy("Draft"), required=False,
                              choices=[("", gettext_lazy("Any")), ("yes", gettext_lazy("Drafts only")),
                                       ("no", gettext_lazy("Released only"))])
    min_age = forms.IntegerField(label=gettext_lazy("Open at least (days)"), required=False, min_value=0)
    max_age = forms.IntegerField(label=gettext_lazy("Open at most (days)"), required=False, min_value=0)
    participant = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keys = sorted({c.form for c in all_checks()})
        self.fields["form"].choices = [("", _("Any"))] + [(k, form_label(k)) for k in keys]

    def clean_form(self) -> str:
        return self.data.get("form", "")  # any form key filters; the choices only suggest


class BulkForm(forms.Form):
    ACTIONS = (("release", gettext_lazy("Release the selected drafts to the site")),
               ("close", gettext_lazy("Close the selected queries")))
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=ACTIONS)
    text = forms.CharField(label=gettext_lazy("Reason (needed to close)"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


def _query_rows(page: Any, now: Any) -> list[dict[str, Any]]:
    return [{"q": q, "form": form_label(q.form_key), "field": field_label(q.form_key, q.field),
             "days": (now - q.opened_at).days} for q in page]


def _querystring(request: HttpRequest, **change: Any) -> str:
    params = {k: v for k, v in request.GET.items() if v != "" and k != "page"}
    params.update({k: v for k, v in change.items() if v is not None})
    return urlencode(params)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The data team's queries with filters and counts; POST applies a bulk action."""
    _require(request, DATA_TEAM_ROLES, _("The query inbox is the data team's."))
    bulk = BulkForm(request.POST or None)
    error, status = None, 200
    if request.method == "POST":
        ids = [int(x) for x in request.POST.getlist("selected") if x.isdigit()]
        if bulk.is_valid():
            try:
                if bulk.cleaned_data["action"] == "release":
                    done = services.query_release_many(actor=request.user, query_ids=ids)
                    messages.success(request, _("%(n)d queries released to the site.") % {"n": len(done)})
                else:
                    done = services.query_close_many(actor=request.user, query_ids=ids, text=bulk.cleaned_data["text"])
                    messages.success(request, _("%(n)d queries closed.") % {"n": len(done)})
            except DomainError as exc:
                # The inbox again, with what went wrong and its status; nothing was changed.
                error, status = exc.message, exc.status
            else:
                return redirect(f"{request.path}?{request.POST.get('back', '')}")
        else:
            error, status = _("Choose an action."), 400
    filters = FilterForm(request.GET or None)
    params = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    now = timezone.now()
    qs = filter_queries(queries_for(request.user), {k: ("" if v is None else str(v)) for k, v in params.items()}, now=now)
    counts = query_counts(qs)
    page = Paginator(qs.order_by("opened_at", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "queries/inbox.html", {
        "filters": filters, "bulk": bulk, "error": error, "page": page, "rows": _query_rows(page, now), "counts": counts,
        "form_labels": {k: form_label(k) for k, _n in counts.by_form},
        "state_labels": dict(QueryState.choices), "querystring": _querystring(request)}, status=status)


@login_required
def site_list(request: HttpRequest) -> HttpResponse:
    """The site's released queries: open ones first (what waits for the site's answer)."""
    _require(request, SITE_ANSWER_ROLES, _("This list is the site staff's; the data team uses the query inbox."))
    state = request.GET.get("state", "open")
    qs = queries_for(request.user).filter(released_at__isnull=False)
    if state in QueryState.values:
        qs = qs.filter(state=state)
    now = timezone.now()
    page = Paginator(qs.order_by("opened_at", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "queries/site_list.html", {"page": page, "rows": _query_rows(page, now), "state": state,
                                                      "states": QueryState.choices,
                                                      "querystring": _querystring(request)})


class TextForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Text"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


# The actions of the query page (POST ``action``): the service each calls.
_ACTIONS = {
    "answer": services.query_answer, "message": services.query_message, "release": services.query_release,
    "close": services.query_close, "reopen": services.query_reopen, "cancel": services.query_cancel,
}
_TAKES_TEXT = {"answer", "message", "close", "reopen", "cancel"}
_BUTTONS = {"answer": gettext_lazy("Answer"), "message": gettext_lazy("Add a message"),
            "release": gettext_lazy("Release to the site"), "close": gettext_lazy("Close"),
            "reopen": gettext_lazy("Reopen"), "cancel": gettext_lazy("Cancel the query")}


def _available(user: Any, query: Any) -> list[str]:
    roles = user_roles(user)
    unresolved = query.state in (QueryState.OPEN, QueryState.ANSWERED)
    out = []
    if roles & SITE_ANSWER_ROLES and query.state == QueryState.OPEN and not query.is_draft:
        out.append("answer")
    if unresolved:
        out.append("message")
    if roles & DATA_TEAM_ROLES:
        if query.is_draft and unresolved:
            out.append("release")
        if unresolved and not query.is_draft:
            out.append("close")
        if query.state in (QueryState.ANSWERED, QueryState.CLOSED):
            out.append("reopen")
        if unresolved:
            out.append("cancel")
    return out




def _assign_choices(query: Any) -> list[tuple[str, str]]:
    """Who the data team may assign ``query`` to: the site's answering roles, then each person."""
    labels = dict(Role.choices)
    people = site_answerers(query.participant.site_id).order_by("last_name", "username")
    return ([("", _("The site's investigators and coordinators"))]
            + [(f"role:{r}", _("Any %(role)s of the site") % {"role": str(labels[r]).lower()}) for r in sorted(SITE_ANSWER_ROLES)]
            + [(f"user:{u.pk}", u.get_full_name() or u.get_username()) for u in people])


def _assignment(value: str, query: Any) -> dict[str, Any]:
    kind, _sep, key = value.partition(":")
    if kind == "role":
        return {"role": key}
    if kind == "user" and key.isdigit():
        user = User.objects.filter(pk=int(key)).first()
        if user is None:
            raise DomainError(QueryError.BAD_ASSIGNEE, _("No such person."))
        return {"assignee": user}
    if value:
        raise DomainError(QueryError.BAD_ASSIGNEE, _("Choose a person or a role from the list."))
    return {}


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A query, its thread and the actions the viewer may take (POST ``action`` + ``text``)."""
    _require(request, QUERY_ROLES, _("Your role does not work with data queries."))
    query = query_get(request.user, pk)
    error, status = None, 200
    if request.method == "POST" and request.POST.get("action") == "assign":
        try:
            services.query_assign(actor=request.user, query=query, **_assignment(request.POST.get("assignee", ""), query))
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("The query's assignment is saved."))
            return redirect("queries:detail", pk=query.pk)
    elif request.method == "POST":
        name = request.POST.get("action", "")
        if name not in _ACTIONS:
            error, status = _("Choose an action."), 400
        else:
            service = _ACTIONS[name]
            kwargs = {"text": request.POST.get("text", "")} if name in _TAKES_TEXT else {}
            try:
                service(actor=request.user, query=query, **kwargs)
            except DomainError as exc:
                error, status = exc.message, exc.status  # shown on the page; nothing was changed
            else:
                messages.success(request, _("Done: %(action)s.") % {"action": name})
                return redirect("queries:detail", pk=query.pk)
    available = _available(request.user, query)
    form_url = None
    spec = next((s for s in all_specs() if s.key == query.form_key), None)
    if query.form_id is not None and spec is not None and can_read_forms(request.user, spec):
        form_url = reverse("crf:form-detail", kwargs={"slug": spec.slug, "form_id": query.form_id})
    return render(request, "queries/detail.html", {
        "query": query, "thread": messages_for(request.user, query), "form_label": form_label(query.form_key),
        "field_label": field_label(query.form_key, query.field), "form_url": form_url, "error": error,
        "actions": [(n, _BUTTONS[n]) for n in available], "text_form": TextForm(request.POST or None),
        "data_team": is_data_team(request.user),
        "assign_choices": _assign_choices(query) if is_data_team(request.user) and query.state in UNRESOLVED_STATES else [],
        "assigned": f"user:{query.assignee_id}" if query.assignee_id else (f"role:{query.assignee_role}" if query.assignee_role else "")},
        status=status)


class RaiseForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("Field"), required=False)
    text = forms.CharField(label=gettext_lazy("Question for the site"), widget=forms.Textarea(attrs={"rows": 3}),
                           required=False)


@login_required
def raise_query(request: HttpRequest, slug: str, form_id: int) -> HttpResponse:
    """Raise a query by hand on a field (or the whole) of a form the viewer may read: a draft."""
    _require(request, DATA_TEAM_ROLES, _("Only data managers and monitors raise queries."))
    spec = spec_for_slug(slug)
    if spec is None:
        raise Http404(_("No such form."))
    form_obj = form_get(request.user, spec, form_id)
    choices = [("", _("The whole form"))] + [(n, field_label(spec.key, n)) for n in (*spec.fields, *spec.derived_fields)]
    raise_form = RaiseForm(request.POST or None, initial={"field": request.GET.get("field", "")})
    raise_form.fields["field"].choices = choices
    status = 200
    if request.method == "POST" and raise_form.is_valid():
        try:
            query = services.query_raise(actor=request.user, spec=spec, form=form_obj,
                                         field=raise_form.cleaned_data["field"], text=raise_form.cleaned_data["text"])
        except DomainError as exc:
            raise_form.add_error("text" if "text" in exc.fields else None, exc.message)
            status = exc.status
        else:
            messages.success(request, _("Draft query #%(pk)d raised; release it to send it to the site.") % {"pk": query.pk})
            return redirect("queries:detail", pk=query.pk)
    return render(request, "queries/raise.html", {"spec": spec, "form_obj": form_obj, "raise_form": raise_form},
                  status=status)


@login_required
def aging_page(request: HttpRequest) -> HttpResponse:
    """Unresolved queries by age band and site: an SVG bar chart drawn on the server, and the table."""
    _require(request, DATA_TEAM_ROLES, _("The aging picture is the data team's."))
    rows = aging(request.user)
    labels = [label for label, _low, _high in AGE_BANDS]
    colours = ["#9ecae1", "#4292c6", "#fd8d3c", "#d94801"]
    peak = max([n for r in rows for _l, n in r["bands"]] + [1])
    bar_h, gap, width = 18, 6, 420
    bars = []
    y = 0
    for r in rows:
        for i, (label, n) in enumerate(r["bands"]):
            bars.append({"y": y, "w": round(width * n / peak), "n": n, "label": label, "site": r["site"],
                         "colour": colours[i]})
            y += bar_h
        y += gap * 2
    return render(request, "queries/aging.html", {"rows": rows, "labels": labels, "bars": bars, "height": max(y, 20),
                                                  "bar_h": bar_h - 2, "legend": list(zip(labels, colours, strict=True)),
                                                  "total_w": width + 160})


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    _require(request, CATALOGUE_ROLES, _("The check catalogue is the data team's."))
    checks = [{"c": c, "form": form_label(c.form), "fields": [field_label(c.form, f) for f in c.fields]}
              for c in all_checks()]
    return render(request, "queries/catalogue.html", {"checks": checks})


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    """The check runs; POST requests an on-demand run of every check (its page shows the progress)."""
    _require(request, RUN_ROLES, _("Only data managers run the edit checks."))
    if request.method == "POST":
        try:
            run = services.check_run_request(actor=request.user)
        except DomainError as exc:
            return render(request, "queries/runs.html", {"page": Paginator(check_runs_for(request.user), PAGE_SIZE)
                                                         .get_page(1), "error": exc.message}, status=exc.status)
        messages.success(request, _("Check run #%(pk)d queued.") % {"pk": run.pk})
        return redirect("queries:run-detail", pk=run.pk)
    page = Paginator(check_runs_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "queries/runs.html", {"page": page, "querystring": ""})


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, RUN_ROLES, _("Only data managers run the edit checks."))
    run = check_run_get(request.user, pk)
    results = sorted(run.results.items())
    return render(request, "queries/run_detail.html", {"run": run, "results": results,
                                                       "refresh": run.state in ("queued", "running")})
