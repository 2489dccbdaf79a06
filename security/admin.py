"""The moderators' tools for abuse defence: reports, shadowbans, IP blocks, bot detections.

Every change to a shadowban or block goes through security.moderation, which updates the
record and then Redis, so it takes effect on every instance at once. Records are never
edited or deleted here (a deleted record would leave Redis enforcing it): they are
added, lifted, extended or made permanent, and kept as the history.
"""

import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from redis.exceptions import RedisError

from security import enforcement, moderation, reports, store
from security.models import BotDetection, IPBlock, ModerationCase, Report, Shadowban

PERMANENT = "permanent"
SHADOWBAN_EXTENSION = datetime.timedelta(hours=24)
IP_BLOCK_EXTENSION = datetime.timedelta(hours=1)

SHADOWBAN_DURATIONS = [
    ("3600", "1 hour"),
    ("86400", "24 hours"),
    ("604800", "7 days"),
    ("2592000", "30 days"),
    (PERMANENT, "Permanent (until lifted)"),
]
IP_BLOCK_DURATIONS = [
    ("1800", "30 minutes"),
    ("3600", "1 hour"),
    ("86400", "24 hours"),
    ("604800", "7 days"),
    (PERMANENT, "Permanent (until lifted)"),
]


def _seconds(value):
    return None if value == PERMANENT else int(value)


def _link(label, url_name, **query):
    return format_html('<a href="{}?{}">{}</a>', reverse(url_name), urlencode(query), label)


def _links(*links):
    return format_html("<br>".join(["{}"] * len(links)), *links)


def _short(value, chars=16):
    if len(value) <= chars:
        return value
    return format_html('<code title="{}">{}…</code>', value, value[:chars])


def redis_failed(error):
    return (
        f"Redis is unavailable ({error}): the change is saved in the database but the instances may not "
        "enforce it yet. When Redis answers, run `manage.py sync_bans` for new bans and extensions, and "
        "`manage.py unban <target>` or `manage.py unblock_ip <ip>` for lifts."
    )


