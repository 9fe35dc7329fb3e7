"""The review pages' input forms (labels, choices and required fields; the rules are in the services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ecrf.crf.models import ScopeLevel
from ecrf.review.models import SignatureMeaning


class ScopeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Action"), choices=[("freeze", _("Freeze (no edits; review goes on)")),
                                                          ("lock", _("Lock (no change until an audited unlock)"))])
    level = forms.ChoiceField(label=_("Level"), choices=ScopeLevel.choices)
    site = forms.ChoiceField(label=_("Site (site level)"), required=False)
    participant = forms.ChoiceField(label=_("Participant (participant level)"), required=False)
    form_ref = forms.CharField(label=_("Form (form level): its type and number, e.g. sofa/12"), required=False, max_length=120)
    reason = forms.CharField(label=_("Reason or label"), max_length=500)

    def __init__(self, *args, sites=(), participants=(), **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "—")] + [(str(s.pk), f"{s.code} {s.name}") for s in sites]
        self.fields["participant"].choices = [("", "—")] + [(str(p.pk), f"{p.label} ({p.site.code})") for p in participants]


class UnlockForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the unlock"), max_length=500)


class VerifyForm(forms.Form):
    form_slug = forms.CharField(widget=forms.HiddenInput)
    form_id = forms.IntegerField(widget=forms.HiddenInput)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class SignForm(forms.Form):
    meaning = forms.ChoiceField(label=_("Meaning of your signature"), choices=SignatureMeaning.choices,
                                initial=SignatureMeaning.APPROVE)
    password = forms.CharField(label=_("Your password (re-enter it to sign)"), widget=forms.PasswordInput, strip=False)
    expected = forms.CharField(widget=forms.HiddenInput)
