"""What the wallet API takes and answers: withdrawals, deposit addresses, simulated paper deposits.

Amounts go in as strings ("0.015") and out as plain decimal strings, as everywhere in the trading API
(`trading.api.fields`). The rules (network, minimum, fee, whitelist, balance, daily limit) are the
services'; these serializers only read the input.
"""

from __future__ import annotations

from rest_framework import serializers

from accounts.api.serializers import OtpSerializer
from cryptovault.api.serializers import ErrorSerializer
from trading.api.fields import AmountField, AmountInputField
from trading.api.order_serializers import YourAccountField
from trading.models import Withdrawal


class WithdrawalSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id", help_text="The trading account it leaves.")
    destination = serializers.IntegerField(
        source="destination_id", allow_null=True, help_text="The whitelisted address (null when typed in)."
    )
    amount = AmountField(help_text="What leaves the account, the network fee included.")
    fee = AmountField(help_text="The network fee, part of `amount`: the address receives amount - fee.")
    cancellable = serializers.SerializerMethodField(help_text="True while pending: POST …/cancel/ stops it.")

    class Meta:
        model = Withdrawal
        fields = [
            "id",
            "account",
            "destination",
            "asset",
            "network",
            "address",
            "memo",
            "amount",
            "fee",
            "status",
            "cancellable",
            "exchange_withdrawal_id",
            "txid",
            "failure_reason",
            "created_at",
            "process_after",
            "submitted_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_cancellable(self, withdrawal: Withdrawal) -> bool:
        return withdrawal.status == "pending"


class WithdrawalRequestSerializer(OtpSerializer):
    account = YourAccountField(
        required=False,
        allow_null=True,
        help_text="The trading account to withdraw from (GET /accounts/). Leave it out for your paper account.",
    )
    asset = serializers.CharField(max_length=16, help_text="e.g. `USDT`, `BTC`.")
    network = serializers.CharField(max_length=32, help_text="The chain, e.g. `ETH`, `TRX`, `BSC` (or `TRC20`).")
    amount = AmountInputField(
        required=True, allow_null=False, help_text='What leaves the account, fee included: "25.5".'
    )
    destination = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A whitelisted address of yours (GET /security/whitelist/withdrawal/), past its cooldown. "
        "Required while whitelist-only withdrawals are on (the default).",
    )
    address = serializers.CharField(
        max_length=128, required=False, allow_blank=True, help_text="Whitelist-only mode off: the address itself."
    )
    memo = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="With `address`: the memo or destination tag."
    )


class DepositAddressQuerySerializer(serializers.Serializer):
    account = YourAccountField(help_text="One of your exchange accounts (GET /accounts/).")
    asset = serializers.CharField(max_length=16)
    network = serializers.CharField(max_length=32)


class DepositAddressSerializer(serializers.Serializer):
    asset = serializers.CharField()
    network = serializers.CharField()
    network_name = serializers.CharField()
    address = serializers.CharField(help_text="Send only this asset, on this network, to this address.")
    memo = serializers.CharField(help_text="The memo or destination tag to send with it (empty when none).")
    memo_name = serializers.CharField()
    exchange = serializers.CharField()


class PaperDepositSerializer(serializers.Serializer):
    account = YourAccountField(
        required=False, allow_null=True, help_text="Your paper account (the default when left out)."
    )
    asset = serializers.CharField(max_length=16)
    amount = AmountInputField(required=True, allow_null=False)


class LedgerEntryOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    asset = serializers.CharField()
    kind = serializers.CharField()
    amount = AmountField()
    balance_after = AmountField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class WithdrawalInvalidSerializer(ErrorSerializer):
    """A 400: bad input (per-field `errors`), `insufficient_funds` or `daily_limit_exceeded` with the numbers."""

    asset = serializers.CharField(required=False)
    required = serializers.CharField(required=False)
    available = serializers.CharField(required=False)
    limit = serializers.CharField(required=False, help_text="`daily_limit_exceeded`: the limit in USDT.")
    used = serializers.CharField(required=False, help_text="`daily_limit_exceeded`: withdrawn in the last 24 hours.")
    requested = serializers.CharField(required=False, help_text="`daily_limit_exceeded`: this request, in USDT.")
