"""The forms of the upload page and the IMS create page (issue 11).

Everything knowable locally is checked here (formats, sizes, names, property keys, the IMS
field combinations); what only the cloud knows becomes the Job's ``last_error``.
"""

from __future__ import annotations

import re
import time
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from images.sniff import DISK_FORMATS
from imsportal.cloudapi import ApiError

CONTAINER_FORMATS = ("bare", "ovf", "ova", "docker")
UPLOAD_VISIBILITIES = ("private", "shared", "community")
OS_TYPES = ("Linux", "Windows", "Other")
PLATFORMS = (
    "Windows",
    "Ubuntu",
    "Red Hat",
    "SUSE",
    "CentOS",
    "Debian",
    "OpenSUSE",
    "Oracle Linux",
    "Fedora",
    "CoreOS",
    "EulerOS",
    "Other",
)
# Set by the portal or the cloud: never taken from the custom properties field.
RESERVED_KEYS = frozenset(
    {
        "id",
        "name",
        "status",
        "owner",
        "size",
        "virtual_size",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "created_at",
        "updated_at",
        "visibility",
        "protected",
        "tags",
        "disk_format",
        "container_format",
        "min_disk",
        "min_ram",
        "file",
        "self",
        "schema",
        "locations",
        "direct_url",
        "os_hidden",
        "imsportal_upload_id",
    }
)
_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254}$")
# IMS names: 1-128 letters, digits, space, - . _ ; no leading/trailing space.
_IMS_NAME = re.compile(r"^[\w.\- ]{1,128}$")
_OBJECT_URL = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]:[^\s]+$")


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


