"""The forms of the actions offered on a case page, one per transition a person performs.

Each form carries the case ``version`` the person saw (a hidden field), so that
two people acting at once cannot both win: the second is told the case changed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rebuttal.models import Policy, Recommendation
from rebuttal.serializers import STATEMENT_MAX_CHARS, TEXT_MAX_CHARS


class ActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, policy: Policy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy

    def transition_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


def _text(
    label: Any, *, required: bool = True, rows: int = 4, max_length: int = TEXT_MAX_CHARS, **kw: Any
) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kw,
    )


class ReasonForm(ActionForm):
    reason = _text(_("Reason"))


class OptionalReasonForm(ActionForm):
    reason = _text(_("Reason"), required=False)


class WithdrawForm(ActionForm):
    reason = _text(_("Why are you withdrawing?"), required=False)
    confirm = forms.BooleanField(
        label=_("I understand that a withdrawn request is closed and cannot be reopened."),
        required=True,
    )

    def transition_data(self) -> dict[str, Any]:
        data = super().transition_data()
        data.pop("confirm", None)
        return data


class AcceptReceivableForm(ActionForm):
    override_justification = _text(
        _("Justification"),
        required=False,
        help_text=_("Required when a receivability rule failed: say why the request is received anyway."),
    )


class InviteReviewerForm(ActionForm):
    reviewer = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReviewerAcceptForm(ActionForm):
    no_conflict_declaration = forms.BooleanField(
        label=_(
            "I declare that I have no conflict of interest with the requester, their reporting officers "
            "or their office, and that I will keep the case confidential."
        ),
        required=True,
    )


class CommentForm(ActionForm):
    comment = _text(_("Comment"), required=False)


class RecommendationForm(ActionForm):
    findings = _text(_("Findings"), rows=8, max_length=STATEMENT_MAX_CHARS)
    recommendation = forms.ChoiceField(
        label=_("Recommendation"), choices=Recommendation.choices, widget=forms.RadioSelect
    )
    recommended_rating = forms.ChoiceField(
        label=_("Revise the rating to"),
        required=False,
        help_text=_("Only when you recommend revising the rating."),
    )
    reasons = _text(_("Reasons"), rows=6, max_length=STATEMENT_MAX_CHARS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scale = self.policy.rating_scale if self.policy else []
        self.fields["recommended_rating"].choices = [("", "—")] + [(i["key"], _(i["label"])) for i in scale]


class DecideForm(ActionForm):
    final_rating = forms.ChoiceField(label=_("Final rating"))
    follows_recommendation = forms.TypedChoiceField(
        label=_("Does the decision follow the reviewer's recommendation?"),
        choices=[("true", pgettext_lazy("answer", "Yes")), ("false", pgettext_lazy("answer", "No"))],
        coerce=lambda value: value == "true",
        widget=forms.RadioSelect,
    )
    reasons = _text(_("Reasons for the decision"), rows=6, max_length=STATEMENT_MAX_CHARS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scale = self.policy.rating_scale if self.policy else []
        self.fields["final_rating"].choices = [("", _("Choose…"))] + [
            (i["key"], _(i["label"])) for i in scale
        ]


# Transition -> its form on the case page.
ACTION_FORMS: dict[str, type[ActionForm]] = {
    "submit": ActionForm,
    "start_screening": ActionForm,
    "accept_receivable": AcceptReceivableForm,
    "reject_not_receivable": ReasonForm,
    "withdraw": WithdrawForm,
    "invite_reviewer": InviteReviewerForm,
    "reviewer_accept": ReviewerAcceptForm,
    "reviewer_decline": ReasonForm,
    "release_reviewer": ReasonForm,
    "submit_recommendation": RecommendationForm,
    "forward_for_endorsement": CommentForm,
    "return_to_reviewer": ReasonForm,
    "endorse": CommentForm,
    "decide": DecideForm,
}

# What each action is called on its button, and a sentence saying what it does.
ACTION_LABELS: dict[str, tuple[Any, Any]] = {
    "submit": (_("Submit your request"), _("HR receives it and checks that it can be received.")),
    "start_screening": (
        _("Start the receivability check"),
        _("Take the request and check it against the rules."),
    ),
    "accept_receivable": (_("Accept as receivable"), _("The request goes on to reviewer assignment.")),
    "reject_not_receivable": (
        _("Close as not receivable"),
        _("The requester receives a letter naming each rule the request fails."),
    ),
    "withdraw": (
        _("Withdraw your request"),
        _("Your case is closed and you receive a letter confirming it."),
    ),
    "invite_reviewer": (_("Invite a reviewer"), ""),
    "reviewer_accept": (_("Accept the review"), _("You declare that you have no conflict of interest.")),
    "reviewer_decline": (_("Decline the review"), _("HR will invite another reviewer.")),
    "release_reviewer": (
        _("Release the reviewer"),
        _("The reviewer's access ends and the case goes back to assignment."),
    ),
    "submit_recommendation": (_("Submit your report"), _("Your findings and recommendation go to HR.")),
    "forward_for_endorsement": (_("Forward for endorsement"), _("The report passed the quality check.")),
    "return_to_reviewer": (
        _("Return to the reviewer"),
        _("Ask the reviewer to clarify or complete the report."),
    ),
    "endorse": (_("Endorse and forward for decision"), ""),
    "decide": (_("Record the decision"), _("The outcome letter is then issued to the requester.")),
}


class InterviewForm(forms.Form):
    interviewee = forms.CharField(label=_("Who was interviewed"), max_length=200)
    held_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    notes = _text(_("Notes"), rows=6, max_length=STATEMENT_MAX_CHARS)


class DocumentRequestForm(forms.Form):
    addressee = forms.ChoiceField(
        label=_("Ask"),
        choices=[
            ("requester", _("The requester")),
            ("first", _("First reporting officer")),
            ("second", _("Second reporting officer")),
        ],
    )
    what = _text(_("What do you need?"))


class AnswerForm(forms.Form):
    answer = _text(_("Your answer"), rows=6, max_length=STATEMENT_MAX_CHARS)


class SupervisorCommentForm(forms.Form):
    comment = _text(_("Your comment"), rows=8, max_length=STATEMENT_MAX_CHARS)
