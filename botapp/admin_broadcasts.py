"""Broadcasts in the console: write (with a preview), Send, Cancel, watch the progress."""

import re
from html import escape

from django.contrib import admin, messages
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from botapp.broadcasts import (
    IN_FLIGHT,
    BroadcastError,
    audience,
    broadcast_cancel,
    broadcast_delete,
    broadcast_edit,
    broadcast_queue,
)
from botapp.models import Broadcast

# The tags Telegram's HTML parse mode knows; anything else is shown escaped, as text.
_TAG = re.compile(
    r"&lt;(/?)(b|strong|i|em|u|ins|s|strike|del|code|pre|tg-spoiler)&gt;"
    r"|&lt;a href=&quot;(https?://[^&\s]+)&quot;&gt;|&lt;/a&gt;"
)


def telegram_html_preview(text: str) -> str:
    def tag(match):
        if match.group(3):
            return f'<a href="{match.group(3)}" rel="noopener" target="_blank">'
        if match.group(0) == "&lt;/a&gt;":
            return "</a>"
        return f"<{match.group(1)}{match.group(2)}>"

    return _TAG.sub(tag, escape(text, quote=True)).replace("\n", "<br>")


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ("__str__", "audience", "status", "progress", "created_at", "finished_at")
    list_filter = ("status", "audience")
    readonly_fields = (
        "preview",
        "recipients_now",
        "status",
        "total",
        "sent",
        "failed",
        "blocked",
        "created_by",
        "created_at",
        "queued_at",
        "finished_at",
    )
    fields = (
        "text",
        "preview",
        ("audience", "expired_days"),
        "recipients_now",
        "status",
        ("total", "sent", "failed", "blocked"),
        ("created_by", "created_at", "queued_at", "finished_at"),
    )
    actions = ["send_broadcast", "cancel_broadcast"]

    def has_change_permission(self, request, obj=None):
        # Only a draft is edited; a queued or sent text is history.
        if obj is not None and obj.status != Broadcast.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A queued or sending broadcast is cancelled first (botapp.broadcasts).
        if obj is not None and obj.status in IN_FLIGHT:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            super().save_model(request, obj, form, change)
            return
        try:
            broadcast_edit(
                broadcast_id=obj.pk,
                text=obj.text,
                audience=obj.audience,
                expired_days=obj.expired_days,
            )
        except BroadcastError:
            self.message_user(
                request,
                _("%(b)s was sent meanwhile: it is no longer a draft, so it was not changed.")
                % {"b": obj},
                messages.ERROR,
            )

    def delete_model(self, request, obj):
        self._delete(request, obj)

    def delete_queryset(self, request, queryset):
        for broadcast in queryset:
            self._delete(request, broadcast)

    def _delete(self, request, broadcast):
        try:
            broadcast_delete(broadcast_id=broadcast.pk)
        except BroadcastError:
            self.message_user(
                request,
                _("%(b)s is being sent: cancel it first; it was not deleted.") % {"b": broadcast},
                messages.WARNING,
            )

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if not obj or not obj.text:
            return "—"
        return mark_safe(  # noqa: S308 - escaped above, only Telegram's tags restored
            '<div style="white-space:normal;max-width:40em;padding:.5em;'
            'border:1px solid #ccc;border-radius:8px">'
            f"{telegram_html_preview(obj.text)}</div>"
        )

    @admin.display(description=_("recipients now"))
    def recipients_now(self, obj):
        return audience(obj).count() if obj and obj.pk else "—"

    @admin.display(description=_("progress"))
    def progress(self, obj):
        if not obj.total:
            return "—"
        return _("%(sent)s sent, %(failed)s failed, %(blocked)s blocked of %(total)s") % {
            "sent": obj.sent,
            "failed": obj.failed,
            "blocked": obj.blocked,
            "total": obj.total,
        }

    @admin.action(description=_("Send the selected drafts"), permissions=["change"])
    def send_broadcast(self, request, queryset):
        for broadcast in queryset:
            try:
                broadcast_queue(broadcast_id=broadcast.pk)
                self.message_user(request, _("%(b)s is queued.") % {"b": broadcast})
            except BroadcastError:
                self.message_user(
                    request, _("%(b)s is not a draft.") % {"b": broadcast}, messages.WARNING
                )

    @admin.action(description=_("Cancel the selected broadcasts"), permissions=["change"])
    def cancel_broadcast(self, request, queryset):
        for broadcast in queryset:
            try:
                broadcast_cancel(broadcast_id=broadcast.pk)
                self.message_user(request, _("%(b)s is cancelled.") % {"b": broadcast})
            except BroadcastError:
                self.message_user(
                    request, _("%(b)s is already finished.") % {"b": broadcast}, messages.WARNING
                )
