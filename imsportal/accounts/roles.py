"""The portal's roles. They are granted per cloud project (``projects.ProjectRole``)."""

from __future__ import annotations

VIEWER = "viewer"  # reads the project's images, shares and jobs
OPERATOR = "operator"  # also uploads, edits, deletes, tags and shares
APPROVER = "approver"  # also accepts or rejects images other projects share with this one

ROLE_CHOICES = [
    (VIEWER, "viewer: reads"),
    (OPERATOR, "operator: uploads, edits, deletes, tags, shares"),
    (APPROVER, "approver: accepts or rejects shares"),
]
ROLES = tuple(role for role, _ in ROLE_CHOICES)
