from django.urls import path

from ecrf.sofa import views

app_name = "sofa"
urlpatterns = [
    path("participants/<int:pk>/sofa/preview/", views.score_preview, name="preview"),
]
