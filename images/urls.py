from django.urls import path

from images import tus
from images.views import create, lists, upload

app_name = "images"
urlpatterns = [
    path("", lists.image_list, name="list"),
    path("shared/", lists.shared_with_me, name="shared"),
    path("cloud/", lists.cloudimage_list, name="cloudimages"),
]

# --- uploads (tus) and IMS image creation (issue 11) ------------------------------------------
urlpatterns += [
    path("upload/", upload.upload_page, name="upload"),
    path("uploads/", tus.tus_create, name="tus_create"),
    path("uploads/unfinished", upload.unfinished_uploads, name="unfinished_uploads"),
    path("uploads/<uuid:upload_id>", tus.tus_upload, name="tus_upload"),
    path("uploads/<uuid:upload_id>/discard", upload.discard_upload, name="discard_upload"),
    path("create/", create.create_page, name="create"),
]
