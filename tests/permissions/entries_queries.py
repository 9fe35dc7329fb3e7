"""The queries URLs. ARCHITECTURE.md "Roles": monitors (assigned sites) and data managers (all
sites) raise queries; data managers close them and run the checks; investigators and coordinators
answer them at their own site and see only the queries released to it (a draft is the data team's)."""

from __future__ import annotations

from ecrf.accounts.services import user_create
from ecrf.queries.models import CheckRun, RunState, RunTrigger
from ecrf.queries.services import query_answer, query_raise, query_release
from tests.permissions.matrix import Check, Fixtures, Own, api, check, pk_of
from tests.testapp.specs import VITALS

TEXT = {"text": "Permission matrix check"}


def build(fx: Fixtures) -> None:
    dm, _ = user_create(actor=None, username="matrix-queries-dm", roles=["data_manager"], site_codes=[],
                        password="Matrix-Password-2026")
    made: dict[str, dict[str, object]] = {"released": {}, "draft": {}, "answered": {}}
    for where in ("own", "other"):
        form = fx.get("vitals", where)
        released = query_raise(actor=dm, spec=VITALS, form=form, field="heart_rate", text=f"MXQ-released-{where}")
        made["released"][where] = query_release(actor=dm, query=released)
        made["draft"][where] = query_raise(actor=dm, spec=VITALS, form=form, field="", text=f"MXQ-draft-{where}")
        answered = query_release(actor=dm, query=query_raise(actor=dm, spec=VITALS, form=form, field="temperature",
                                                             text=f"MXQ-answered-{where}"))
        made["answered"][where] = query_answer(actor=fx.get("author", where), query=answered, text="Checked.")
    for name, objects in made.items():
        fx.add(f"query_{name}", objects["own"], objects["other"])
    run = CheckRun.objects.create(trigger=RunTrigger.BEAT, state=RunState.DONE)
    fx.add("check_run", run, run)


def released_text(fx: Fixtures, where: str) -> str:
    return f"MXQ-released-{where}"


def released_pair(fx: Fixtures, where: str) -> tuple[str, str]:
    return ("text", f"MXQ-released-{where}")


# Who sees a released query: the data team and the site's own staff.
SEES_RELEASED = {"data_manager": 200, "monitor": Own(200), "investigator": Own(200), "coordinator": Own(200)}
DATA_TEAM = {"data_manager": 200, "monitor": Own(200)}
# Site staff may see the query but the data team's actions are not theirs: 403 at their own site.
SITE_REFUSED = {"investigator": Own(403), "coordinator": Own(403)}


def data_team_action(code: int) -> Check:
    return api({"data_manager": code, "monitor": Own(code), **SITE_REFUSED}, kwargs=pk_of("query_released"),
               body=lambda fx, w, u: TEXT)


def vitals_form(fx, where, user):  # noqa: ANN001, ANN201
    return {"slug": VITALS.slug, "form_id": fx.get("vitals", where).pk}


def page_action(fx, where, user):  # noqa: ANN001, ANN201
    """The answer for site staff, closing for the data team."""
    site = {g.name for g in user.groups.all()} & {"investigator", "coordinator"}
    return {"action": "answer" if site else "close", **TEXT}


RULES: dict[str, dict[str, Check]] = {
    # --- API ---
    "query-list": {
        "get": api(SEES_RELEASED, shows=released_pair),
        "post": api({"data_manager": 201, "monitor": Own(201), **SITE_REFUSED},
                    body=lambda fx, w, u: {"form": "testapp.vitals", "form_id": fx.get("vitals", w).pk,
                                           "field": "notes", "text": "New matrix query"}),
    },
    "query-detail": {"get": api(SEES_RELEASED, kwargs=pk_of("query_released"))},
    # A draft is invisible to site staff: the same 404 as a missing query.
    "query-release": {"post": api({"data_manager": 200, "monitor": Own(200), "investigator": 404,
                                   "coordinator": 404}, kwargs=pk_of("query_draft"))},
    "query-answer": {"post": api({"investigator": Own(200), "coordinator": Own(200), "data_manager": 403,
                                  "monitor": Own(403)}, kwargs=pk_of("query_released"), body=lambda fx, w, u: TEXT)},
    "query-close": {"post": data_team_action(200)},
    "query-assign": {"post": api({"data_manager": 200, "monitor": Own(200), **SITE_REFUSED}, kwargs=pk_of("query_released"),
                                 body=lambda fx, w, u: {"role": "coordinator"})},
    "query-cancel": {"post": data_team_action(200)},
    "query-reopen": {"post": api({"data_manager": 200, "monitor": Own(200), **SITE_REFUSED},
                                 kwargs=pk_of("query_answered"), body=lambda fx, w, u: TEXT)},
    "query-messages": {
        "get": api(SEES_RELEASED, kwargs=pk_of("query_released")),
        "post": api({k: (Own(201) if isinstance(v, Own) else 201) for k, v in SEES_RELEASED.items()},
                    kwargs=pk_of("query_released"), body=lambda fx, w, u: TEXT),
    },
    "check-run-list": {"get": api({"data_manager": 200}), "post": api({"data_manager": 202})},
    "check-run-detail": {"get": api({"data_manager": 200}, kwargs=pk_of("check_run"), per_site=False)},
    "check-list": {"get": api({"data_manager": 200, "monitor": 200})},
    # --- pages ---
    "queries:inbox": {
        "get": check(DATA_TEAM, shows=released_text),
        "post": check({"data_manager": 302, "monitor": Own(302)},
                      body=lambda fx, w, u: {"action": "release", "selected": [fx.get("query_draft", w).pk]}),
    },
    "queries:site-list": {"get": check({"investigator": Own(200), "coordinator": Own(200)}, shows=released_text)},
    "queries:aging": {"get": check({"data_manager": 200, "monitor": 200})},
    "queries:catalogue": {"get": check({"data_manager": 200, "monitor": 200})},
    "queries:runs": {"get": check({"data_manager": 200}), "post": check({"data_manager": 302})},
    "queries:run-detail": {"get": check({"data_manager": 200}, kwargs=pk_of("check_run"), per_site=False)},
    "queries:detail": {
        "get": check(SEES_RELEASED, kwargs=pk_of("query_released")),
        "post": check({k: (Own(302) if isinstance(v, Own) else 302) for k, v in SEES_RELEASED.items()},
                      kwargs=pk_of("query_released"), body=page_action),
    },
    "queries:raise": {
        "get": check(DATA_TEAM, kwargs=vitals_form),
        "post": check({"data_manager": 302, "monitor": Own(302)}, kwargs=vitals_form,
                      body=lambda fx, w, u: {"field": "notes", "text": "Matrix raise"}),
    },
}
