from django.urls import path

from botapp import views

app_name = "botapp"

urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
]
