from django.urls import path

from ecrf.randomization import views

app_name = "randomization"
urlpatterns = [
    path("participants/<int:pk>/randomize/", views.randomize, name="randomize"),
    path("participants/<int:pk>/unblind/", views.unblind, name="unblind"),
    path("randomization/lists/", views.lists, name="lists"),
    path("randomization/lists/generate/", views.generate, name="generate"),
    path("randomization/lists/import/", views.import_list, name="import"),
    path("randomization/lists/<int:pk>/", views.list_detail, name="list-detail"),
    path("randomization/study-unblinding/", views.study_unblind, name="study-unblind"),
]
