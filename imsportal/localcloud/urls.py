"""The local cloud's URLs: Keystone under /identity, Glance v2 and IMS under /image."""

from django.urls import path, re_path

from imsportal.localcloud.views import (
    faults,
    glance,
    glance_data,
    glance_images,
    glance_list,
    glance_members,
    glance_schemas,
    identity,
    ims,
    ims_create,
    ims_jobs,
    ims_update,
)
from imsportal.localcloud.views.glance import glance_route
from imsportal.localcloud.views.ims import ims_route

IMAGE = "image/v2/images/<str:image_id>"

glance_urls = [
    path("image/versions", glance.versions),
    path(
        "image/v2/images",
        glance_route(GET=glance_list.list_images, POST=glance_images.create_image),
    ),
    path(
        IMAGE,
        glance_route(
            GET=glance_images.show_image,
            PATCH=glance_images.update_image,
            DELETE=glance_images.delete_image,
        ),
    ),
    path(
        f"{IMAGE}/file",
        glance_route(GET=glance_data.download_image, PUT=glance_data.upload_image),
    ),
    path(
        f"{IMAGE}/actions/deactivate",
        glance_route(body_allowed=(), POST=glance_images.deactivate_image),
    ),
    path(
        f"{IMAGE}/actions/reactivate",
        glance_route(body_allowed=(), POST=glance_images.reactivate_image),
    ),
    path(
        f"{IMAGE}/tags/<str:tag>",
        glance_route(body_allowed=(), PUT=glance_images.add_tag, DELETE=glance_images.delete_tag),
    ),
    path(
        f"{IMAGE}/members",
        glance_route(GET=glance_members.list_members, POST=glance_members.add_member),
    ),
    path(
        f"{IMAGE}/members/<str:member_id>",
        glance_route(
            GET=glance_members.show_member,
            PUT=glance_members.update_member,
            DELETE=glance_members.remove_member,
        ),
    ),
    re_path(
        r"^image/v2/schemas/(?P<name>image|images|member|members)$",
        glance_route(GET=glance_schemas.schema_view),
    ),
    path("image/v2/info/stores", glance_route(GET=glance_schemas.info_stores)),
    path("image/v2/info/import", glance_route(GET=glance_schemas.info_import)),
]

# IMS: reads need a role in the project; the methods in ``writes`` need member or admin.
ims_urls = [
    path("image/v2/cloudimages", ims_route(GET=ims.list_cloudimages)),
    path(
        "image/v2/cloudimages/action",
        ims_route(writes=("POST",), POST=ims_create.create_cloudimage),
    ),
    path(
        "image/v2/cloudimages/<str:image_id>",
        ims_route(writes=("PATCH",), PATCH=ims_update.update_cloudimage),
    ),
    path("image/v1/<str:project_id>/jobs/<str:job_id>", ims_route(GET=ims_jobs.show_job)),
]

# Last: every other /image path. Routes for /image added elsewhere go above these.
fallback_urls = [
    re_path(r"^image/v2(?:/.*)?$", glance.not_found),
    # Any other first segment under /image gets the versions document (300), as Glance.
    re_path(r"^image(?:/.*)?$", glance.root),
]

urlpatterns = [
    path("identity/v3", identity.version),
    path("identity/v3/", identity.version),
    path("identity/v3/auth/tokens", identity.tokens),
    path("identity/v3/auth/projects", identity.auth_projects),
    path("identity/v3/auth/catalog", identity.auth_catalog),
    path("identity", identity.versions),
    path("identity/", identity.versions),
    *ims_urls,
    *glance_urls,
    path("_admin/faults", faults.faults),
    *fallback_urls,
]
