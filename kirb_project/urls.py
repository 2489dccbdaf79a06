from django.contrib import admin
from django.urls import include, path

from kirb_project.metrics_view import metrics

urlpatterns = [
    path("", include("chat.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
]

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
