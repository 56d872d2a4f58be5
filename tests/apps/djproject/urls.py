"""URL routes of the Django test project."""

from django.urls import path

from djproject import views

urlpatterns = [
    path("", views.index),
    path("json", views.json_view),
    path("form", views.form),
    path("upload", views.upload),
    path("redirect", views.redirect_view),
    path("error", views.error),
    path("stream", views.stream),
]
