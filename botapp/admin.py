"""What the bot told customers, read-only: so an operator can answer "did I get it?"."""

from django.contrib import admin

from botapp.models import Notice


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A notice's row is what keeps it from being sent twice.
        return False


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("key", "order", "created_at")
    list_filter = ("created_at",)
    search_fields = ("key", "order__id", "order__user__telegram_id")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
