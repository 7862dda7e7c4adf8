from django.apps import AppConfig


class RebuttalConfig(AppConfig):
    name = "rebuttal"
    verbose_name = "Rebuttal cases"

    def ready(self) -> None:
        from rebuttal import checks  # noqa: F401  (registers system checks)
