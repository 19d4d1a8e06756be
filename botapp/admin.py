"""What the bot told customers, read-only: so an operator can answer "did I get it?"."""

from django.contrib import admin

from botapp.models import Notice
from moonvpn.admin import ReadOnlyAdmin


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    # Read-only above all because a notice's row is what keeps it from going out twice.
    list_display = ("key", "order", "created_at")
    list_filter = ("created_at",)
    search_fields = ("key", "order__id", "order__user__telegram_id")
    list_select_related = ("order",)
