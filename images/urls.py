from django.urls import path

from images.views import cloud, detail, inbox, lists, members

app_name = "images"
urlpatterns = [
    path("", lists.image_list, name="list"),
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

# --- sharing (issue 10): members, inbox, outbox, bulk share ---------------------------------
urlpatterns += [
    path("shared/", inbox.inbox, name="shared"),
    path("shared/answer/", inbox.answer, name="answer"),
    path("outbox/", members.outbox, name="outbox"),
    path("share/", members.bulk_share, name="bulk_share"),
    path("<str:image_id>/members/", members.members, name="members"),
    path("<str:image_id>/members/add/", members.add_members, name="member_add"),
    path("<str:image_id>/members/make-shared/", members.make_image_shared, name="make_shared"),
    path(
        "<str:image_id>/members/<str:member_id>/remove/",
        members.remove_member,
        name="member_remove",
    ),
]
