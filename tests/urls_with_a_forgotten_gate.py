"""The project's URLs plus one page that reads an API key by id and forgets the read gate.

The access matrix's own tests run against this URL conf to prove that such a route is named
as unregistered, and that once registered the matrix fails it.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from accounts.models import ApiKey
from cryptovault.urls import urlpatterns as project_urlpatterns


@login_required
def api_key_peek(request: HttpRequest, key_id: int) -> HttpResponse:
    return HttpResponse(ApiKey.objects.get(pk=key_id).name)  # the bug: not ApiKey.objects.visible_to(user)


urlpatterns = [
    path("accounts/api-keys/<int:key_id>/peek/", api_key_peek, name="api_key_peek"),
    *project_urlpatterns,
]
