from django.db import models


class Portal(models.Model):
    """Holds the portal's permissions; no table. Roles (groups) grant these."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_images", "See images, members, cloud images and jobs"),
            ("change_images", "Upload, edit, delete, tag and share images"),
            ("approve_shares", "Accept or reject images shared with the project"),
        ]
