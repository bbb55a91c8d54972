from django.contrib import admin

from imsportal.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: nobody changes or deletes entries from the portal."""

    list_display = ("at", "username", "project_name", "action", "target_name", "outcome")
    list_filter = ("action", "outcome")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
