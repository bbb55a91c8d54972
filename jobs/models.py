import uuid

from django.conf import settings
from django.db import models


class Job(models.Model):
    """Background work the portal follows: an upload, or an IMS create-image job."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", "Upload"
        CREATE = "create", "Create cloud image"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCESS = "success", "Succeeded"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"
        CANCELLED = "cancelled", "Cancelled"

    DONE = (Status.SUCCESS, Status.FAILED, Status.TIMED_OUT, Status.CANCELLED)

    class Phase(models.TextChoices):
        STAGED = "staged", "Staged"
        CREATING = "creating", "Creating the image"
        UPLOADING = "uploading", "Uploading"
        VERIFYING = "verifying", "Verifying checksums"
        SUBMITTED = "submitted", "Submitted to IMS"
        CLOUD_RUNNING = "cloud_running", "Running in IMS"
        DONE = "done", "Done"

    project = models.ForeignKey(
        "projects.CloudProject", on_delete=models.PROTECT, related_name="jobs"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    title = models.CharField(max_length=255)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    cloud_job_id = models.CharField(max_length=64, blank=True, default="")
    image_id = models.CharField(max_length=64, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    request_id = models.CharField(max_length=128, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deadline = models.DateTimeField(null=True, blank=True)
    # --- progress and outcome (issue 11) ---------------------------------------------------
    phase = models.CharField(max_length=16, choices=Phase.choices, blank=True, default="")
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    rate = models.FloatField(default=0)  # bytes per second
    eta_seconds = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checksum_md5 = models.CharField(max_length=32, blank=True, default="")
    checksum_sha512 = models.CharField(max_length=128, blank=True, default="")
    error_code = models.CharField(max_length=32, blank=True, default="")
    # [{"phase": ..., "at": iso time}], appended on every phase change.
    timeline = models.JSONField(default=list, blank=True)
    # What the job does: the image attributes of an upload, the IMS create request.
    params = models.JSONField(default=dict, blank=True)
    upload = models.ForeignKey(
        "jobs.StagedUpload", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # The claim: one worker at a time, renewed with every progress report.
    worker = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.title}"

    @property
    def is_done(self) -> bool:
        return self.status in self.DONE

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCESS:
            return 100
        if self.bytes_total:
            return min(100, int(self.bytes_done * 100 / self.bytes_total))
        return self.progress

    @property
    def duration(self):
        if self.started_at is None:
            return None
        from django.utils import timezone

        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def verified(self) -> bool:
        return bool(
            self.status == self.Status.SUCCESS and self.checksum_md5 and self.checksum_sha512
        )

    @property
    def reference(self) -> str:
        """How audit entries about the job itself name it."""
        return f"job:{self.pk}"


class StagedUpload(models.Model):
    """A tus upload being received into the staging directory (see images/staging.py).

    The row is the registry of a user's unfinished uploads: the same file picked again, even
    in another browser, is found by its size and fingerprint and continued.
    """

    class Status(models.TextChoices):
        RECEIVING = "receiving", "Receiving"
        SUBMITTED = "submitted", "Submitted"  # complete, format checked, a Job streams it
        REJECTED = "rejected", "Rejected"  # complete, but not what the form said
        DONE = "done", "Done"  # in the cloud; the staging file is gone

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.CloudProject", on_delete=models.CASCADE, related_name="uploads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staged_uploads"
    )
    filename = models.CharField(max_length=255, blank=True, default="")
    length = models.BigIntegerField()
    # Bytes durably written (fsynced): what HEAD reports, where the next PATCH starts.
    offset = models.BigIntegerField(default=0)
    fingerprint = models.CharField(max_length=128, blank=True, default="", db_index=True)
    metadata = models.JSONField(default=dict, blank=True)  # the tus Upload-Metadata
    attrs = models.JSONField(default=dict, blank=True)  # the validated image form
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVING)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.offset}/{self.length})"

    @property
    def percent(self) -> int:
        return int(self.offset * 100 / self.length) if self.length else 100
