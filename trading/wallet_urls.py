"""/wallet/ pages (namespace `wallet`): balances, withdrawals and deposits."""

from django.urls import path

from trading.views import wallet

app_name = "wallet"

urlpatterns = [
    path("", wallet.wallet_page, name="wallet"),
    path("withdraw/", wallet.withdraw_view, name="withdraw"),
    path("withdrawals/<int:pk>/cancel/", wallet.withdrawal_cancel_view, name="withdrawal_cancel"),
    path("deposit/", wallet.paper_deposit_view, name="paper_deposit"),
    path("deposit-address/", wallet.deposit_address_view, name="deposit_address"),
]
