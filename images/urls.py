from django.urls import path

from images.views import cloud, detail, lists

app_name = "images"
urlpatterns = [
    path("", lists.image_list, name="list"),
    path("shared/", lists.shared_with_me, name="shared"),
    path("cloud/", cloud.cloudimage_list, name="cloudimages"),
    # --- image pages (issue 10): one image, its actions, find, bulk ---
    path("find/", lists.find_image, name="find"),
    path("bulk/", lists.bulk_action, name="bulk"),
    path("cloud/<uuid:image_id>/edit/", cloud.cloudimage_edit, name="cloudimage_edit"),
    path("<uuid:image_id>/", detail.image_detail, name="detail"),
    path("<uuid:image_id>/row/", lists.image_row, name="row"),
    path("<uuid:image_id>/edit/", detail.image_edit, name="edit"),
    path("<uuid:image_id>/delete/", detail.image_delete, name="delete"),
    path("<uuid:image_id>/unprotect/", detail.image_unprotect, name="unprotect"),
    path("<uuid:image_id>/deactivate/", detail.image_deactivate, name="deactivate"),
    path("<uuid:image_id>/reactivate/", detail.image_reactivate, name="reactivate"),
    path("<uuid:image_id>/tags/", detail.image_tags, name="tags"),
    path("<uuid:image_id>/tags/remove/", detail.image_tag_remove, name="tag_remove"),
]
