from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("chat.urls")),
    path("admin/", admin.site.urls),
    path("", include("django_prometheus.urls")),
]

handler400 = "kirb_project.errors.bad_request"
handler403 = "kirb_project.errors.permission_denied"
handler404 = "kirb_project.errors.page_not_found"
handler500 = "kirb_project.errors.server_error"
