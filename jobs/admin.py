from django.contrib import admin

from jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "title", "status", "progress", "created_at")
    list_filter = ("kind", "status")
    readonly_fields = ("created_at", "updated_at")
