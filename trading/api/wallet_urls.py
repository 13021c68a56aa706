"""/api/v1/wallet/ routes (namespace `v1:wallet`): withdrawals, deposit addresses, paper deposits."""

from django.urls import path

from trading.api import wallet

app_name = "wallet"

urlpatterns = [
    path("withdrawals/", wallet.WithdrawalListCreateView.as_view(), name="withdrawal-list"),
    path("withdrawals/<int:withdrawal_id>/", wallet.WithdrawalDetailView.as_view(), name="withdrawal-detail"),
    path("withdrawals/<int:withdrawal_id>/cancel/", wallet.WithdrawalCancelView.as_view(), name="withdrawal-cancel"),
    path("deposit-address/", wallet.DepositAddressView.as_view(), name="deposit-address"),
    path("deposits/", wallet.PaperDepositView.as_view(), name="deposit-list"),
]
