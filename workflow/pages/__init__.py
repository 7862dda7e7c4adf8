"""The service's web pages, by who uses them (the API covers the same actions).

Every page fetches through a selector that enforces visibility (404 otherwise),
validates a form, calls one action (``workflow.services.case_act`` for anything
that moves a case) and redirects; a refusal becomes a message, never a 500.
"""
