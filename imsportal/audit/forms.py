from __future__ import annotations

from django import forms

from imsportal.audit.models import AuditEntry

ACTIONS = [
    "login",
    "project.create",
    "project.update",
    "role.grant",
    "role.revoke",
    "image.upload",
    "image.create",
    "image.update",
    "image.delete",
    "image.deactivate",
    "image.reactivate",
    "image.tag.add",
    "image.tag.remove",
    "image.share",
    "image.unshare",
    "image.accept",
    "image.reject",
    "cloudimage.update",
    "cloudimage.create",
    # issue 11: uploads and the job center
    "job.start",
    "job.cancel",
    "job.retry",
    "job.finish",
]


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150)
    project = forms.ChoiceField(required=False)
    action = forms.ChoiceField(
        required=False, choices=[("", "any action")] + [(a, a) for a in ACTIONS]
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", "any outcome"), *AuditEntry.Outcome.choices]
    )
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, projects, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["project"].choices = [("", "any project")] + [
            (p.slug, p.name) for p in projects
        ]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filter(self, entries):
        data = self.cleaned_data
        if data.get("user"):
            entries = entries.filter(username=data["user"])
        if data.get("project"):
            entries = entries.filter(project__slug=data["project"])
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("outcome"):
            entries = entries.filter(outcome=data["outcome"])
        if data.get("since"):
            entries = entries.filter(at__date__gte=data["since"])
        if data.get("until"):
            entries = entries.filter(at__date__lte=data["until"])
        return entries
