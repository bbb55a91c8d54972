"""Cloud projects: everything needed to reach one project of one cloud, and who may act there."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from imsportal.accounts.roles import ROLE_CHOICES
from imsportal.projects.crypto import EncryptedTextField


class CloudProject(models.Model):
    """One project of one cloud, with the credentials the portal uses to act in it.

    Secrets are encrypted at rest (``EncryptedTextField``) and write-only in every form.
    ``credentials_version`` grows on every save: connections are cached per (pk, version),
    so a changed credential takes effect at the next call in every process.
    """

    class AuthType(models.TextChoices):
        PASSWORD = "password", "Keystone v3 password"
        TOKEN = "token", "Static token"
        AKSK = "aksk", "AK/SK signature (Huawei Cloud, OTC)"

    class Interface(models.TextChoices):
        PUBLIC = "public", "public"
        INTERNAL = "internal", "internal"
        ADMIN = "admin", "admin"

    SECRET_FIELDS = ("password", "token", "secret_key")

    name = models.CharField(max_length=100, unique=True, help_text="Shown in the header.")
    slug = models.SlugField(max_length=50, unique=True, help_text="Used in the portal's URLs.")
    auth_type = models.CharField(max_length=16, choices=AuthType.choices, default=AuthType.PASSWORD)
    auth_url = models.URLField(
        "auth URL", max_length=500, blank=True, help_text="Keystone v3, e.g. https://iam…/v3"
    )
    username = models.CharField(max_length=255, blank=True)
    user_domain_name = models.CharField(
        max_length=255,
        blank=True,
        default="Default",
        help_text="On Huawei Cloud / OTC: the account.",
    )
    project_id = models.CharField(
        "project id", max_length=64, blank=True, help_text="Wins over the name when both are set."
    )
    project_name = models.CharField(
        max_length=255, blank=True, help_text="On Huawei Cloud / OTC: the region, e.g. eu-de."
    )
    project_domain_name = models.CharField(max_length=255, blank=True, default="Default")
    region = models.CharField(max_length=64, blank=True, help_text="Catalog region; empty: any.")
    interface = models.CharField(max_length=16, choices=Interface.choices, default="public")
    image_endpoint = models.URLField(
        max_length=500, blank=True, help_text="Overrides the catalog's image endpoint."
    )
    ims_endpoint = models.URLField(
        "IMS endpoint", max_length=500, blank=True, help_text="When IMS is not the image host."
    )
    access_key = models.CharField("access key (AK)", max_length=128, blank=True)
    password = EncryptedTextField(blank=True)
    token = EncryptedTextField(blank=True)
    secret_key = EncryptedTextField("secret key (SK)", blank=True)
    credentials_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never show secrets
        return f"<CloudProject {self.slug}>"

    def save(self, *args, **kwargs) -> None:
        self.credentials_version += 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.auth_type == self.AuthType.PASSWORD:
            for field in ("auth_url", "username", "password"):
                if not getattr(self, field):
                    errors[field] = "Required for Keystone password authentication."
            if not (self.project_id or self.project_name):
                errors["project_name"] = "Give the project's id, or its name and domain."
        elif self.auth_type == self.AuthType.TOKEN:
            for field in ("token", "image_endpoint"):
                if not getattr(self, field):
                    errors[field] = "Required for static token authentication."
        else:
            for field in ("access_key", "secret_key", "project_id", "image_endpoint"):
                if not getattr(self, field):
                    errors[field] = "Required for AK/SK signing."
        if errors:
            raise ValidationError(errors)

    @property
    def cloud_host(self) -> str:
        """The cloud's host name, for the header (no path, no credentials)."""
        url = self.auth_url if self.auth_type == self.AuthType.PASSWORD else self.image_endpoint
        return urlsplit(url).hostname or ""

    def cloud_config(self) -> dict:
        """The dict ``cloudapi.Connection.from_config`` takes, with the portal's timeouts."""
        return {
            "auth_type": self.auth_type,
            "auth_url": self.auth_url,
            "username": self.username,
            "password": self.password,
            "user_domain_name": self.user_domain_name or "Default",
            "project_id": self.project_id,
            "project_name": self.project_name,
            "project_domain_name": self.project_domain_name or "Default",
            "region_name": self.region,
            "interface": self.interface,
            "image_endpoint": self.image_endpoint,
            "ims_endpoint": self.ims_endpoint,
            "token": self.token,
            "ak": self.access_key,
            "sk": self.secret_key,
            **settings.CLOUD_HTTP,
        }


class ProjectRole(models.Model):
    """A role of one user in one project. A user may hold several roles in a project."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_roles"
    )
    project = models.ForeignKey(CloudProject, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=16, choices=ROLE_CHOICES)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project__name", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "project", "role"], name="one_role_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} in {self.project}"
