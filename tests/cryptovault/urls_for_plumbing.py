"""The project's URLs plus a tiny app that is not accounts, built only from the shared plumbing."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response

from accounts.models import ApiKey
from cryptovault.api.views import ServiceApiView
from cryptovault.errors import DomainError
from cryptovault.pages import page_actor, submit
from cryptovault.urls import urlpatterns


class InsufficientFunds(DomainError):
    status_code = 409
    code = "insufficient_funds"
    default_message = "Not enough balance for this order."


def order_place(*, actor, amount: int) -> dict:
    """A stand-in domain service: its rules raise the project's errors."""
    if amount <= 0:
        raise ValidationError({"amount": ["Enter an amount above zero."]})
    if amount > 100:
        raise InsufficientFunds(field="amount")
    if amount == 13:
        ApiKey.objects.get(pk=0)  # a row that is not there
    return {"placed": amount, "by": actor.user.email if actor.user else None, "via": actor.via}


class OrderSerializer(serializers.Serializer):
    amount = serializers.IntegerField()


class OrderView(ServiceApiView):
    input_serializer = OrderSerializer
    api_key_scopes = {"POST": "trade"}

    def post(self, request):
        return Response(order_place(actor=self.actor, **self.parse()), status=201)


class OrderForm(forms.Form):
    amount = forms.IntegerField()


def order_page(request):
    form = OrderForm(request.POST or None)
    placed = submit(request, form, lambda data: order_place(actor=page_actor(request), **data))
    if placed.done:
        return HttpResponse(f"placed {placed.result['placed']} via {placed.result['via']}")
    return HttpResponse(str(form.errors), status=200)


# First, so the project's own routes (its /api/v1/orders/, the /api/ catch-all 404) do not answer instead.
urlpatterns = [
    path("api/v1/orders/", OrderView.as_view()),
    path("orders/", order_page),
    *urlpatterns,
]
