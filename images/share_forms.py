"""Forms of the sharing pages: share with projects, stop sharing, answer offers."""

from __future__ import annotations

import re

from django import forms

from images.sharing import PROJECT_ID, parse_project_ids

IMAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MAX_SHARE_TARGETS = 50  # projects per share request
MAX_BULK_IMAGES = 50  # images per bulk share / bulk answer


class ShareForm(forms.Form):
    """Pick known projects and/or paste project ids; ``members`` is the cleaned union."""

    projects = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Portal projects"
    )
    ids = forms.CharField(
        required=False,
        label="Project ids",
        help_text="Comma or line separated.",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
    )
    make_shared = forms.BooleanField(
        required=False, label="Make private images shared first (Glance shares only those)"
    )

    def __init__(self, *args, choices=(), own_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].choices = list(choices)
        self.own_id = own_id

    def clean_ids(self) -> list[str]:
        ids = parse_project_ids(self.cleaned_data.get("ids", ""))
        bad = [i for i in ids if not PROJECT_ID.match(i)]
        if bad:
            shown = ", ".join(b[:70] for b in bad[:5])
            raise forms.ValidationError(f"Not a project id: {shown}", code="invalid_id")
        if self.own_id and self.own_id in ids:
            raise forms.ValidationError(
                "That is this project's own id: an image is not shared with its owner.",
                code="own_id",
            )
        return ids

    def clean(self):
        data = super().clean()
        members = list(dict.fromkeys([*data.get("projects", []), *data.get("ids", [])]))
        if not self.errors:
            if not members:
                raise forms.ValidationError(
                    "Pick a project or paste a project id.", code="no_members"
                )
            if len(members) > MAX_SHARE_TARGETS:
                raise forms.ValidationError(
                    f"At most {MAX_SHARE_TARGETS} projects at once.", code="too_many"
                )
        data["members"] = members
        return data


class ImageIdsField(forms.Field):
    """Repeated ``image`` parameters (``?image=a&image=b``), each an image id."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))

    def validate(self, value):
        super().validate(value)
        bad = [v for v in value if not IMAGE_ID.match(v)]
        if bad:
            raise forms.ValidationError(f"Not an image id: {bad[0][:70]}", code="invalid_id")
        if len(value) > MAX_BULK_IMAGES:
            raise forms.ValidationError(
                f"At most {MAX_BULK_IMAGES} images at once.", code="too_many"
            )


class BulkShareForm(ShareForm):
    image = ImageIdsField(required=True, label="Images")


class ConfirmForm(forms.Form):
    """A destructive action's confirmation: an empty POST changes nothing."""

    confirm = forms.BooleanField(required=True, widget=forms.HiddenInput)


class MakeSharedForm(forms.Form):
    visibility = forms.ChoiceField(choices=[("shared", "shared")], widget=forms.HiddenInput)


TABS = [("pending", "Pending"), ("accepted", "Accepted"), ("rejected", "Rejected")]


class InboxForm(forms.Form):
    """The inbox's URL state: the tab and the page number."""

    status = forms.ChoiceField(required=False, choices=TABS)
    page = forms.IntegerField(required=False, min_value=1)


class AnswerForm(forms.Form):
    """Accept or reject one offer or several (``image`` repeated); the tab and page to show
    afterwards, and where a plain POST returns (``next``: "all" is the cross-project inbox)."""

    status = forms.ChoiceField(choices=[("accepted", "accept"), ("rejected", "reject")])
    image = ImageIdsField(required=False)
    every = forms.ChoiceField(
        required=False, choices=[("", "the selected"), *TABS], help_text="Answer a whole tab."
    )
    tab = forms.ChoiceField(required=False, choices=TABS)
    page = forms.IntegerField(required=False, min_value=1)
    next = forms.ChoiceField(required=False, choices=[("", "project"), ("all", "all projects")])

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("image") and not data.get("every"):
            raise forms.ValidationError("Select at least one image.", code="none_selected")
        return data
