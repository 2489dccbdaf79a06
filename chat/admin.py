"""The moderators' view of messages: read, search, delete and restore; never edit.
Held posts (the content filter was unsure of them) have their own queue: approve or
reject.

Deleting and restoring go through chat.services, so live feeds on every instance drop
(``message_deleted``) or get back (``message``) the message at once. Nothing here hard-
deletes: a hard delete would not be broadcast (retention is ``manage.py purge_messages``).

The phone number is never in the list, the search or a URL. The change page shows it,
read-only, because moderators investigating a scam need it (the same number behind
several fingerprints or networks is the strongest link between rotated identities);
each such view is logged with the moderator's name, like a reveal.
"""

import logging
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from chat import services
from chat.models import HeldMessage, Message
from security.models import Shadowban

logger = logging.getLogger("kirb.security")

NO_CITY = "-"


class CityFilter(admin.SimpleListFilter):
    title = "city"
    parameter_name = "city"

    def lookups(self, request, model_admin):
        cities = Message.objects.order_by("city_key").values_list("city_key", flat=True).distinct()
        return [(city or NO_CITY, city or "(no city)") for city in cities]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(city_key="" if self.value() == NO_CITY else self.value())


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["short_text", "message_type", "location", "visibility", "is_deleted", "created_at", "poster"]
    list_display_links = ["short_text"]
    list_filter = [CityFilter, "message_type", "visibility", "review_reason", "is_deleted", "created_at"]
    search_fields = ["message"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    actions = ["delete_and_remove", "restore_and_broadcast", "approve_and_publish"]
    fieldsets = [
        (
            None,
            {"fields": ["message", "message_type", "location", "created_at", "visibility", "review_reason", "is_deleted"]},
        ),
        ("Poster", {"fields": ["phone", "public_id", "poster_fingerprint", "poster_ip", "poster_key", "related"]}),
    ]
    readonly_fields = [
        "id", "message", "message_type", "location", "created_at", "visibility", "review_reason", "is_deleted",
        "phone", "public_id", "poster_fingerprint", "poster_ip", "poster_key", "related",
    ]  # fmt: skip

    # Moderators moderate; they do not write or hard-delete posts.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="message", ordering="message")
    def short_text(self, message):
        return Truncator(message.message).chars(80)

    @admin.display(description="poster's fingerprint", ordering="poster_fingerprint")
    def poster(self, message):
        return Truncator(message.poster_fingerprint).chars(24)

    @admin.display(description="see also")
    def related(self, message):
        links = [
            ("posts from this fingerprint", "admin:chat_message_changelist", {"poster_fingerprint": message.poster_fingerprint}),
            ("posts from this composite key", "admin:chat_message_changelist", {"poster_key": message.poster_key}),
            (
                "reports on this fingerprint",
                "admin:security_report_changelist",
                {"reported_fingerprint": message.poster_fingerprint, "rows": "report"},
            ),
            (
                "shadowbans of this fingerprint",
                "admin:security_shadowban_changelist",
                {"target_type": Shadowban.Target.FINGERPRINT, "target": message.poster_fingerprint, "status": "all"},
            ),
            (
                "shadowbans of this composite key",
                "admin:security_shadowban_changelist",
                {"target_type": Shadowban.Target.KEY, "target": message.poster_key, "status": "all"},
            ),
        ]
        return format_html(
            "<br>".join(['<a href="{}">{}</a>'] * len(links)),
            *[part for label, name, query in links for part in (f"{reverse(name)}?{urlencode(query)}", label)],
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and self.has_view_permission(request):
            logger.info("phone of message %s shown to moderator %s", object_id, request.user.get_username())
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Delete (and remove from live feeds)", permissions=["change"])
    def delete_and_remove(self, request, queryset):
        selected = list(queryset)
        to_delete = [message for message in selected if not message.is_deleted]
        for message in to_delete:
            services.delete_message(message)
        self._report(request, len(to_delete), len(selected), "deleted and removed from live feeds", "already deleted")

    @admin.action(description="Restore (and broadcast again)", permissions=["change"])
    def restore_and_broadcast(self, request, queryset):
        selected = list(queryset)
        to_restore = [message for message in selected if message.is_deleted]
        for message in to_restore:
            services.restore_message(message)
        self._report(request, len(to_restore), len(selected), "restored and broadcast again", "not deleted")

    @admin.action(description="Approve held posts (publish to everyone)", permissions=["change"])
    def approve_and_publish(self, request, queryset):
        selected = list(queryset)
        approved = sum(services.approve_message(message) for message in selected)
        self._report(request, approved, len(selected), "approved and published", "not held")

    def _report(self, request, done, selected, what, skipped_because):
        text = f"{done} message{'s' if done != 1 else ''} {what}."
        if selected > done:
            text += f" {selected - done} skipped: {skipped_because}."
        self.message_user(request, text, messages.SUCCESS if done else messages.WARNING)


@admin.register(HeldMessage)
class HeldMessageAdmin(MessageAdmin):
    """The review queue: held posts nobody has decided on yet, oldest first. Rejecting
    is deleting (the author's page drops the post); approving publishes it."""

    list_display = ["short_text", "review_reason", "message_type", "location", "created_at", "poster"]
    list_filter = [CityFilter, "review_reason", "message_type"]
    ordering = ["created_at", "id"]
    actions = ["approve_and_publish", "delete_and_remove"]

    def get_queryset(self, request):
        return super().get_queryset(request).awaiting_review()


admin.site.site_header = admin.site.site_title = "Kirb moderation"
admin.site.index_title = "Messages, reports and bans"
