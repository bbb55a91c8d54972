"""The local cloud's URLs.

Keystone lives under ``/identity``. Glance v2 and IMS are served at the root of the host, as
real IMS serves them (``/v2/images``, ``/v2/cloudimages``, ``/v1/{project_id}/jobs/...``:
Huawei's SDK keeps only the scheme and host of its endpoint), and the same routes again
under ``/image``, the image endpoint in this cloud's catalog. The compute subset is under
``/compute/v2.1`` (its catalog entry) and ``/v2.1``; Huawei ECS's list under ``/v1``.
"""

from django.urls import include, path, re_path

from imsportal.localcloud import faults
from imsportal.localcloud.compute import views as compute
from imsportal.localcloud.glance import data as glance_data
from imsportal.localcloud.glance import images as glance_images
from imsportal.localcloud.glance import listing as glance_list
from imsportal.localcloud.glance import members as glance_members
from imsportal.localcloud.glance import metadefs
from imsportal.localcloud.glance import routing as glance
from imsportal.localcloud.glance import schemas as glance_schemas
from imsportal.localcloud.glance.routing import glance_route
from imsportal.localcloud.identity import projects
from imsportal.localcloud.identity import views as identity
from imsportal.localcloud.ims import create as ims_create
from imsportal.localcloud.ims import jobs as ims_jobs
from imsportal.localcloud.ims import listing as ims_list
from imsportal.localcloud.ims import update as ims_update
from imsportal.localcloud.ims.routing import ims_route

IMAGE = "v2/images/<str:image_id>"

glance_urls = [
    path("versions", glance.versions),
    path("v2/images", glance_route(GET=glance_list.list_images, POST=glance_images.create_image)),
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
        r"^v2/schemas/(?P<name>image|images|member|members)$",
        glance_route(GET=glance_schemas.schema_view),
    ),
    path("v2/info/stores", glance_route(GET=glance_schemas.info_stores)),
    path("v2/info/import", glance_route(GET=glance_schemas.info_import)),
    # Metadata definitions, read-only.
    path("v2/metadefs/namespaces", glance_route(GET=metadefs.list_namespaces)),
    path("v2/metadefs/namespaces/<str:namespace>", glance_route(GET=metadefs.show_namespace)),
    path(
        "v2/metadefs/namespaces/<str:namespace>/properties",
        glance_route(GET=metadefs.list_properties),
    ),
    path(
        "v2/metadefs/namespaces/<str:namespace>/properties/<str:name>",
        glance_route(GET=metadefs.show_property),
    ),
    path(
        "v2/metadefs/namespaces/<str:namespace>/objects",
        glance_route(GET=metadefs.list_objects),
    ),
    path(
        "v2/metadefs/namespaces/<str:namespace>/objects/<str:name>",
        glance_route(GET=metadefs.show_object),
    ),
    path(
        "v2/metadefs/namespaces/<str:namespace>/resource_types",
        glance_route(GET=metadefs.list_namespace_resource_types),
    ),
    path("v2/metadefs/resource_types", glance_route(GET=metadefs.list_resource_types)),
    re_path(
        r"^v2/schemas/metadefs/(?P<name>namespaces?|objects?|propert(?:y|ies)|resource_types?)$",
        glance_route(GET=metadefs.schema_view),
    ),
]

# IMS: reads need a role in the project; the methods in ``writes`` need member or admin.
ims_urls = [
    path("v2/cloudimages", ims_route(GET=ims_list.list_cloudimages)),
    path("v2/cloudimages/action", ims_route(writes=("POST",), POST=ims_create.create_cloudimage)),
    path(
        "v2/cloudimages/<str:image_id>",
        ims_route(writes=("PATCH",), PATCH=ims_update.update_cloudimage),
    ),
    path("v1/<str:project_id>/jobs/<str:job_id>", ims_route(GET=ims_jobs.show_job)),
]

image_urls = [
    *ims_urls,
    *glance_urls,
    # Last: every other v2 path is Glance's 404.
    re_path(r"^v2(?:/.*)?$", glance.not_found),
]

compute_urls = [
    path("", compute.version),
    path("servers", compute.list_servers),
    path("servers/detail", compute.list_servers_detail),
    path("servers/<str:server_id>", compute.show_server),
]

identity_urls = [
    path("v3", identity.version),
    path("v3/", identity.version),
    path("v3/auth/tokens", identity.tokens),
    path("v3/auth/projects", identity.auth_projects),
    path("v3/auth/catalog", identity.auth_catalog),
    path("v3/projects", projects.list_projects),
    path("v3/projects/<str:project_id>", projects.show_project),
    path("v3/users/<str:user_id>/projects", projects.list_user_projects),
    path("", identity.versions),
    # Last: anything else under /identity is Keystone's JSON 404, never an HTML page.
    re_path(r"^.*$", identity.not_found),
]

urlpatterns = [
    re_path(r"^identity(?:/|$)", include(identity_urls)),
    path("_admin/faults", faults.faults),
    path("image/", include(image_urls)),
    path("compute/v2.1", compute.version),
    path("compute/v2.1/", include(compute_urls)),
    path("v2.1/", include(compute_urls)),
    path("v1/<str:project_id>/cloudservers/detail", compute.list_cloudservers),
    *image_urls,
    # Any other path gets Glance's versions document (300), as Glance answers at its root.
    re_path(r"^.*$", glance.root),
]
