from django import forms

STATUS_CHOICES = [("", "any status")] + [
    (s, s) for s in ("active", "queued", "saving", "importing", "deactivated")
]
VISIBILITY_CHOICES = [("", "any visibility")] + [
    (v, v) for v in ("private", "shared", "community", "public")
]


class ImageFilterForm(forms.Form):
    """The Images page's filters; they live in the URL."""

    name = forms.CharField(required=False, max_length=255)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    visibility = forms.ChoiceField(required=False, choices=VISIBILITY_CHOICES)
    marker = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def cloud_query(self) -> dict:
        data = self.cleaned_data
        query = {k: data[k] for k in ("status", "visibility") if data.get(k)}
        if data.get("name"):
            # eq: lets a name contain a colon (Glance splits the value on the first one).
            query["name"] = f"eq:{data['name']}"
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
    for p in ("Windows", "Ubuntu", "RedHat", "SUSE", "CentOS", "Debian", "OpenSUSE", "Fedora")
    + ("EulerOS", "CoreOS", "Oracle Linux", "Other")
]


class CloudImageFilterForm(forms.Form):
    """The Cloud images page's filters, sent as IMS query parameters."""

    name = forms.CharField(required=False, max_length=255)
    imagetype = forms.ChoiceField(required=False, choices=IMAGE_TYPE_CHOICES, label="Type")
    platform = forms.ChoiceField(required=False, choices=PLATFORM_CHOICES)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    marker = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def cloud_query(self) -> dict:
        data = self.cleaned_data
        query = {
            "name": data.get("name"),
            "__imagetype": data.get("imagetype"),
            "__platform": data.get("platform"),
            "status": data.get("status"),
        }
        return {k: v for k, v in query.items() if v}
