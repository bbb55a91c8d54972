from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db import models

from imsportal.accounts.roles import ROLE_CHOICES
from imsportal.projects.models import CloudProject

# Which secrets each auth type uses; the others are cleared when the type changes.
SECRETS_OF = {"password": ("password",), "token": ("token",), "aksk": ("secret_key",)}


def _formfield(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"  # a cloud URL typed without a scheme
    return field.formfield(**kwargs)


class ProjectForm(forms.ModelForm):
    """Create or change a cloud project. Secrets are write-only: never rendered back, and
    left unchanged when the field is left blank."""

    class Meta:
        formfield_callback = _formfield
        model = CloudProject
        fields = [
            "name",
            "slug",
            "auth_type",
            "auth_url",
            "username",
            "user_domain_name",
            "password",
            "project_id",
            "project_name",
            "project_domain_name",
            "region",
            "interface",
            "image_endpoint",
            "ims_endpoint",
            "token",
            "access_key",
            "secret_key",
        ]
        widgets = {
            field: forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            for field in CloudProject.SECRET_FIELDS
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in CloudProject.SECRET_FIELDS:
            field = self.fields[name]
            field.required = False
            stored = self.instance.pk and getattr(self.instance, name)
            field.help_text = "Stored; leave blank to keep it." if stored else "Not set."

    def clean(self):
        data = super().clean()
        for name in CloudProject.SECRET_FIELDS:
            if not data.get(name) and self.instance.pk:
                # Blank means "keep": put the stored value back before the model validates.
                data[name] = getattr(CloudProject.objects.get(pk=self.instance.pk), name)
        for name in CloudProject.SECRET_FIELDS:
            if name not in SECRETS_OF.get(data.get("auth_type", ""), ()):
                data[name] = ""
        return data

    def changed_fields(self) -> list[str]:
        """The fields this form changes; a secret counts only when a new value was typed."""
        names = [n for n in self.changed_data if n not in CloudProject.SECRET_FIELDS]
        names += [n for n in CloudProject.SECRET_FIELDS if self.data.get(n)]
        return names


class RoleForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES)
