from django.urls import path

from ecrf.notifications import views

app_name = "notifications"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<uuid:pk>/read/", views.mark_read, name="mark-read"),
]
