"""Forms of the image pages: list filters (they live in the URL), edit, tags, confirmations."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from images.metadefs import check

STATUS_CHOICES = [("", "any status")] + [
    (s, s)
    for s in ("active", "queued", "saving", "importing", "uploading", "deactivated", "killed")
]
VISIBILITY_CHOICES = [("", "any visibility")] + [
    (v, v) for v in ("private", "shared", "community", "public")
]
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
YES_NO_ANY = [("", "any"), ("true", "yes"), ("false", "no")]
PAGE_SIZES = [(n, str(n)) for n in (10, 20, 50, 100)]
# Statuses an image leaves by itself: its row polls until it settles.
TRANSITIONAL = frozenset({"queued", "saving", "importing", "uploading"})
_MARKER = re.compile(r"^[0-9A-Za-z-]{1,64}$")

# Image list scopes: (label, Glance query). One call per page, so one visibility per tab:
# Glance's ``visibility`` filter takes a single value.
SCOPES = {
    "mine": "My images",
    "shared": "Shared with me (accepted)",
    "public": "Public",
    "community": "Community",
    "all": "All I can see",
}
SORT_KEYS = ("name", "status", "disk_format", "size", "created_at", "updated_at")


def _markers(value: str) -> list[str]:
    parts = [p for p in (value or "").split(",") if p]
    if any(not _MARKER.match(p) for p in parts) or len(parts) > 200:
        raise forms.ValidationError("Invalid page trail.", code="trail")
    return parts


class PagingMixin(forms.Form):
    """Marker paging that remembers the markers it came through, and sorting."""

    sort_key = forms.ChoiceField(
        required=False, choices=[(k, k) for k in SORT_KEYS], widget=forms.HiddenInput
    )
    sort_dir = forms.ChoiceField(
        required=False, choices=[("asc", "asc"), ("desc", "desc")], widget=forms.HiddenInput
    )
    limit = forms.TypedChoiceField(
        required=False, choices=PAGE_SIZES, coerce=int, empty_value=20, label="Per page"
    )
    marker = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    trail = forms.CharField(required=False, max_length=14000, widget=forms.HiddenInput)

    MAIN: tuple[str, ...] = ()
    DEFAULT_LIMIT = 20
    # Every choice is fixed in code: the rendered filter bar depends on the query alone and
    # may be reused ({% filter_bar %}). A form with choices from the database says False.
    FIXED_CHOICES = True

    def __init__(self, data=None, *args, **kwargs):
        # The page-size select shows the size in use, not its first option.
        if data is not None and not data.get("limit"):
            data = data.copy()
            data["limit"] = str(self.DEFAULT_LIMIT)
        super().__init__(data, *args, **kwargs)

    _NOT_FILTERS = ("limit", "marker", "trail", "sort_key", "sort_dir", "scope")

    def more_open(self) -> bool:
        """Whether a filter outside the main row is set (its panel then starts open)."""
        return any(self.data.get(n) for n in self.fields if n not in self.MAIN + self._NOT_FILTERS)

    def clean_marker(self) -> str:
        value = self.cleaned_data.get("marker") or ""
        if value and not _MARKER.match(value):
            raise forms.ValidationError("Invalid page marker.", code="marker")
        return value

    def clean_trail(self) -> list[str]:
        return _markers(self.cleaned_data.get("trail") or "")

    def sort(self) -> tuple[str, str]:
        data = self.cleaned_data
        return data.get("sort_key") or "created_at", data.get("sort_dir") or "desc"


class ImageFilterForm(PagingMixin):
    """The Images page's filters: everything Glance's list call can filter on."""

    scope = forms.ChoiceField(
        required=False, choices=list(SCOPES.items()), widget=forms.HiddenInput
    )
    name = forms.CharField(required=False, max_length=255)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    visibility = forms.ChoiceField(required=False, choices=VISIBILITY_CHOICES)
    owner = forms.CharField(required=False, max_length=64, label="Owner id")
    tag = forms.CharField(required=False, max_length=255)
    disk_format = forms.ChoiceField(
        required=False, choices=[("", "any")] + [(f, f) for f in DISK_FORMATS], label="Disk format"
    )
    container_format = forms.ChoiceField(
        required=False,
        choices=[("", "any")] + [(f, f) for f in CONTAINER_FORMATS],
        label="Container",
    )
    size_min = forms.IntegerField(required=False, min_value=0, label="Min size (MiB)")
    size_max = forms.IntegerField(required=False, min_value=0, label="Max size (MiB)")
    protected = forms.ChoiceField(required=False, choices=YES_NO_ANY)
    hidden = forms.ChoiceField(
        required=False,
        choices=[("", "not hidden"), ("true", "hidden only")],
        label="Hidden",
    )
    created_after = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Created from"
    )
    created_before = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Created before"
    )
    updated_after = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Updated from"
    )
    updated_before = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Updated before"
    )
    prop_key = forms.RegexField(required=False, regex=r"^[A-Za-z0-9_.:-]{1,255}$", label="Property")
    prop_value = forms.CharField(required=False, max_length=255, label="Value")

    # The filters shown in the always-visible row; the rest sit in "More filters".
    MAIN = ("name", "status", "tag")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Glance takes one operator per time filter, so a range would need two calls.
        for what in ("created", "updated"):
            if data.get(f"{what}_after") and data.get(f"{what}_before"):
                self.add_error(
                    f"{what}_before",
                    f"The cloud filters {what} time by one bound: give “from” or “before”.",
                )
        if data.get("prop_value") and not data.get("prop_key"):
            self.add_error("prop_key", "Name the property to filter on.")
        if (
            data.get("size_min") is not None
            and data.get("size_max") is not None
            and data["size_min"] > data["size_max"]
        ):
            self.add_error("size_max", "The maximum is below the minimum.")
        return data

    @property
    def current_scope(self) -> str:
        return (self.cleaned_data.get("scope") if self.is_valid() else "") or "mine"

    def cloud_query(self, my_project_id: str) -> dict[str, Any]:
        """The Glance list query for these filters (paging and sorting included)."""
        data = self.cleaned_data
        scope = data.get("scope") or "mine"
        query: dict[str, Any] = {}
        if scope == "mine":
            query["owner"] = my_project_id
        elif scope == "shared":
            query.update(visibility="shared", member_status="accepted")
        elif scope in ("public", "community"):
            query["visibility"] = scope
        else:
            query["visibility"] = "all"
        if data.get("visibility") and scope in ("mine", "all"):
            query["visibility"] = data["visibility"]
        if data.get("owner") and scope != "mine":
            query["owner"] = data["owner"]
        if data.get("name"):
            # eq: lets a name contain a colon (Glance splits the value on the first one).
            query["name"] = f"eq:{data['name']}"
        for key in ("status", "tag", "disk_format", "container_format", "protected"):
            if data.get(key):
                query[key] = data[key]
        if data.get("hidden"):
            query["os_hidden"] = "true"
        for key in ("size_min", "size_max"):
            if data.get(key) is not None:
                query[key] = data[key] * 1024 * 1024
        for what in ("created", "updated"):
            if data.get(f"{what}_after"):
                query[f"{what}_at"] = f"gte:{data[f'{what}_after'].isoformat()}T00:00:00Z"
            elif data.get(f"{what}_before"):
                query[f"{what}_at"] = f"lt:{data[f'{what}_before'].isoformat()}T00:00:00Z"
        if data.get("prop_key"):
            query[data["prop_key"]] = data.get("prop_value") or ""
        key, direction = self.sort()
        query.update(sort_key=key, sort_dir=direction)
        return query


IMAGE_TYPE_CHOICES = [
    ("", "any type"),
    ("private", "private"),
    ("shared", "shared"),
    ("gold", "public (gold)"),
    ("market", "market"),
]
PLATFORM_CHOICES = [("", "any platform")] + [
    (p, p)
    for p in ("Windows", "Ubuntu", "Red Hat", "SUSE", "CentOS", "Debian", "OpenSUSE", "Fedora")
    + ("EulerOS", "CoreOS", "Oracle Linux", "Other")
]
IMS_SORT_KEYS = ("name", "status", "disk_format", "size", "created_at")


class CloudImageFilterForm(PagingMixin):
    """The Cloud images page's filters, sent as IMS query parameters."""

    sort_key = forms.ChoiceField(
        required=False, choices=[(k, k) for k in IMS_SORT_KEYS], widget=forms.HiddenInput
    )
    name = forms.CharField(required=False, max_length=255)
    imagetype = forms.ChoiceField(required=False, choices=IMAGE_TYPE_CHOICES, label="Type")
    platform = forms.ChoiceField(required=False, choices=PLATFORM_CHOICES)
    os_type = forms.ChoiceField(
        required=False,
        choices=[
            ("", "any OS type"),
            ("Linux", "Linux"),
            ("Windows", "Windows"),
            ("Other", "Other"),
        ],
        label="OS type",
    )
    os_bit = forms.ChoiceField(
        required=False, choices=[("", "any"), ("32", "32-bit"), ("64", "64-bit")], label="Bits"
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "any status")]
        + [(s, s) for s in ("queued", "saving", "active", "killed", "deleted")],
    )
    visibility = forms.ChoiceField(
        required=False,
        choices=[("", "any visibility")] + [(v, v) for v in ("private", "shared", "public")],
    )
    tag = forms.CharField(required=False, max_length=255)

    MAIN = ("name", "imagetype", "platform", "status")

    def cloud_query(self) -> dict[str, Any]:
        data = self.cleaned_data
        query = {
            "name": data.get("name"),
            "__imagetype": data.get("imagetype"),
            "__platform": data.get("platform"),
            "__os_type": data.get("os_type"),
            "__os_bit": data.get("os_bit"),
            "status": data.get("status"),
            "visibility": data.get("visibility"),
            "tag": data.get("tag"),
        }
        query = {k: v for k, v in query.items() if v}
        key, direction = self.sort()
        query.update(sort_key=key, sort_dir=direction)
        return query


