"""What the trading accounts, portfolio and transactions API answers (and the reset's one input).

Amounts are plain decimal strings ("0.5"). The portfolio is `trading.portfolio.Portfolio` as the
selector values it (average cost), serialized field by field so the schema documents every number.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from trading.api.fields import AmountField
from trading.models import AccountKind, Balance, EntryKind, EquitySnapshot, LedgerEntry, OrderType, TradingAccount
from trading.models.orders import execution_for
from trading.portfolio import METHOD


def _values(choices: type[models.TextChoices]) -> str:
    return ", ".join(f"`{value}`" for value in choices.values)


def order_executions(account: TradingAccount) -> dict[str, str]:
    """Who runs each order type in this account: `paper`, or `native`/`emulated` on an exchange."""
    return {kind: str(execution_for(account, kind)) for kind in OrderType.values}


# --- accounts ---------------------------------------------------------------------------------------
class BalanceSerializer(serializers.ModelSerializer):
    """One asset of one account (average-cost method)."""

    total = AmountField(help_text="The sum of this asset's ledger entries.")
    locked = AmountField(help_text="Reserved by open orders.")
    available = AmountField(help_text="total - locked: what a new order may use.")
    cost_basis = AmountField(help_text="Average price paid per unit held, in USDT (average-cost method).")
    realized_pnl = AmountField(help_text="Profit realised by sales, in USDT.")

    class Meta:
        model = Balance
        fields = ["asset", "total", "locked", "available", "cost_basis", "realized_pnl", "updated_at"]
        read_only_fields = fields


class TradingAccountSerializer(serializers.ModelSerializer):
    """A paper account (virtual money) or the account of one exchange connection."""

    # Plain strings, not enums: ledger entries and alerts have a `kind` of their own.
    kind = serializers.CharField(help_text=_values(AccountKind) + ".")
    connection = serializers.IntegerField(
        source="connection_id", allow_null=True, help_text="Exchange accounts: the connection (GET /connections/)."
    )
    exchange = serializers.SerializerMethodField(help_text="Exchange accounts: the exchange id; null for paper.")
    is_active = serializers.BooleanField(help_text="False once the connection's keys were revoked.")
    order_executions = serializers.SerializerMethodField(
        help_text="Who runs each order type here: `paper` (paper engine), `native` (the exchange's own order type) "
        "or `emulated` (held by CryptoVault, sent to the exchange as market or limit when triggered)."
    )

    class Meta:
        model = TradingAccount
        fields = [
            "id",
            "kind",
            "name",
            "quote_currency",
            "connection",
            "exchange",
            "is_active",
            "order_executions",
            "created_at",
            "synced_at",
            "sync_error",
            "reset_at",
        ]
        read_only_fields = fields

    def get_exchange(self, account: TradingAccount) -> str | None:
        connection = account.connection
        return connection.exchange if connection is not None else None

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_order_executions(self, account: TradingAccount) -> dict[str, str]:
        return order_executions(account)


class TradingAccountDetailSerializer(TradingAccountSerializer):
    balances = serializers.SerializerMethodField(help_text="Every asset the account holds or held, by asset.")

    class Meta(TradingAccountSerializer.Meta):
        fields = [*TradingAccountSerializer.Meta.fields, "balances"]
        read_only_fields = fields

    @extend_schema_field(BalanceSerializer(many=True))
    def get_balances(self, account: TradingAccount) -> list[dict[str, Any]]:
        return BalanceSerializer(account.balances.order_by("asset"), many=True).data


class AccountResetSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        help_text="Must be true: a reset cancels the account's open orders and replaces every balance with the "
        "starting balance. The history stays in the ledger as `reset` entries."
    )

    def validate_confirm(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError(
                "Send `confirm: true` to reset: open orders are cancelled and the balances start over."
            )
        return value


# --- portfolio --------------------------------------------------------------------------------------
class AccountShareSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    account_name = serializers.CharField()
    account_kind = serializers.CharField(help_text="`paper` or `exchange`.")
    quantity = AmountField()
    available = AmountField()
    locked = AmountField()
    cost_basis = AmountField()
    realized_pnl = AmountField()


class HoldingSerializer(serializers.Serializer):
    """One asset across every account; money in USDT. `price` null: not valued (see `note`)."""

    asset = serializers.CharField()
    symbol = serializers.CharField(allow_null=True, help_text="The market that prices it; null for USDT.")
    quantity = AmountField()
    available = AmountField()
    locked = AmountField()
    price = AmountField(allow_null=True)
    value = AmountField(allow_null=True)
    allocation_pct = AmountField(allow_null=True, help_text="Share of the total value, in %.")
    cost_basis = AmountField(allow_null=True, help_text="Average cost per unit held, weighted across accounts.")
    unrealized_pnl = AmountField(allow_null=True, help_text="(price - cost_basis) x quantity.")
    realized_pnl = AmountField(help_text="What sales realised, summed over the accounts.")
    change_24h_pct = AmountField(allow_null=True)
    change_24h_value = AmountField(allow_null=True, help_text="What the quantity held gained or lost in 24 h.")
    note = serializers.CharField(help_text="Why it has no price, when it has none.")
    accounts = AccountShareSerializer(many=True, help_text="Each account's part.")


class PortfolioSerializer(serializers.Serializer):
    method = serializers.CharField(help_text=f"How cost basis and PnL are computed: `{METHOD}`.")
    quote_currency = serializers.CharField()
    total_value = AmountField(help_text="Every priced holding, in USDT.")
    total_unrealized_pnl = AmountField()
    total_realized_pnl = AmountField()
    change_24h_value = AmountField()
    change_24h_pct = AmountField(allow_null=True)
    prices_source_label = serializers.CharField(help_text="Where the prices come from (a replay says so).")
    prices_at = serializers.DateTimeField(allow_null=True, help_text="When those prices were current.")
    unpriced_assets = serializers.ListField(
        child=serializers.CharField(), help_text="Assets held without a price right now (left out of the totals)."
    )
    notes = serializers.ListField(
        child=serializers.CharField(), help_text="Why each unpriced asset is left out, one line each."
    )
    holdings = HoldingSerializer(many=True)


class EquitySnapshotSerializer(serializers.ModelSerializer):
    total_value = AmountField(help_text="Every account's holdings that day, in USDT.")
    holdings = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(allow_null=True)),
        help_text='Per asset held: `{"BTC": {"quantity": "0.5", "price": "90000", "value": "45000"}, ...}`; '
        "`price` and `value` null for an asset that had no price that day.",
    )

    class Meta:
        model = EquitySnapshot
        fields = ["date", "total_value", "holdings"]
        read_only_fields = fields


# --- transactions -----------------------------------------------------------------------------------
class LedgerEntrySerializer(serializers.ModelSerializer):
    """One change of one balance: deposits, withdrawals, trades, fees, adjustments and resets."""

    account = serializers.IntegerField(source="account_id")
    kind = serializers.CharField(help_text=_values(EntryKind) + ".")
    amount = AmountField(help_text="Signed, in `asset`: credits positive, debits negative.")
    balance_after = AmountField(help_text="The asset's total in that account right after this entry.")
    order = serializers.IntegerField(source="order_id", allow_null=True, help_text="The order, for trades and fees.")
    fill = serializers.IntegerField(source="fill_id", allow_null=True, help_text="The fill, for trades and fees.")

    class Meta:
        model = LedgerEntry
        fields = ["id", "account", "asset", "kind", "amount", "balance_after", "order", "fill", "note", "created_at"]
        read_only_fields = fields
