"""/api/v1/analytics/: portfolio analytics, risk and correlations of the caller's own holdings.

One computation (`analytics.portfolio.portfolio_analytics`, the page's), three views of it. The query
is checked by the same rule as the page (`parse_input`): a bad `days` or `risk_free` is a 400 naming
the field. An API key needs `read`.
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from analytics.api.serializers import (
    AnalyticsQuerySerializer,
    CorrelationSerializer,
    PortfolioAnalyticsSerializer,
    RiskSerializer,
)
from analytics.portfolio import parse_input, portfolio_analytics
from cryptovault.api.schema import error_responses
from cryptovault.api.views import ServiceApiView

TAGS = ["analytics"]
COMMON = ("days", "risk_free", "periods_per_year", "candles_source", "notes")


class AnalyticsApiView(ServiceApiView):
    api_key_scopes = {"GET": "read"}

    def analytics(self) -> dict:
        params = parse_input(self.request.query_params.dict())
        return asdict(portfolio_analytics(user=self.request.user, params=params))


class PortfolioAnalyticsView(AnalyticsApiView):
    @extend_schema(
        summary="Your portfolio analytics",
        description="Everything the analytics page shows: allocation; the equity history (time-weighted: "
        "deposits and withdrawals are not returns) with drawdowns and its metrics; the current holdings' "
        "risk over the last `days` (metrics, VaR/CVaR, beta against BTC); correlations; stress scenarios; "
        "minimum-variance and maximum-Sharpe weights; Kelly sizing suggestions.",
        parameters=[AnalyticsQuerySerializer],
        responses={200: PortfolioAnalyticsSerializer, **error_responses(503)},
        tags=TAGS,
    )
    def get(self, request):
        return Response(self.analytics())


class RiskView(AnalyticsApiView):
    @extend_schema(
        summary="Your portfolio's risk",
        description="The risk figures alone: equity and holdings metrics (VaR and CVaR at 95 % and 99 %, "
        "historical, parametric and Monte Carlo; Sharpe, Sortino, Calmar, Omega; maximum drawdown with "
        "its peak, trough and recovery; beta against BTC), the stress scenarios and Kelly suggestions.",
        parameters=[AnalyticsQuerySerializer],
        responses={200: RiskSerializer, **error_responses(503)},
        tags=TAGS,
    )
    def get(self, request):
        result = self.analytics()
        keep = (*COMMON, "equity_metrics", "holdings_metrics", "stress", "kelly")
        return Response({key: result[key] for key in keep})


class CorrelationView(AnalyticsApiView):
    @extend_schema(
        summary="Correlations of your holdings",
        description="Pearson correlations of the daily returns of the assets you hold (USDT left out: it "
        "never moves), over the same `days`.",
        parameters=[AnalyticsQuerySerializer],
        responses={200: CorrelationSerializer, **error_responses(503)},
        tags=TAGS,
    )
    def get(self, request):
        result = self.analytics()
        body = {key: result[key] for key in COMMON}
        return Response(body | {"assets": list(result["correlation"]), "correlation": result["correlation"]})
