from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WorkflowConfig(AppConfig):
    name = "workflow"

    def ready(self) -> None:
        from rebuttal.services import on_transition
        from workflow.letters import request_letter
        from workflow.notifications import notify_transition
        from workflow.pages.work import forget_state_counts
        from workflow.process import follow_transition
        from workflow.roles import ensure_role_groups

        on_transition(follow_transition)
        on_transition(notify_transition)
        on_transition(request_letter)
        on_transition(forget_state_counts)
        # After the permissions exist (auth's own post_migrate runs first).
        post_migrate.connect(ensure_role_groups, sender=self, dispatch_uid="workflow.ensure_role_groups")
