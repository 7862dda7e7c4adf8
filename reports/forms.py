"""The dashboard's filters: a period (``from``/``to``, as the summary API names them) and the case filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rebuttal.models import ContractType
from reports.figures import Scope


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last twelve months: from the day after today a year ago, to today."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return year_ago + dt.timedelta(days=1), today


class ReportFilterForm(forms.Form):
    """``?from=&to=&office=&region=&cycle=&contract_type=``; every field may be left out."""

    office = forms.CharField(label=_("Office"), required=False, max_length=120)
    region = forms.CharField(label=_("Region"), required=False, max_length=120)
    cycle = forms.IntegerField(
        label=_("Appraisal cycle"),
        required=False,
        min_value=1900,
        max_value=9999,
        error_messages={"invalid": _("Enter a year, e.g. 2026.")},
    )
    contract_type = forms.ChoiceField(
        label=_("Contract type"),
        required=False,
        choices=[("", _("Any")), *ContractType.choices],
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        start, end = default_period(today)
        # "from" is a Python keyword, so the period's fields are added here rather than declared.
        dates = {
            "from": forms.DateField(
                label=_("From"),
                required=False,
                help_text=_("YYYY-MM-DD; twelve months ago if left empty."),
                error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
                widget=forms.DateInput(attrs={"type": "date"}),
            ),
            "to": forms.DateField(
                label=_("To"),
                required=False,
                help_text=_("YYYY-MM-DD; today if left empty."),
                error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
                widget=forms.DateInput(attrs={"type": "date"}),
            ),
        }
        dates["from"].initial, dates["to"].initial = start, end
        self.fields = {**dates, **self.fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            self.add_error("to", _("The period must end on or after the day it starts."))
        return data

    def scope(self) -> Scope:
        """The chosen scope; the last twelve months without filters when the form is invalid."""
        start, end = default_period(self.today)
        if not self.is_valid():
            return Scope(start=start, end=end)
        data = self.cleaned_data
        chosen_start = data.get("from")
        chosen_end = data.get("to")
        if chosen_start and not chosen_end:
            chosen_end = max(chosen_start, end)
        if chosen_end and not chosen_start:
            chosen_start = min(chosen_end, start)
        return Scope(
            start=chosen_start or start,
            end=chosen_end or end,
            office=data.get("office") or None,
            region=data.get("region") or None,
            cycle=data.get("cycle"),
            contract_type=data.get("contract_type") or None,
        )
