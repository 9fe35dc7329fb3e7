from django.urls import path

from ecrf.crf import views

app_name = "crf"
urlpatterns = [
    path("participants/", views.participant_list, name="participant-list"),
    path("participants/<int:pk>/", views.participant_detail, name="participant-detail"),
    path("participants/<int:pk>/history/", views.participant_history_page, name="participant-history"),
    path("participants/<int:pk>/forms/<slug:slug>/new/", views.form_new, name="form-new"),
    path("forms/<slug:slug>/<int:form_id>/", views.form_detail, name="form-detail"),
    path("forms/<slug:slug>/<int:form_id>/history/", views.form_history_page, name="form-history"),
    path("forms/<slug:slug>/<int:form_id>/<slug:action>/", views.form_status, name="form-status"),
]
