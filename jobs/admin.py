from django.contrib import admin

from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "kind", "title", "status", "progress", "created_at")
    list_filter = ("project", "kind", "status")
    readonly_fields = ("created_at", "updated_at")
