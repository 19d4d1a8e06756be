from django.contrib import admin

from ops import console
from ops.models import JobRun

# Jalali dates and Tehran times in the Persian console's columns and fields.
console.install()


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "last_started_at", "last_success_at", "last_error"]
    readonly_fields = [
        "name",
        "last_started_at",
        "last_finished_at",
        "last_success_at",
        "last_error",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # The rows are /healthz's evidence: only the scheduler writes or clears them.
    def has_delete_permission(self, request, obj=None):
        return False
