from django.urls import path

from accounts.api.views import CurrentUserView

urlpatterns = [
    path("me/", CurrentUserView.as_view(), name="me"),
]
