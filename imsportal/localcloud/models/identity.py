"""Keystone v3 data: domains, projects, users, role assignments, issued tokens and the
Huawei-style access keys (AK/SK) that sign requests instead of a token."""

from __future__ import annotations

import secrets
import uuid

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password
from django.db import models


class LocalCloudHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 with fewer rounds than Django's default (10^6, about a second a login on
    a small machine): this is a loopback test cloud whose demo passwords are published, and
    every test logs in. The hash names its rounds, so Django's own hasher verifies it."""

    iterations = 100_000


def hex_id() -> str:
    return uuid.uuid4().hex


class Domain(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=hex_id)
    name = models.CharField(max_length=255, unique=True)
    enabled = models.BooleanField(default=True)


class Project(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=hex_id)
    name = models.CharField(max_length=255)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="projects")
    enabled = models.BooleanField(default=True)
    description = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="project_name")]


class User(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=hex_id)
    name = models.CharField(max_length=255)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="users")
    password_hash = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="user_name")]

    def set_password(self, raw: str) -> None:
        self.password_hash = make_password(raw, hasher=LocalCloudHasher())

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password_hash)


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project", "role"], name="one_assignment")
        ]


class AccessKey(models.Model):
    """A permanent AK/SK pair of a user (IAM allows two per user; we do not limit)."""

    access = models.CharField(max_length=64, unique=True)
    # Kept in clear: HMAC verification needs the secret itself, as IAM's does.
    secret = models.CharField(max_length=128)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_keys")
    enabled = models.BooleanField(default=True)


def new_token_id() -> str:
    return "lc" + secrets.token_urlsafe(40)


class Token(models.Model):
    id = models.CharField(primary_key=True, max_length=128, default=new_token_id)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    # Null for an unscoped token, which only lists projects and re-scopes.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True)
    roles = models.JSONField(default=list)
    methods = models.JSONField(default=list)
    audit_id = models.CharField(max_length=32, default=hex_id)
    # A re-scoped token carries the audit id of the token it came from (Keystone's chain).
    parent_audit_id = models.CharField(max_length=32, blank=True, default="")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)
