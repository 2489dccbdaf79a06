"""Visitor and city statistics, as the krib client shows them.

A city *view* is one identity reading one city's feed (``GET /messages?location=``) on
one UTC day, as krib counts it; a reload loop counts once. The answers are cached in
each process for STATS_CACHE_SECONDS (and say so in Cache-Control), so a client that
re-requests them in a render loop costs a dictionary lookup.
"""

import datetime
import logging
import math
import time

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone
from redis.exceptions import RedisError

from chat.cities import city_key
from chat.forms import CityStatsQueryForm, TrackVisitorForm
from chat.models import CityView, CityVisit, Message
from core import retention
from core.conf import kirb_setting
from security import policy

logger = logging.getLogger(__name__)

_SECONDS_PER_DAY = 86400
# Distinct current cities are bounded by the city list; this bounds the memory anyway.
_MAX_CACHED_ANSWERS = 512
_answers = {}  # (name, args) -> (expires at, answer)


def _cached(name, args, compute):
    ttl = kirb_setting("STATS_CACHE_SECONDS")
    now = time.monotonic()
    hit = _answers.get((name, args))
    if hit is not None and hit[0] > now:
        return hit[1]
    answer = compute()
    if ttl > 0:
        if len(_answers) >= _MAX_CACHED_ANSWERS:
            _answers.clear()
        _answers[(name, args)] = (now + ttl, answer)
    return answer


def track_visitor(identity, data):
    """One unique visitor per identity per UTC day; a ``location`` also counts as a view."""
    policy.admit_action(identity, None)  # fired by every page load: not an action to profile
    location, key = TrackVisitorForm.validate(data)["location"]
    try:
        with transaction.atomic():
            CityVisit.objects.create(day=timezone.now().date(), visitor_key=identity.key, city=location)
    except IntegrityError:
        pass  # already counted today
    if key:
        count_city_view(identity, location, key)
    return {"success": True, "message": "Visit recorded."}


def count_city_view(identity, spelling, key):
    """Count ``identity`` as a viewer of the city today, once.

    Redis (SET NX) spares the database a write on every reload; without Redis the view
    is simply not counted: a history read never fails over a statistic.
    """
    today = timezone.now().date()
    try:
        first_today = cache.add(f"stats:city_view:{today}:{key}:{identity.key}", 1, timeout=_SECONDS_PER_DAY)
    except RedisError:
        return
    if first_today:
        CityView.objects.bulk_create(
            [CityView(day=today, city_key=key, city=spelling, viewer_key=identity.key)], ignore_conflicts=True
        )


def daily_stats():
    return _cached("daily", (), _daily_stats)


def _daily_stats():
    now = timezone.now()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "unique_visitors": CityVisit.objects.filter(day=now.date()).count(),
        # What everyone can see: a shadowbanned author's posts must not move it.
        "message_count": Message.objects.live()
        .filter(visibility=Message.Visibility.PUBLIC, created_at__gte=start_of_day)
        .count(),
    }


def city_stats(query):
    """The major cities (even at 0 views), the busiest others and the asker's city."""
    current, current_key = CityStatsQueryForm.validate(query)["current_city"]
    return _cached("cities", (current_key, current), lambda: _city_stats(current, current_key))


def _city_stats(current, current_key):
    window_days = kirb_setting("STATS_WINDOW_DAYS")
    since = timezone.now().date() - datetime.timedelta(days=window_days - 1)
    busiest = (
        CityView.objects.filter(day__gte=since)
        .values("city_key")
        .annotate(views=Count("id"), spelling=Max("city"))
        .order_by("-views", "city_key")
    )
    majors = [city.strip() for city in kirb_setting("STATS_MAJOR_CITIES").split(",") if city.strip()]
    spellings = {city_key(city): city for city in majors}
    if current_key:
        spellings.setdefault(current_key, current)
    views = dict.fromkeys(spellings, 0)
    extra = kirb_setting("STATS_MAX_OTHER_CITIES")
    for row in busiest:
        if row["city_key"] in views:
            views[row["city_key"]] = row["views"]
        elif extra > 0:
            extra -= 1
            spellings[row["city_key"]] = row["spelling"]
            views[row["city_key"]] = row["views"]
    ranked = sorted(views.items(), key=lambda item: -item[1])  # stable: majors first on ties
    return [
        {"city": spellings[key], "views": count, "daily_average": _per_day(count, window_days)}
        for key, count in ranked
    ]


def _per_day(views, days):
    return math.floor(views / days * 10) / 10


def purge_stats(days, *, dry_run=False):
    """Delete the visit/view statistics (CityVisit, CityView) of days more than ``days``
    before today (UTC); returns ``(count, first_day_kept)``."""
    first_kept = timezone.now().date() - datetime.timedelta(days=days)
    old = [model.objects.filter(day__lt=first_kept) for model in (CityVisit, CityView)]
    return retention.purge(old, what=f"visit/view rows before {first_kept.isoformat()}", dry_run=dry_run), first_kept
