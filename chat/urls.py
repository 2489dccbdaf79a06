from django.urls import path

from chat import views

urlpatterns = [
    path("", views.index, name="index"),
    path("messages", views.messages, name="messages"),
    path("api/contact/<str:message_id>", views.contact, name="contact"),
    path("api/cooldown", views.cooldown, name="cooldown"),
    path("api/report", views.report, name="report"),
    path("api/track-visitor", views.track_visitor, name="track-visitor"),
    path("api/stats/daily", views.daily_stats, name="daily-stats"),
    path("api/stats/cities", views.city_stats, name="city-stats"),
]
