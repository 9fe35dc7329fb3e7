from django.urls import path

from ecrf.screening import views

app_name = "screening"
urlpatterns = [
    path("screening/", views.log, name="log"),
    path("screening/new/", views.new, name="new"),
    path("screening/participants/<int:pk>/", views.detail, name="detail"),
    path("screening/consents/<int:pk>/decision/", views.consent_decision, name="consent-decision"),
    path("screening/consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent-withdraw"),
    path("screening/lab-import/", views.lab_import, name="lab-import"),
    path("screening/report/", views.report, name="report"),
]
