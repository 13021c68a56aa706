"""The project's URLs plus /bench/db: one ORM query (a COUNT on the users table), no Redis."""

from django.contrib.auth import get_user_model
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache

from cryptovault.urls import *  # noqa: F403
from cryptovault.urls import urlpatterns as project_urlpatterns


@never_cache
def db_view(request):
    return JsonResponse({"users": get_user_model().objects.count()})


urlpatterns = [path("bench/db", db_view, name="bench-db"), *project_urlpatterns]
