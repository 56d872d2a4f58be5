"""Entry point for the Django test project: `django_app:app` is the same WSGI application as
`djproject.wsgi:application`."""

from djproject.wsgi import application

app = application
