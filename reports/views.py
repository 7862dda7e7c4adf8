"""Pages of the reports app: downloading an issued letter, the HR dashboard and its CSV exports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rebuttal import permissions
from rebuttal.downloads import attachment
from rebuttal.exceptions import CaseNotFound
from rebuttal.services import case_record_access
from reports import charts, exports, figures, selectors
from reports.figures import Scope
from reports.forms import ReportFilterForm
from reports.management_report import management_report_pdf
from reports.stage_figures import stage_label

# The languages the management report is written in.
LANGUAGES = ("en", "fr", "es")


@login_required
def letter_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter's PDF exactly as archived; the download is written to the case's access log."""
    try:
        letter = selectors.letter_get_visible(user=request.user, pk=pk)
    except CaseNotFound as exc:
        raise Http404(str(exc)) from None
    case_record_access(
        case=letter.case,
        actor=request.user,
        what=f"letter:{letter.pk}",
        client_ip=request.META.get("REMOTE_ADDR") or None,
    )
    response = attachment(bytes(letter.pdf), filename=letter.filename, content_type="application/pdf")
    response["X-Content-SHA256"] = letter.sha256
    return response


# --- the dashboard and its CSV exports (HR) ---------------------------------------


def _require_hr(request: HttpRequest) -> None:
    """HR specialists and administrators only: the dashboard shows exact numbers."""
    if not permissions.is_hr(request.user):
        raise PermissionDenied


def _filter_form(request: HttpRequest) -> ReportFilterForm:
    """The filters from the query string; unbound (the defaults) when there are none."""
    return ReportFilterForm(request.GET or None, today=timezone.localdate())


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _charts(data: dict[str, Any], by_month: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dashboard's four charts, each with an id for its heading and its numbers as a table."""
    stages = data["stage_durations"]
    durations = charts.line_chart(
        _("Days per stage: median and 90th percentile"),
        {
            _("Median"): [
                (stage_label(s["stage"]), s["median_days"]) for s in stages if s["median_days"] is not None
            ],
            _("90th percentile"): [
                (stage_label(s["stage"]), s["p90_days"]) for s in stages if s["p90_days"] is not None
            ],
        },
        unit=_("days"),
        x_label=_("Stage"),
    )
    outcomes = charts.stacked_bar_chart(
        _("Outcomes per month"),
        {
            _("Maintained"): [(row["month"], row["maintained"]) for row in by_month],
            _("Revised"): [(row["month"], row["revised"]) for row in by_month],
        },
        unit=_("cases"),
        x_label=_("Month decided"),
    )
    ages = charts.bar_chart(
        _("Open cases by age"),
        list(data["open_cases"]["by_age"].items()),
        unit=_("cases"),
        x_label=_("Days since submission"),
        y_label=_("Open cases"),
    )
    within = charts.bar_chart(
        _("Share of visits within the stage target"),
        [(stage_label(s["stage"]), _percent(s["share"])) for s in stages if s["share"] is not None],
        unit="%",
        x_label=_("Stage"),
        y_label=_("Within target (%)"),
    )
    return [
        {"id": "chart-durations", "title": _("Days per stage"), "chart": durations},
        {"id": "chart-outcomes", "title": _("Outcomes over time"), "chart": outcomes},
        {"id": "chart-open", "title": _("Open cases by age"), "chart": ages},
        {"id": "chart-within", "title": _("Service target compliance"), "chart": within},
    ]


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The figures of a period as charts (inline SVG) with their tables; a bad filter shows the defaults."""
    _require_hr(request)
    form = _filter_form(request)
    scope = form.scope()
    data = exports.summary_figures(scope=scope, today=form.today)
    query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    context = {
        "form": form,
        "scope": scope,
        "data": data,
        "charts": _charts(data, figures.outcomes_by_month(scope=scope)),
        "query": query,
    }
    return render(request, "reports/dashboard.html", context)


def _bad_filters(form: ReportFilterForm) -> HttpResponse:
    """A download asked for with bad filters: 400 naming each field, as plain text."""
    errors = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in form.errors.items())
    return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")


def _csv(request: HttpRequest, name: str, build: Callable[[Scope], str]) -> HttpResponse:
    _require_hr(request)
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        return _bad_filters(form)
    scope = form.scope()
    content = build(scope).encode("utf-8")
    filename = f"{name}-{scope.start.isoformat()}-{scope.end.isoformat()}.csv"
    return attachment(content, filename=filename, content_type="text/csv; charset=utf-8")


@login_required
@require_GET
def cases_csv(request: HttpRequest) -> HttpResponse:
    """One row per case received in the period (no statement, no names)."""
    return _csv(request, "cases", lambda scope: exports.cases_csv(scope=scope))


@login_required
@require_GET
def figures_csv(request: HttpRequest) -> HttpResponse:
    """The summary as key/value rows; ``?suppressed=1`` gives the management version."""
    suppressed = request.GET.get("suppressed") == "1"
    today = timezone.localdate()
    return _csv(
        request,
        "figures-management" if suppressed else "figures",
        lambda scope: exports.figures_csv(scope=scope, today=today, suppressed=suppressed),
    )


@login_required
@require_GET
def corrected_ratings_csv(request: HttpRequest) -> HttpResponse:
    """Revised ratings decided in the period, for the HR system of record."""
    return _csv(request, "corrected-ratings", lambda scope: exports.corrected_ratings_csv(scope=scope))


@login_required
@require_GET
def management_report(request: HttpRequest) -> HttpResponse:
    """The management report of the dashboard's period and filters, as a PDF, in the page's language."""
    _require_hr(request)
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        return _bad_filters(form)
    scope = form.scope()
    language = translation.get_language() if translation.get_language() in LANGUAGES else "en"
    pdf = management_report_pdf(scope=scope, language=language, today=form.today)
    filename = f"management-report-{scope.start.isoformat()}-{scope.end.isoformat()}-{language}.pdf"
    return attachment(pdf, filename=filename, content_type="application/pdf")
