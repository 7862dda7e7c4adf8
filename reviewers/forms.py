"""Forms of the reviewer pool pages (HR): releasing a reviewer's cases and the filters of the lists."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

EXPIRY_WINDOW_DEFAULT = 30
EXPIRY_WINDOW_MAX = 365


class ReleaseAllForm(forms.Form):
    """Release every open case of a reviewer: a reason for the record, and an explicit confirmation."""

    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("Recorded on each case's history, e.g. the reviewer's contract was terminated."),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": _("Say why the reviewer's cases are released.")},
    )
    confirm = forms.BooleanField(
        label=_("I understand that every open case of this reviewer goes back to assignment."),
        error_messages={"required": _("Confirm that every open case goes back to assignment.")},
    )

    def clean_reason(self) -> str:
        # A reason of only spaces would be refused by the service; say so on the field instead.
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the reviewer's cases are released."))
        return reason


class ExpiryWindowForm(forms.Form):
    """``?within=N``: how many days ahead the contracts page looks for contracts ending."""

    within = forms.IntegerField(
        label=_("Ending within (days)"),
        min_value=1,
        max_value=EXPIRY_WINDOW_MAX,
        required=False,
        error_messages={
            "invalid": _("Enter a whole number of days from 1 to 365."),
            "min_value": _("Enter a whole number of days from 1 to 365."),
            "max_value": _("Enter a whole number of days from 1 to 365."),
        },
    )

    def window(self) -> int:
        """The validated window, or the default when none was given (call after ``is_valid``)."""
        return self.cleaned_data.get("within") or EXPIRY_WINDOW_DEFAULT


# The last month whose following month still exists as a date (the certification reads up to it).
LAST_MONTH = dt.date(9999, 11, 1)


class MonthForm(forms.Form):
    """``?month=YYYY-MM``: the month whose fees are certified."""

    month = forms.DateField(
        label=_("Month"),
        help_text=_("As YYYY-MM, e.g. 2026-03."),
        input_formats=["%Y-%m"],
        required=False,
        widget=forms.DateInput(format="%Y-%m", attrs={"inputmode": "numeric", "placeholder": "YYYY-MM"}),
        error_messages={"invalid": _("Enter a month as YYYY-MM, e.g. 2026-03.")},
    )

    def clean_month(self) -> dt.date | None:
        month = self.cleaned_data["month"]
        if month is not None and month > LAST_MONTH:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-03."))
        return month