def _plural(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


# --- Shadowbans and IP blocks ----------------------------------------------------------


class DefaultedFilter(admin.SimpleListFilter):
    """A list filter with a default choice instead of Django's "All"."""

    default = None

    def value(self):
        return super().value() or self.default

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class StatusFilter(DefaultedFilter):
    """Active records by default: what is being enforced right now."""

    title = "status"
    parameter_name = "status"
    default = "active"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired"), ("lifted", "Lifted"), ("all", "All")]


    def queryset(self, request, queryset):
        status = self.value()
        if status == "active":
            return queryset.active()
        if status == "expired":
            return queryset.filter(lifted_at__isnull=True, expires_at__lte=timezone.now())
        if status == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


class ShadowbanAddForm(forms.ModelForm):
    duration = forms.TypedChoiceField(choices=SHADOWBAN_DURATIONS, coerce=_seconds, initial="86400")

    class Meta:
        model = Shadowban
        fields = ["target_type", "target"]
        help_texts = {"target": "A composite key (64 hexadecimal characters) or a browser fingerprint."}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("target_type") and cleaned.get("target"):
            try:
                cleaned["target"] = moderation.clean_target(cleaned["target_type"], cleaned["target"])
            except ValueError as error:
                self.add_error("target", str(error))
        return cleaned


class IPBlockAddForm(forms.ModelForm):
    duration = forms.TypedChoiceField(
        choices=IP_BLOCK_DURATIONS,
        coerce=_seconds,
        initial="1800",
        help_text="Addresses are shared (mobile networks, offices, hostels): prefer short blocks.",
    )
    moderator_ip = None  # set per request by IPBlockAdmin.get_form

    class Meta:
        model = IPBlock
        fields = ["ip"]

    def clean_ip(self):
        try:
            ip = moderation.clean_ip_to_block(self.cleaned_data["ip"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        if ip == self.moderator_ip:
            raise forms.ValidationError(
                f"{ip} is your own address: blocking it would lock you out of the admin too."
            )
        return ip


class EnforcementAdmin(admin.ModelAdmin):
    """What shadowbans and IP blocks share: read-only records, changed by actions only."""

    add_form = None
    extension = None
    list_filter = [StatusFilter, "reason"]
    list_per_page = 100
    date_hierarchy = "created_at"
    readonly_fields = ["reason", "created_at", "expires", "lifted_at", "status", "enforced_in_redis"]

    def get_ordering(self, request):
        return ["-created_at", "-id"]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*self.target_fields, *self.readonly_fields]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": [*self.target_fields, "duration"]})]
        return [(None, {"fields": [*self.target_fields, *self.readonly_fields]})]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except RedisError as error:  # the add ran in a transaction: rolled back, nothing imposed
            message = f"Redis is unavailable ({error}): nothing was added; try again when it answers."
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only: changes are the actions
        # The service stores its own record; this form's object becomes that record.
        record = self.impose(obj, form.cleaned_data["duration"])
        for field in record._meta.concrete_fields:
            setattr(obj, field.attname, getattr(record, field.attname))
        obj._state.adding, obj._state.db = False, record._state.db

    # --- columns -----------------------------------------------------------------------

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, record):
        return "permanent" if record.expires_at is None else record.expires_at

    @admin.display(description="status")
    def status(self, record):
        if record.lifted_at is not None:
            return "lifted"
        if record.expires_at is not None and record.expires_at <= timezone.now():
            return "expired"
        return "active"

    @admin.display(description="enforced in Redis (all records of this target)")
    def enforced_in_redis(self, record):
        try:
            ttl = store.redis().ttl(enforcement.redis_key(record))
        except RedisError:
            return "unknown: Redis is unavailable"
        if ttl == -2:
            return "no"
        if ttl == -1:
            return "yes, until lifted"
        return f"yes, {datetime.timedelta(seconds=ttl)} left"

    # --- actions -----------------------------------------------------------------------

    def _lift(self, request, queryset):
        selected = list(queryset)
        lifted = [record for record in selected if self.status(record) == "active"]
        if not self._apply(request, moderation.lift, lifted):
            return
        self._report(request, len(lifted), len(selected), "lifted", "not active")
        for record in lifted:
            others = self.model.objects.active().filter(**self.target_of(record))
            if others.exists():
                self.message_user(
                    request,
                    f"{record} is lifted, but {self.target_label(record)} is still enforced by "
                    f"{_plural(others.count(), 'other active record')}: lift those too to free it.",
                    messages.WARNING,
                )

    def _extend(self, request, queryset):
        selected = list(queryset)
        extended = [r for r in selected if r.lifted_at is None and r.expires_at is not None]
        if not self._apply(request, lambda record: moderation.extend(record, self.extension.total_seconds()), extended):
            return
        self._report(request, len(extended), len(selected), "extended", "permanent or lifted")

    def _make_permanent(self, request, queryset):
        selected = list(queryset)
        changed = [r for r in selected if r.lifted_at is None and r.expires_at is not None]
        if not self._apply(request, moderation.make_permanent, changed):
            return
        self._report(request, len(changed), len(selected), "made permanent", "already permanent or lifted")

    def _apply(self, request, operation, records):
        """``operation`` on each record; False (and the moderator told what to do) if Redis failed."""
        try:
            for record in records:
                operation(record)
        except RedisError as error:
            self.message_user(request, redis_failed(error), messages.ERROR)
            return False
        return True

    def _report(self, request, done, selected, what, skipped_because):
        text = f"{_plural(done, self.noun)} {what}, on every instance."
        if selected > done:
            text += f" {selected - done} skipped: {skipped_because}."
        self.message_user(request, text, messages.SUCCESS if done else messages.WARNING)


@admin.register(Shadowban)
class ShadowbanAdmin(EnforcementAdmin):
    add_form = ShadowbanAddForm
    noun = "shadowban"
    extension = SHADOWBAN_EXTENSION
    target_fields = ["target_type", "target"]
    list_display = ["target_short", "target_type", "reason", "created_at", "expires", "status", "posts"]
    list_filter = [StatusFilter, "reason", "target_type"]
    search_fields = ["=target"]
    actions = ["lift_shadowbans", "extend_shadowbans", "make_shadowbans_permanent"]

    def impose(self, obj, seconds):
        return moderation.shadowban_by_moderator(obj.target_type, obj.target, seconds)

    def target_of(self, record):
        return {"target_type": record.target_type, "target": record.target}

    def target_label(self, record):
        return f"{record.get_target_type_display().lower()} {record.target}"

    @admin.display(description="target", ordering="target")
    def target_short(self, record):
        return _short(record.target, 16 if record.target_type == Shadowban.Target.KEY else 32)

    @admin.display(description="posts")
    def posts(self, record):
        field = "poster_fingerprint" if record.target_type == Shadowban.Target.FINGERPRINT else "poster_key"
        return _link("posts", "admin:chat_message_changelist", **{field: record.target})

    @admin.action(description="Lift (unban now)", permissions=["change"])
    def lift_shadowbans(self, request, queryset):
        self._lift(request, queryset)

    @admin.action(description="Extend by 24 hours", permissions=["change"])
    def extend_shadowbans(self, request, queryset):
        self._extend(request, queryset)

    @admin.action(description="Make permanent", permissions=["change"])
    def make_shadowbans_permanent(self, request, queryset):
        self._make_permanent(request, queryset)


@admin.register(IPBlock)
class IPBlockAdmin(EnforcementAdmin):
    add_form = IPBlockAddForm
    noun = "IP block"
    extension = IP_BLOCK_EXTENSION
    target_fields = ["ip"]
    list_display = ["ip", "reason", "created_at", "expires", "status", "posts"]
    search_fields = ["=ip"]
    actions = ["lift_blocks", "extend_blocks", "make_blocks_permanent"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            identity = getattr(request, "identity", None)
            form = type(form.__name__, (form,), {"moderator_ip": identity.ip if identity else None})
        return form

    def impose(self, obj, seconds):
        return moderation.block_by_moderator(obj.ip, seconds)

    def target_of(self, record):
        return {"ip": record.ip}

    def target_label(self, record):
        return record.ip

    @admin.display(description="posts")
    def posts(self, record):
        return _link("posts", "admin:chat_message_changelist", poster_ip=record.ip)

    @admin.action(description="Lift (unblock now)", permissions=["change"])
    def lift_blocks(self, request, queryset):
        self._lift(request, queryset)

    @admin.action(description="Extend by 1 hour", permissions=["change"])
    def extend_blocks(self, request, queryset):
        self._extend(request, queryset)

    @admin.action(description="Make permanent", permissions=["change"])
    def make_blocks_permanent(self, request, queryset):
        self._make_permanent(request, queryset)


# --- Reports ---------------------------------------------------------------------------


class ReportRowsFilter(DefaultedFilter):
    """One row per reported fingerprint (its latest report) by default, or every report."""

    title = "rows"
    parameter_name = "rows"
    default = "fingerprint"

    def lookups(self, request, model_admin):
        return [("fingerprint", "One per reported fingerprint"), ("report", "Every report")]


    def queryset(self, request, queryset):
        if self.value() == "fingerprint":
            return queryset.filter(id=F("latest_report_id"))
        return queryset


def _per_fingerprint(aggregate):
    same_fingerprint = Report.objects.filter(reported_fingerprint=OuterRef("reported_fingerprint")).order_by()
    return Subquery(
        same_fingerprint.values("reported_fingerprint").annotate(n=aggregate).values("n"), output_field=IntegerField()
    )


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "reported_fingerprint", "distinct_reporters", "report_count", "messages_reported", "created_at",
        "shadowbanned", "links",
    ]  # fmt: skip
    list_display_links = ["created_at"]
    list_filter = [ReportRowsFilter, "created_at"]
    search_fields = ["=reported_fingerprint"]
    list_per_page = 100
    readonly_fields = [
        "reported_fingerprint", "reported_message", "message_uuid", "poster_ip", "reporter_key", "reporter_network",
        "counted", "created_at",
        "distinct_reporters", "shadowbanned", "links",
    ]  # fmt: skip
    fields = readonly_fields
    actions = ["shadowban_fingerprints", "lift_fingerprint_shadowbans"]

    def get_queryset(self, request):
        same_fingerprint = Report.objects.filter(reported_fingerprint=OuterRef("reported_fingerprint"))
        latest = same_fingerprint.order_by("-created_at", "-id")
        # Not super(): it orders by the annotations before they exist.
        return (
            Report.objects.select_related("message")
            .annotate(
                latest_report_id=Subquery(latest.values("id")[:1]),
                distinct_reporters=_per_fingerprint(Count("reporter_key", distinct=True)),
                report_count=_per_fingerprint(Count("id")),
                messages_reported=_per_fingerprint(Count("message_uuid", distinct=True)),
                fingerprint_banned=Exists(
                    Shadowban.objects.active().filter(
                        target_type=Shadowban.Target.FINGERPRINT, target=OuterRef("reported_fingerprint")
                    )
                ),
            )
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        return ["-distinct_reporters", "-created_at", "-id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_shadowban_permission(self, request):
        return request.user.has_perm("security.add_shadowban")

    def has_unban_permission(self, request):
        return request.user.has_perm("security.change_shadowban")

    @admin.display(description="distinct reporters", ordering="distinct_reporters")
    def distinct_reporters(self, report):
        return report.distinct_reporters

    @admin.display(description="reports", ordering="report_count")
    def report_count(self, report):
        return report.report_count

    @admin.display(description="messages reported", ordering="messages_reported")
    def messages_reported(self, report):
        return report.messages_reported

    @admin.display(description="fingerprint shadowbanned", boolean=True, ordering="fingerprint_banned")
    def shadowbanned(self, report):
        return report.fingerprint_banned

    @admin.display(description="message")
    def reported_message(self, report):
        if report.message is None:
            return "purged (retention)"
        url = reverse("admin:chat_message_change", args=[report.message.pk])
        return format_html('<a href="{}">{}</a>', url, Truncator(report.message.message).chars(80))

    @admin.display(description="see")
    def links(self, report):
        fingerprint = report.reported_fingerprint
        return _links(
            _link("its posts", "admin:chat_message_changelist", poster_fingerprint=fingerprint),
            _link("every report", "admin:security_report_changelist", reported_fingerprint=fingerprint, rows="report"),
            _link(
                "its shadowbans",
                "admin:security_shadowban_changelist",
                target_type=Shadowban.Target.FINGERPRINT,
                target=fingerprint,
                status="all",
            ),
        )

    @admin.action(description="Shadowban the reported fingerprints (permanently)", permissions=["shadowban"])
    def shadowban_fingerprints(self, request, queryset):
        banned, skipped = [], []
        for fingerprint in sorted(set(queryset.values_list("reported_fingerprint", flat=True))):
            try:
                fingerprint = moderation.clean_fingerprint(fingerprint)
            except ValueError as error:
                self.message_user(request, str(error), messages.WARNING)
                continue
            active = Shadowban.objects.active().filter(target_type=Shadowban.Target.FINGERPRINT, target=fingerprint)
            if active.filter(expires_at__isnull=True).exists():
                skipped.append(fingerprint)
                continue
            try:
                moderation.shadowban_by_moderator(Shadowban.Target.FINGERPRINT, fingerprint)
            except RedisError as error:
                self.message_user(request, redis_failed(error), messages.ERROR)
                return
            banned.append(fingerprint)
        text = f"{_plural(len(banned), 'fingerprint')} shadowbanned permanently, on every instance."
        if skipped:
            text += f" {len(skipped)} already were."
        self.message_user(request, text, messages.SUCCESS if banned else messages.WARNING)

    @admin.action(description="Lift the shadowbans of the reported fingerprints", permissions=["unban"])
    def lift_fingerprint_shadowbans(self, request, queryset):
        fingerprints = sorted(set(queryset.values_list("reported_fingerprint", flat=True)))
        try:
            lifted = sum(
                moderation.lift_all(
                    Shadowban.objects.filter(target_type=Shadowban.Target.FINGERPRINT, target=fingerprint)
                )
                for fingerprint in fingerprints
            )
        except RedisError as error:
            self.message_user(request, redis_failed(error), messages.ERROR)
            return
        self.message_user(
            request,
            f"{_plural(lifted, 'shadowban')} of {_plural(len(fingerprints), 'fingerprint')} lifted, on every instance.",
            messages.SUCCESS if lifted else messages.WARNING,
        )


# --- Bot detections --------------------------------------------------------------------


@admin.register(BotDetection)
class BotDetectionAdmin(admin.ModelAdmin):
    list_display = ["rule", "ip", "key_short", "created_at", "links"]
    list_filter = ["rule", "created_at"]
    search_fields = ["=ip", "=composite_key"]
    date_hierarchy = "created_at"
    list_per_page = 100
    readonly_fields = ["rule", "ip", "composite_key", "created_at", "links"]
    fields = readonly_fields

    def get_ordering(self, request):
        return ["-created_at", "-id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="composite key", ordering="composite_key")
    def key_short(self, detection):
        return _short(detection.composite_key)

    @admin.display(description="see")
    def links(self, detection):
        return _links(
            _link("posts from this key", "admin:chat_message_changelist", poster_key=detection.composite_key),
            _link(
                "shadowbans of this key",
                "admin:security_shadowban_changelist",
                target_type=Shadowban.Target.KEY,
                target=detection.composite_key,
                status="all",
            ),
            _link("blocks of this IP", "admin:security_ipblock_changelist", ip=detection.ip, status="all"),
        )


# --- The moderation queue: what reports did automatically, for a moderator to decide ---


@admin.register(ModerationCase)
class ModerationCaseAdmin(admin.ModelAdmin):
    list_display = ["fingerprint", "status", "opened_at", "reports_counted", "reporter_networks", "ban_expires", "decided_by"]
    list_filter = ["status", "opened_at"]
    search_fields = ["=fingerprint"]
    readonly_fields = [
        "fingerprint", "status", "opened_at", "decided_at", "decided_by", "ban_expires", "reports_counted",
        "reporter_networks", "report_rows",
    ]  # fmt: skip
    fields = readonly_fields
    actions = ["uphold_cases", "dismiss_cases"]
    ordering = ["status", "-opened_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _reports(self, case):
        return Report.objects.filter(reported_fingerprint=case.fingerprint)

    @admin.display(description="counted reports")
    def reports_counted(self, case):
        return self._reports(case).filter(counted=True).count()

    @admin.display(description="reporter networks")
    def reporter_networks(self, case):
        networks = sorted(set(self._reports(case).filter(counted=True).values_list("reporter_network", flat=True)))
        return ", ".join(networks)

    @admin.display(description="shadowban expires")
    def ban_expires(self, case):
        if case.shadowban is None:
            return "-"
        return case.shadowban.expires_at or PERMANENT

    @admin.display(description="reports")
    def report_rows(self, case):
        rows = self._reports(case).order_by("created_at")
        return format_html(
            "<br>".join(["{} · message {} · network {} · {}"] * len(rows)),
            *[
                part
                for report in rows
                for part in (
                    report.created_at.strftime("%Y-%m-%d %H:%M"),
                    report.message_uuid,
                    report.reporter_network or "?",
                    "counted" if report.counted else "not counted",
                )
            ],
        )

    def _decide(self, request, queryset, decide, what):
        pending = list(queryset.filter(status=ModerationCase.Status.PENDING))
        try:
            for case in pending:
                decide(case, request.user.get_username())
        except RedisError as error:
            self.message_user(request, redis_failed(error), messages.ERROR)
            return
        self.message_user(request, f"{_plural(len(pending), 'case')} {what}.", messages.SUCCESS if pending else messages.WARNING)

    @admin.action(description="Uphold (make the shadowban permanent)", permissions=["change"])
    def uphold_cases(self, request, queryset):
        self._decide(request, queryset, reports.uphold, "upheld")

    @admin.action(description="Dismiss (lift the shadowban, restore deleted posts)", permissions=["change"])
    def dismiss_cases(self, request, queryset):
        self._decide(request, queryset, reports.dismiss, "dismissed")
