from django.urls import path

from ecrf.dosing import views

app_name = "dosing"
urlpatterns = [
    path("participants/<int:pk>/dosing/<int:day>/", views.dosing_day, name="day"),
]
