"""Views of the Django test project."""

import hashlib

from django.http import (
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.views.decorators.csrf import csrf_exempt


def index(request):
    return HttpResponse("<!DOCTYPE html><html><body><h1>Hello from Django!</h1></body></html>")


def json_view(request):
    return JsonResponse({"framework": "django", "numbers": [1, 2, 3], "nested": {"ok": True}})


@csrf_exempt
def form(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return JsonResponse({key: request.POST.getlist(key) for key in sorted(request.POST)})


@csrf_exempt
def upload(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    uploaded = request.FILES["file"]
    digest = hashlib.sha256()
    size = 0
    for chunk in uploaded.chunks():
        digest.update(chunk)
        size += len(chunk)
    return JsonResponse(
        {
            "filename": uploaded.name,
            "size": size,
            "sha256": digest.hexdigest(),
            "fields": {key: request.POST[key] for key in sorted(request.POST)},
        }
    )


def redirect_view(request):
    return HttpResponseRedirect("/")


def error(request):
    raise RuntimeError("django view failed on purpose")


def stream(request):
    def generate():
        for i in range(5):
            yield f"row {i}\n"

    return StreamingHttpResponse(generate(), content_type="text/plain")