# --- changes -----------------------------------------------------------------------------
class ConfirmForm(forms.Form):
    """A destructive action runs only with ``confirm=yes`` (set by the dialog or the
    confirmation page), so an empty POST never changes anything."""

    confirm = forms.ChoiceField(choices=[("yes", "yes")])


class TagForm(forms.Form):
    tag = forms.CharField(max_length=255, strip=True, label="Tag")

    def __init__(self, *args, existing: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing = existing or []

    def clean_tag(self) -> str:
        tag = self.cleaned_data["tag"]
        if tag in self.existing:
            raise forms.ValidationError("The image already has this tag.", code="duplicate")
        return tag


class RemoveTagForm(forms.Form):
    tag = forms.CharField(max_length=255, strip=False)


# Properties the edit form shows in their own fields, or that Glance does not let a
# project change; the free-form properties box leaves them out.
OWN_FIELDS = ("os_distro", "os_version")
_PROPERTY_LINE = re.compile(r"^\s*([^=\s][^=]*?)\s*=\s*(.*?)\s*$")


def editable_properties(properties: dict[str, Any]) -> dict[str, str]:
    """Custom properties a project may change (no IMS ``__`` or ``os_glance_`` ones)."""
    return {
        k: str(v)
        for k, v in properties.items()
        if k not in OWN_FIELDS
        and k != "stores"
        and not k.startswith(("__", "os_glance_"))
        and isinstance(v, str | int | float | bool)
    }


def properties_text(properties: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(properties.items()))


class ImageEditForm(forms.Form):
    """Every changeable attribute; ``changes()`` turns the differences into one patch."""

    name = forms.CharField(max_length=255)
    min_disk = forms.IntegerField(min_value=0, label="Min disk (GB)")
    min_ram = forms.IntegerField(min_value=0, label="Min RAM (MB)")
    visibility = forms.ChoiceField(choices=VISIBILITY_CHOICES[1:])
    protected = forms.BooleanField(required=False, help_text="A protected image cannot be deleted.")
    hidden = forms.BooleanField(
        required=False, help_text="Hidden images are left out of default lists (os_hidden)."
    )
    os_distro = forms.CharField(required=False, max_length=255, label="OS distribution")
    os_version = forms.CharField(required=False, max_length=255, label="OS version")
    properties = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        label="Custom properties",
        help_text="One key=value a line. Delete a line to remove that property.",
    )

    new_key = forms.RegexField(
        required=False,
        regex=r"^[A-Za-z0-9_.:-]{1,255}$",
        label="Add a property",
        widget=forms.TextInput(attrs={"list": "metadef-keys", "autocomplete": "off"}),
    )
    new_value = forms.CharField(required=False, max_length=255, label="Value")

    def __init__(self, *args, definitions: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The cloud's metadata definitions (empty where it serves none): key -> definition.
        self.definitions = definitions or {}

    @classmethod
    def initial_for(cls, image) -> dict[str, Any]:
        return {
            "name": image.name or "",
            "min_disk": image.min_disk,
            "min_ram": image.min_ram,
            "visibility": image.visibility,
            "protected": image.is_protected,
            "hidden": image.is_hidden,
            "os_distro": image.properties.get("os_distro", ""),
            "os_version": image.properties.get("os_version", ""),
            "properties": properties_text(editable_properties(image.properties)),
        }

    def clean_properties(self) -> dict[str, str]:
        parsed: dict[str, str] = {}
        for n, line in enumerate((self.cleaned_data.get("properties") or "").splitlines(), 1):
            if not line.strip():
                continue
            match = _PROPERTY_LINE.match(line)
            if not match:
                raise forms.ValidationError(f"Line {n} is not key=value.", code="syntax")
            key, value = match.groups()
            if key in parsed:
                raise forms.ValidationError(f"Line {n} repeats {key!r}.", code="repeat")
            if key in OWN_FIELDS:
                raise forms.ValidationError(
                    f"Line {n}: set {key} in its own field.", code="own_field"
                )
            parsed[key] = value
        return parsed

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        props = data.get("properties")
        if props is None:
            return data
        key, value = data.get("new_key"), data.get("new_value") or ""
        if key:
            if key in props or key in OWN_FIELDS:
                self.add_error("new_key", f"{key} is already set; change it above.")
            else:
                props[key] = value
        elif value:
            self.add_error("new_key", "Name the property to add.")
        # Values checked against the cloud's definitions before the call, as Horizon does.
        for name, value in props.items():
            if name in self.definitions:
                problem = check(name, value, self.definitions[name])
                if problem:
                    field = "new_key" if name == key else "properties"
                    self.add_error(field, problem)
        return data

    def changes(self, image) -> dict[str, Any]:
        """What differs from the image, as ``update_image`` keywords (``None`` removes)."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for field, attr in (
            ("name", "name"),
            ("min_disk", "min_disk"),
            ("min_ram", "min_ram"),
            ("visibility", "visibility"),
            ("protected", "is_protected"),
            ("hidden", "is_hidden"),
        ):
            if data[field] != getattr(image, attr):
                out[attr] = data[field]
        for key in OWN_FIELDS:
            old, new = image.properties.get(key), data.get(key) or None
            if new != old and not (new is None and old is None):
                out[key] = new
        old_props = editable_properties(image.properties)
        for key, value in data["properties"].items():
            if old_props.get(key) != value:
                out[key] = value
        for key in old_props.keys() - data["properties"].keys():
            out[key] = None
        return out


class CloudImageEditForm(forms.Form):
    """What IMS lets a project change on its own active private image (ims.md §2.2)."""

    name = forms.CharField(max_length=128)
    description = forms.CharField(
        required=False, max_length=1024, widget=forms.Textarea(attrs={"rows": 3})
    )
    min_ram = forms.IntegerField(required=False, min_value=0, label="Min RAM (MB)")
    max_ram = forms.IntegerField(required=False, min_value=0, label="Max RAM (MB)")
    hw_firmware_type = forms.ChoiceField(
        required=False,
        choices=[("", "not set"), ("bios", "BIOS"), ("uefi", "UEFI")],
        label="Boot mode",
    )
    hw_vif_multiqueue_enabled = forms.ChoiceField(
        required=False,
        choices=[("", "not set"), ("true", "yes"), ("false", "no")],
        label="NIC multi-queue",
    )

    WIRE = {"description": "__description"}

    @classmethod
    def initial_for(cls, image) -> dict[str, Any]:
        return {
            "name": image.name or "",
            "description": image.description or "",
            "min_ram": image.min_ram,
            "max_ram": image.max_ram,
            "hw_firmware_type": image.properties.get("hw_firmware_type", ""),
            "hw_vif_multiqueue_enabled": str(
                image.properties.get("hw_vif_multiqueue_enabled", "")
            ).lower(),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lo, hi = data.get("min_ram"), data.get("max_ram")
        if lo is not None and hi is not None and hi and lo > hi:
            self.add_error("max_ram", "Max RAM is below min RAM.")
        return data

    def changes(self, image) -> dict[str, Any]:
        """Changed attributes under their IMS names; a cleared one is removed (``None``)."""
        before = self.initial_for(image)
        out: dict[str, Any] = {}
        for field in self.fields:
            new, old = self.cleaned_data.get(field), before.get(field)
            if new in ("", None) and old in ("", None):
                continue
            if new != old:
                out[self.WIRE.get(field, field)] = None if new in ("", None) else new
        return out


class FindForm(forms.Form):
    q = forms.CharField(max_length=255, strip=True, label="Name or id")
