from django.urls import path

from ecrf.pharmacy import views

app_name = "pharmacy"
urlpatterns = [
    path("pharmacy/", views.worklist_page, name="worklist"),
    path("pharmacy/participants/<int:pk>/", views.participant_page, name="participant"),
]
