"""Forms of the requester's pages: filing a rebuttal (as a draft, then submitting it) and adding documents.

The forms check the shape of the input; the services check the rules (the
rating scale, dates, the statement's length) and their errors are shown against
the same fields, so a refused form comes back with everything the person typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from rebuttal.models import ContractType, DocumentKind, Language, Office, Policy, RebuttalCase
from rebuttal.serializers import STATEMENT_CEILING


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class IntakeForm(forms.Form):
    """The request a requester files; ``overall_rating`` offers the policy's rating scale."""

    appraisal_cycle = forms.IntegerField(
        label=_("Appraisal cycle (year)"), min_value=2000, max_value=2100, widget=forms.NumberInput()
    )
    overall_rating = forms.ChoiceField(label=_("Overall rating you received"))
    appraisal_signed_on = forms.DateField(
        label=_("Date your appraisal was signed off"),
        help_text=_("The day the appraisal was completed and signed; the filing deadline counts from it."),
        widget=DateInput(),
    )
    first_reporting_officer_email = forms.EmailField(
        label=_("First reporting officer's e-mail"), max_length=254
    )
    second_reporting_officer_email = forms.EmailField(
        label=_("Second reporting officer's e-mail"), max_length=254
    )
    office = forms.CharField(label=_("Your office"), max_length=120)
    region = forms.CharField(label=_("Region"), max_length=120)
    contract_type = forms.ChoiceField(label=_("Type of contract"), choices=ContractType.choices)
    appointment_months = forms.IntegerField(
        label=_("Length of your appointment, in months"),
        help_text=_("Only for a fixed-term appointment."),
        min_value=1,
        max_value=600,
        required=False,
    )
    language = forms.ChoiceField(
        label=_("Language for letters and e-mails"), choices=Language.choices, initial=Language.EN
    )
    statement = forms.CharField(
        label=_("Your statement"),
        help_text=_(
            "Explain why you believe the overall rating does not rest on documented evidence, or how the "
            "appraisal process was not followed. You can attach documents after saving."
        ),
        widget=forms.Textarea(attrs={"rows": 12}),
        required=False,
        strip=False,
        max_length=STATEMENT_CEILING,
    )

    def __init__(self, *args: Any, policy: Policy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.fields["overall_rating"].choices = [("", _("Choose…"))] + [
            (item["key"], _(item["label"])) for item in policy.rating_scale
        ]
        self.fields["statement"].widget.attrs["maxlength"] = policy.statement_max_chars
        self.fields["statement"].help_text = _("%(help)s At most %(count)s characters.") % {
            "help": self.fields["statement"].help_text,
            "count": number_format(policy.statement_max_chars, force_grouping=True),
        }
        offices = list(Office.objects.order_by("name").values_list("name", "region"))
        if offices:
            self.fields["office"].widget = forms.Select(
                choices=[("", _("Choose…"))] + [(name, name) for name, _region in offices]
            )
            regions = sorted({region for _name, region in offices if region})
            if regions:
                self.fields["region"].widget = forms.Select(
                    choices=[("", _("Choose…"))] + [(region, region) for region in regions]
                )
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{name}-hint"

    def service_data(self) -> dict[str, Any]:
        """The cleaned values as the case services take them."""
        data = dict(self.cleaned_data)
        data["original_rating"] = data.pop("overall_rating")
        return data

    def filing_deadline(self) -> dt.date | None:
        """The last day to file, from the sign-off date entered (shown beside the field)."""
        signed = self.cleaned_data.get("appraisal_signed_on") if hasattr(self, "cleaned_data") else None
        if signed is None and self.initial.get("appraisal_signed_on"):
            signed = self.initial["appraisal_signed_on"]
        if not isinstance(signed, dt.date):
            return None
        return signed + dt.timedelta(days=self.policy.filing_window_days)

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message)

    @staticmethod
    def initial_from(case: RebuttalCase) -> dict[str, Any]:
        return {
            "appraisal_cycle": case.appraisal_cycle,
            "overall_rating": case.original_rating,
            "appraisal_signed_on": case.appraisal_signed_on,
            "first_reporting_officer_email": case.first_reporting_officer_email,
            "second_reporting_officer_email": case.second_reporting_officer_email,
            "office": case.office,
            "region": case.region,
            "contract_type": case.contract_type,
            "appointment_months": case.appointment_months,
            "language": case.language,
            "statement": case.statement,
        }

    @staticmethod
    def blank_initial(user: Any) -> dict[str, Any]:
        today = timezone.localdate()
        return {"appraisal_cycle": today.year - (1 if today.month < 4 else 0), "language": Language.EN}


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it?"), choices=DocumentKind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, Word (.docx), PNG or JPEG."),
        allow_empty_file=True,
    )


class ReasonForm(forms.Form):
    """A transition that needs a reason or comment."""

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
