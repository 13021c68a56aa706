"""/api/v1/analytics/ (namespace `v1:analytics`)."""

from django.urls import path

from analytics.api import views

app_name = "analytics"

urlpatterns = [
    path("portfolio/", views.PortfolioAnalyticsView.as_view(), name="portfolio"),
    path("risk/", views.RiskView.as_view(), name="risk"),
    path("correlation/", views.CorrelationView.as_view(), name="correlation"),
]
