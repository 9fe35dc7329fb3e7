from django.urls import path

from ecrf.review import views

app_name = "review"
urlpatterns = [
    path("review/locks/", views.locks, name="locks"),
    path("review/locks/<int:pk>/unlock/", views.unlock, name="unlock"),
    path("review/verification/", views.progress, name="progress"),
    path("review/participants/<int:pk>/verification/", views.participant_sdv, name="participant-sdv"),
    path("review/participants/<int:pk>/sign/", views.sign, name="sign"),
]
