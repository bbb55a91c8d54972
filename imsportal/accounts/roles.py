"""The portal's roles: Django groups that grant the permissions on ``accounts.Portal``."""

from django.contrib.auth.models import Group, Permission

VIEW = "accounts.view_images"
CHANGE = "accounts.change_images"
APPROVE = "accounts.approve_shares"

ROLES: dict[str, tuple[str, ...]] = {
    "viewer": ("view_images",),
    "operator": ("view_images", "change_images"),
    "approver": ("view_images", "approve_shares"),
}


def ensure_roles() -> None:
    """Create the role groups with exactly their permissions (idempotent)."""
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = Permission.objects.filter(
            content_type__app_label="accounts", codename__in=codenames
        )
        group.permissions.set(perms)
