"""The market pages, under /market/ (exchanges/views/market.py)."""

from django.urls import path

from exchanges.views import market

app_name = "market"

urlpatterns = [
    path("", market.markets, name="markets"),
    path("<str:symbol>/", market.chart, name="chart"),
]
