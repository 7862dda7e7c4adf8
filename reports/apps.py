from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Letters and reports"

    def ready(self) -> None:
        from rebuttal.services import on_transition
        from reports import checks  # noqa: F401  (registers system checks)
        from reports.stage_visits import record_report_rows

        on_transition(record_report_rows)
