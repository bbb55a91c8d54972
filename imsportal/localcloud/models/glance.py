"""Glance v2 data: images and their members (bytes live on disk under IMAGES_DIR)."""

from __future__ import annotations

import uuid

from django.db import models


def new_image_id() -> str:
    return str(uuid.uuid4())


class Image(models.Model):
    # Deleted images keep their row with status "deleted", as Glance soft-deletes: the id
    # stays taken (a create with it is a 409) and the image 404s everywhere.
    id = models.CharField(primary_key=True, max_length=36, default=new_image_id)
    name = models.CharField(max_length=255, null=True)
    status = models.CharField(max_length=32, default="queued", db_index=True)
    visibility = models.CharField(max_length=16, default="shared")
    protected = models.BooleanField(default=False)
    os_hidden = models.BooleanField(default=False)
    owner = models.CharField(max_length=64, null=True, db_index=True)
    container_format = models.CharField(max_length=32, null=True)
    disk_format = models.CharField(max_length=32, null=True)
    min_disk = models.IntegerField(default=0)
    min_ram = models.IntegerField(default=0)
    size = models.BigIntegerField(null=True)
    virtual_size = models.BigIntegerField(null=True)
    checksum = models.CharField(max_length=32, null=True)
    os_hash_algo = models.CharField(max_length=64, null=True)
    os_hash_value = models.CharField(max_length=128, null=True)
    tags = models.JSONField(default=list)
    properties = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["created_at", "id"], name="image_page")]


class ImageMember(models.Model):
    """A project an image is shared with, and that project's answer to the invitation."""

    STATUSES = ("pending", "accepted", "rejected")

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="members")
    member_id = models.CharField(max_length=255, db_index=True)
    status = models.CharField(max_length=16, default="pending")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "member_id"], name="one_membership")
        ]
