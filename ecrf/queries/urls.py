from django.urls import path

from ecrf.queries import views

app_name = "queries"
urlpatterns = [
    path("queries/", views.inbox, name="inbox"),
    path("queries/site/", views.site_list, name="site-list"),
    path("queries/aging/", views.aging_page, name="aging"),
    path("queries/checks/", views.catalogue, name="catalogue"),
    path("queries/runs/", views.runs, name="runs"),
    path("queries/runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("queries/<int:pk>/", views.detail, name="detail"),
    path("queries/raise/<slug:slug>/<int:form_id>/", views.raise_query, name="raise"),
]
