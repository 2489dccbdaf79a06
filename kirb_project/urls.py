from django.contrib import admin
from django.urls import include, path

from kirb_project.metrics_view import metrics

urlpatterns = [
    path("", include("chat.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
]

handler400 = "kirb_project.errors.bad_request"
handler403 = "kirb_project.errors.permission_denied"
handler404 = "kirb_project.errors.page_not_found"
handler500 = "kirb_project.errors.server_error"
