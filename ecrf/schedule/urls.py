from django.urls import path

from ecrf.schedule import views

app_name = "schedule"
urlpatterns = [
    path("participants/<int:pk>/casebook/", views.casebook, name="casebook"),
]
