"""The casebook grid's dosing cells and the participant page's header and schedule groups."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from ecrf.accounts.roles import Role
from ecrf.crf.services import form_create
from ecrf.dosing.specs import ADMINISTRATION
from tests.safety import conftest as safety_fixtures
from tests.safety.conftest import SERIOUS, ae_data
from tests.support.times import athens, iv

pytestmark = pytest.mark.django_db
meddra = safety_fixtures.meddra


def html_of(user, url: str) -> str:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def dose_cells(html: str) -> list[str]:
    """The IV row's dosing cells, day by day: the summary's text and its state class."""
    row = html.split('data-row="dosing.administration:iv"')[1].split("</tr>")[0]
    return [f"{state} {text}" for state, text in
            re.findall(r'<span class="st dose-sum st-tone-[a-z]+ state-([a-z_]+)">.*?</span>(\d+/\d+)', row)]


def test_a_days_doses_are_one_cell_entered_over_expected_in_the_state_that_needs_attention(coordinator, randomized):
    # Randomized 2025-03-10 10:00 Athens, first dose 10:30: IV doses 1-2 fall on day 1, 3-5 on day 2.
    first = athens(2025, 3, 10, 10, 30)
    for n in (1, 2, 3):
        form_create(actor=coordinator, spec=ADMINISTRATION, participant=randomized, submit=True,
                    data=iv(first + dt.timedelta(hours=8 * (n - 1)), n))
    html = html_of(coordinator, f"/participants/{randomized.pk}/casebook/")
    cells = dose_cells(html)
    assert cells[:2] == ["entered 2/2", "overdue 1/3"]
    # Each dose stays one click away, in the cell's detail, with its own state and link.
    day_2 = html.split('data-row="dosing.administration:iv"')[1].split("</td>")[1]
    assert day_2.count("Dose ") == 3 and "route=iv&amp;dose_number=4" in day_2 and "state-overdue" in day_2
    # The legend draws every state with the same swatch class as the cells.
    legend = html.split('class="legend"')[1]
    assert 'st-tone-danger state-overdue' in legend and 'st-tone-success state-entered' in legend


def test_participant_page_offers_only_the_actions_that_apply_now(coordinator, participant_a, randomized):
    before = html_of(coordinator, f"/participants/{participant_a.pk}/")
    # Not randomized yet: no death, infection or dosing entry; the screening forms have their pages.
    assert "New Death" not in before and "Record a new infection" not in before
    assert "New Administration" not in before and 'data-testid="group-screening"' in before
    after = html_of(coordinator, f"/participants/{randomized.pk}/")
    assert "New Death" in after and "Record a new infection" in after and "New New" not in after
    groups = re.findall(r'data-testid="group-([a-z_]+)"', after)
    assert groups == ["screening", "treatment", "follow_up", "any_time"]
    treatment = after.split('data-testid="group-treatment"')[1].split("</section>")[0]
    assert "SOFA day" in treatment and "Administration" in treatment and "Adverse event" not in treatment


def test_participant_header_names_phenotype_study_day_and_alerts(users, coordinator, randomized, meddra):
    def head_of(user) -> str:  # noqa: ANN001
        html = html_of(user, f"/participants/{randomized.pk}/")
        return html.split('data-testid="participant-head"')[1].split("</header>")[0]

    head = head_of(coordinator)
    assert randomized.subject_id in head and "Site A" in head
    assert re.search(r'data-testid="fact-phenotype">[A-Za-z]', head)
    # The screening outcome names the phenotype by its label, not its stored code.
    outcome = re.search(r'data-testid="phenotype">(.*?)</dd>', html_of(coordinator, f"/participants/{randomized.pk}/")).group(1)
    assert outcome.startswith(("MALS (macrophage activation-like syndrome)", "Immunoparalysis")), outcome
    assert re.search(r'data-testid="fact-study-day">\d+<', head)
    # No dose was ever logged for a participant randomized in 2025: every dose is past its window.
    assert re.search(r"\d+ doses past their window", head)
    assert "reporting clock" not in head
    form_create(actor=users[Role.INVESTIGATOR], spec=safety_fixtures.AE_SPEC, participant=randomized,
                data=ae_data(**SERIOUS), submit=True)
    head = head_of(coordinator)
    assert re.search(r"SAE reporting:</strong> <a class=\"alert-link\" href=\"/safety/\?serious=1\">\d reporting clock", head)
    # A pharmacist reads the participant but not its safety data: no clock alert.
    assert "reporting clock" not in head_of(users[Role.PHARMACIST])


def test_after_a_death_the_header_shows_the_day_of_death_not_todays_study_day(coordinator, randomized):
    from ecrf.outcomes.specs import DEATH
    from ecrf.schedule.timeline import study_day

    died_at = randomized.randomized_at + dt.timedelta(days=4)
    form_create(actor=coordinator, spec=DEATH, participant=randomized, submit=True,
                data={"died_at": died_at, "cause": "Septic shock"})
    html = html_of(coordinator, f"/participants/{randomized.pk}/")
    head = html.split('data-testid="participant-head"')[1].split("</header>")[0]
    assert 'data-testid="fact-study-day"' not in head
    day = study_day(died_at, randomized_at=randomized.randomized_at, tz=randomized.site.time_zone)
    assert f'data-testid="fact-day-of-death">{day}<' in head and ">Died<" in head
