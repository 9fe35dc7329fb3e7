from django.urls import path

from safety import views

app_name = "safety"
urlpatterns = [
    path("safety/", views.ae_list, name="ae-list"),
    path("safety/ae/<int:pk>/", views.ae_detail, name="ae-detail"),
    path("safety/ae/<int:pk>/assess/", views.assess, name="assess"),
    path("safety/ae/<int:pk>/request-followup/", views.followup_request, name="followup-request"),
    path("safety/reports/<int:pk>/submit/", views.report_submit, name="report-submit"),
    path("safety/coding/", views.coding, name="coding"),
    path("safety/clocks/", views.clock_board, name="clock-board"),
    path("safety/cases/", views.case_list, name="case-list"),
    path("safety/cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("safety/adjudication/", views.adjudication_queue, name="adjudication-queue"),
    path("safety/adjudication/<int:pk>/", views.adjudication_form, name="adjudication-form"),
    path("safety/adjudication/<int:pk>/reviews/<int:review_id>/", views.review_detail, name="review-detail"),
]
