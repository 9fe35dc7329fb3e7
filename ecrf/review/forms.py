"""The review pages' input forms (labels, choices and required fields; the rules are in the services)."""

from __future__ import annotations

from functools import partial

from django import forms
from django.utils.translation import gettext_lazy as _

from ecrf.crf.models import ScopeLevel
from ecrf.review.models import SignatureLevel, SignatureMeaning, meaning_choices


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


class FieldNamesField(forms.Field):
    """The ticked field names (checkboxes named alike); which of them the form has is the
    service's check, so that a name the form lacks gets its specific message."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: object) -> list[str]:
        return [str(v) for v in value or []]


class VerifyForm(forms.Form):
    # The button pressed: the whole form, or the ticked fields ("fields"). Absent: the whole form.
    SCOPE_FORM, SCOPE_FIELDS = "form", "fields"

    form_slug = forms.CharField(widget=forms.HiddenInput)
    form_id = forms.IntegerField(widget=forms.HiddenInput)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    scope = forms.ChoiceField(choices=[(SCOPE_FORM, SCOPE_FORM), (SCOPE_FIELDS, SCOPE_FIELDS)], required=False,
                              widget=forms.HiddenInput)
    fields = FieldNamesField(required=False)


class SignForm(forms.Form):
    meaning = forms.ChoiceField(label=_("Meaning of your signature"), choices=partial(meaning_choices, SignatureLevel.CASEBOOK),
                                initial=SignatureMeaning.APPROVE)
    password = forms.CharField(label=_("Your password (re-enter it to sign)"), widget=forms.PasswordInput, strip=False)
    expected = forms.CharField(widget=forms.HiddenInput)


class FormSignForm(forms.Form):
    """One form's signature: the meaning in the form's words, the password, and the version read."""

    form_slug = forms.CharField(widget=forms.HiddenInput)
    form_id = forms.IntegerField(widget=forms.HiddenInput)
    meaning = forms.ChoiceField(label=_("Meaning of your signature"), choices=partial(meaning_choices, SignatureLevel.FORM),
                                initial=SignatureMeaning.APPROVE)
    password = forms.CharField(label=_("Your password (re-enter it to sign)"), widget=forms.PasswordInput, strip=False)
    expected = forms.CharField(widget=forms.HiddenInput)  # the form's version the signer read
