from django.urls import path

from ecrf.exports import views

app_name = "exports"
urlpatterns = [
    path("exports/", views.export_list, name="list"),
    path("exports/<int:pk>/", views.export_detail, name="detail"),
    path("exports/<int:pk>/download/", views.export_download, name="download"),
    path("exports/<int:pk>/analysis/", views.export_analysis, name="analysis"),
    path("exports/cuts/", views.cut_list, name="cuts"),
]