def parse_tags(text: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


class ImageUploadForm(forms.Form):
    """The image's attributes; the file itself travels by tus (images/tus.py)."""

    name = forms.CharField(max_length=255)
    disk_format = forms.ChoiceField(choices=_choices(DISK_FORMATS), initial="qcow2")
    container_format = forms.ChoiceField(choices=_choices(CONTAINER_FORMATS), initial="bare")
    min_disk = forms.IntegerField(min_value=0, initial=0, label="Min disk (GB)")
    min_ram = forms.IntegerField(min_value=0, initial=0, label="Min RAM (MB)")
    visibility = forms.ChoiceField(choices=_choices(UPLOAD_VISIBILITIES), initial="private")
    protected = forms.BooleanField(required=False)
    tags = forms.CharField(required=False, max_length=2000, help_text="Comma-separated.")
    os_distro = forms.CharField(required=False, max_length=255, label="OS distro")
    os_version = forms.CharField(required=False, max_length=255, label="OS version")
    ims_os_version = forms.CharField(
        required=False, max_length=255, label="IMS OS version (__os_version)"
    )
    ims_os_type = forms.ChoiceField(
        required=False, choices=[("", "—"), *_choices(OS_TYPES)], label="IMS OS type (__os_type)"
    )
    ims_platform = forms.ChoiceField(
        required=False, choices=[("", "—"), *_choices(PLATFORMS)], label="Platform (__platform)"
    )
    properties = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Custom properties, one key=value a line.",
    )

    def __init__(self, *args, disk_formats: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if disk_formats is not None:
            # Only what the target cloud accepts (its image schema's enum).
            self.fields["disk_format"].choices = _choices(disk_formats)

    def clean_tags(self) -> list[str]:
        tags = parse_tags(self.cleaned_data["tags"])
        for tag in tags:
            if len(tag) > 255:
                raise forms.ValidationError("A tag has at most 255 characters.", code="long")
        return tags

    def clean_properties(self) -> dict[str, str]:
        props: dict[str, str] = {}
        for n, line in enumerate(self.cleaned_data["properties"].splitlines(), 1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or not _KEY.match(key):
                raise forms.ValidationError(f"Line {n}: write key=value.", code="syntax")
            if key in RESERVED_KEYS or key.startswith("__"):
                raise forms.ValidationError(
                    f"Line {n}: {key} is set by the form or the cloud.", code="reserved"
                )
            if len(value) > 255:
                raise forms.ValidationError(f"Line {n}: the value is too long.", code="long")
            props[key] = value.strip()
        return props

    def image_attrs(self) -> dict[str, Any]:
        """The attributes for ``conn.image.create_image`` (JSON-safe, stored on the Job)."""
        d = self.cleaned_data
        attrs: dict[str, Any] = {
            "name": d["name"],
            "disk_format": d["disk_format"],
            "container_format": d["container_format"],
            "visibility": d["visibility"],
            "protected": d["protected"],
            "min_disk": d["min_disk"],
            "min_ram": d["min_ram"],
        }
        if d["tags"]:
            attrs["tags"] = d["tags"]
        extra = {
            "os_distro": d["os_distro"],
            "os_version": d["os_version"],
            "__os_version": d["ims_os_version"],
            "__os_type": d["ims_os_type"],
            "__platform": d["ims_platform"],
        }
        attrs.update({k: v for k, v in extra.items() if v})
        attrs.update(d["properties"])
        return attrs


_FORMATS_CACHE: dict[tuple, tuple[float, list[str]]] = {}
FORMATS_CACHE_SECONDS = 600


def cloud_disk_formats(conn, key: tuple) -> list[str]:
    """The formats of ``DISK_FORMATS`` the cloud's image schema accepts (cached per project
    and credentials version for 10 minutes); all of them when the schema cannot be read."""
    cached = _FORMATS_CACHE.get(key)
    if cached and time.monotonic() - cached[0] < FORMATS_CACHE_SECONDS:
        return cached[1]
    try:
        schema = conn.http.request("GET", f"{conn.image.root}/v2/schemas/image").json()
        enum = schema["properties"]["disk_format"]["enum"]
        formats = [f for f in DISK_FORMATS if f in enum] or list(DISK_FORMATS)
    except (ApiError, KeyError, TypeError, ValueError):
        return list(DISK_FORMATS)
    _FORMATS_CACHE[key] = (time.monotonic(), formats)
    return formats


def max_size_text() -> str:
    return filesizeformat(settings.UPLOAD_MAX_SIZE)


class CloudImageCreateForm(forms.Form):
    """``create_cloudimage``: a system-disk image from a server or from an object-storage file.

    The field combinations follow the IMS reference (§3.1 and §3.3): a server source takes no
    file-only fields, a file needs ``min_disk``, an ISO needs an OS version.
    """

    SOURCES = [("server", "From a server"), ("file", "From an object-storage file")]
    TYPES = [("ECS", "ECS"), ("BMS", "BMS"), ("IsoImage", "ISO")]

    source = forms.ChoiceField(choices=SOURCES, widget=forms.RadioSelect, initial="server")
    name = forms.CharField(max_length=128)
    description = forms.CharField(
        required=False, max_length=1024, widget=forms.Textarea(attrs={"rows": 2})
    )
    instance_id = forms.CharField(required=False, max_length=64, label="Server")
    image_url = forms.CharField(required=False, max_length=1024, label="File (bucket:object)")
    os_version = forms.CharField(required=False, max_length=255, label="OS version")
    min_disk = forms.IntegerField(
        required=False, min_value=1, max_value=1024, label="Min disk (GB)"
    )
    min_ram = forms.IntegerField(required=False, min_value=0, label="Min RAM (MB)")
    max_ram = forms.IntegerField(required=False, min_value=0, label="Max RAM (MB)")
    type = forms.ChoiceField(required=False, choices=[("", "—"), *TYPES], label="Image type")
    is_config = forms.BooleanField(required=False, label="Let IMS configure drivers (is_config)")
    tags = forms.CharField(
        required=False, max_length=2000, help_text="Comma-separated key.value tags."
    )

    FILE_ONLY = ("image_url", "os_version", "min_disk", "type", "is_config")

    def __init__(self, *args, servers: list[tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.servers = servers
        if servers is not None:
            # The project's servers as a list: nobody types a UUID.
            self.fields["instance_id"] = forms.ChoiceField(
                required=False, choices=[("", "—"), *servers], label="Server"
            )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name != name.strip() or not _IMS_NAME.match(name):
            raise forms.ValidationError(
                "1-128 letters, digits, spaces, - . _ ; no leading or trailing space.",
                code="name",
            )
        return name

    def clean_description(self) -> str:
        text = self.cleaned_data["description"]
        if any(c in text for c in "<>\r"):
            raise forms.ValidationError("No < > or carriage returns.", code="chars")
        return text

    def clean_tags(self) -> list[str]:
        tags = parse_tags(self.cleaned_data["tags"])
        for tag in tags:
            if "." not in tag.strip("."):
                raise forms.ValidationError(f"{tag}: write key.value.", code="tag")
        return tags

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        source = d.get("source")
        if source == "server":
            if not d.get("instance_id"):
                self.add_error("instance_id", "Choose the server to make the image from.")
            for field in self.FILE_ONLY:
                if d.get(field):
                    self.add_error(field, "Only for an image from a file.")
        elif source == "file":
            if d.get("instance_id"):
                self.add_error("instance_id", "Only for an image from a server.")
            url = d.get("image_url") or ""
            if not url:
                self.add_error("image_url", "Give the file as bucket:object.")
            elif not _OBJECT_URL.match(url):
                self.add_error("image_url", "Write bucket:object, e.g. owner-images:disk.qcow2.")
            if not d.get("min_disk"):
                self.add_error("min_disk", "An image from a file needs its minimum disk size.")
            if d.get("type") == "IsoImage" and not d.get("os_version"):
                self.add_error("os_version", "An ISO image needs an OS version.")
        min_ram, max_ram = d.get("min_ram"), d.get("max_ram")
        if min_ram and max_ram and min_ram > max_ram:
            self.add_error("max_ram", "Max RAM is below min RAM.")
        return d

    def request_body(self) -> dict[str, Any]:
        """The ``create_cloudimage`` body: only the fields given, per the source."""
        d = self.cleaned_data
        keys = ["name", "description", "min_ram", "max_ram", "tags"]
        keys += ["instance_id"] if d["source"] == "server" else list(self.FILE_ONLY)
        return {k: d[k] for k in keys if d.get(k) not in (None, "", [], False)}
