"""The local cloud's URLs: Keystone under /identity, Glance v2 and IMS under /image."""

from django.urls import path, re_path

from imsportal.localcloud.views import glance, identity

urlpatterns = [
    path("identity/v3", identity.version),
    path("identity/v3/", identity.version),
    path("identity/v3/auth/tokens", identity.tokens),
    path("image/versions", glance.versions),
    path("image/v2/images", glance.images),
    path("image/v2/images/<str:image_id>", glance.image),
    re_path(r"^image(/.*)?$", glance.root),
]
