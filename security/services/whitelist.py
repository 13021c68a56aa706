"""The withdrawal address whitelist: where a user's withdrawals may go, and whether only there.

Adding or removing an address needs a fresh second factor and sends a security alert; a new
address becomes usable only WITHDRAWAL_ADDRESS_COOLDOWN_HOURS later, so someone who takes over a
session (or a stolen second factor) cannot add an address and empty the account at once. An
address is validated by its chain's real rules (`security.addresses.validate_address`) and stored
in its canonical form, so one address cannot be whitelisted twice in two spellings. Removing
keeps the row (`removed_at`): past withdrawals still name where they went.

Whitelist-only mode (`User.withdrawal_whitelist_only`, on by default) may be switched on at any
time, and counts at once; switching it off needs the second factor, is a critical alert, and counts
only WITHDRAWAL_ADDRESS_COOLDOWN_HOURS later (`User.withdrawal_whitelist_off_from`), so it cannot
be used to skip the cooldown a new address waits out. Withdrawals read the mode through
`security.selectors.whitelist_only_in_force`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.gates import require_sensitive_action
from accounts.models import NotificationPriority, User
from cryptovault.actor import Actor
from security.addresses import validate_destination
from security.addresses.networks import chain_name
from security.audit import audit_record
from security.errors import DuplicateWithdrawalAddress, WithdrawalAddressNotFound, WithdrawalWhitelistFull
from security.ip_allowlist import protected_action
from security.models import WithdrawalAddress
from security.selectors import local_moment, withdrawal_addresses_for

# Active addresses one account may hold: plenty for real use, a bound on what a script can add.
MAX_WITHDRAWAL_ADDRESSES = 100


def cooldown() -> timedelta:
    return timedelta(hours=settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS)


def _notify(*, user: User, event: str, context: dict, priority: str | None = None) -> None:
    from accounts.notify import notify  # imported here: accounts' notifications import security's selectors

    notify(user=user, event=event, priority=priority, context=context)


def _merge(errors: dict[str, list[str]], exc: ValidationError) -> None:
    for name, messages in exc.message_dict.items():
        errors.setdefault(name, []).extend(messages)


@protected_action("withdrawal_address.add")
def withdrawal_address_add(
    *,
    actor: Actor,
    asset: str,
    network: str,
    address: str,
    memo: str = "",
    label: str,
    otp_code: str = "",
    challenge_id: str = "",
) -> WithdrawalAddress:
    """Whitelist `address` for `asset` on `network` for the actor; usable after the cooldown.

    Bad input is named field by field (asset, network, address, memo, label) before the second
    factor is asked for; a refused second factor writes nothing but its own audit record.
    """
    user: User = actor.user
    asset, memo, label = (asset or "").strip().upper(), (memo or "").strip(), (label or "").strip()
    errors: dict[str, list[str]] = {}
    canonical = (address or "").strip()
    code = (network or "").strip().upper()
    try:
        destination = validate_destination(asset=asset, network=network, address=canonical, memo=memo)
        chain, canonical, memo = destination.network, destination.address, destination.memo
        code = chain.code
    except ValidationError as exc:
        _merge(errors, exc)
    now = timezone.now()
    row = WithdrawalAddress(
        user=user,
        asset=asset,
        network=code,
        address=canonical,
        memo=memo,
        label=label,
        usable_from=now + cooldown(),
    )
    try:
        row.full_clean(exclude=[*errors, "user"], validate_constraints=False)
    except ValidationError as exc:
        _merge(errors, exc)
    if errors:
        raise ValidationError(errors)
    active = withdrawal_addresses_for(user=user)
    if active.filter(asset=asset, network=code, address=canonical, memo=memo).exists():
        raise DuplicateWithdrawalAddress()
    if active.count() >= MAX_WITHDRAWAL_ADDRESSES:
        raise WithdrawalWhitelistFull(
            f"Your whitelist holds {MAX_WITHDRAWAL_ADDRESSES} addresses, the most it may; remove one you no "
            "longer use first."
        )
    require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)  # outside: a refusal is kept
    try:
        with transaction.atomic():
            row.save()
            audit_record(
                "withdrawal_address.added",
                actor=actor,
                user=user,
                address_id=row.pk,
                label=label,
                asset=asset,
                network=code,
                address=canonical,
                usable_from=row.usable_from.isoformat(),
            )
            _notify(
                user=user,
                event="security.withdrawal_address_added",
                context={
                    "label": label,
                    "asset": asset,
                    "network": chain.name,
                    "usable_from": local_moment(row.usable_from, user),
                },
            )
    except IntegrityError:  # the same address added twice at once: the unique constraint kept one
        raise DuplicateWithdrawalAddress() from None
    return row


@protected_action("withdrawal_address.remove")
def withdrawal_address_remove(
    *, actor: Actor, address: WithdrawalAddress, otp_code: str = "", challenge_id: str = ""
) -> WithdrawalAddress:
    """Take `address` (found through its owner's gate by the caller) off the whitelist."""
    user: User = actor.user
    if not actor.acts_for(address.user):
        raise WithdrawalAddressNotFound(field=None)
    if address.removed_at is not None:
        return address
    require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)
    with transaction.atomic():
        removed = (
            WithdrawalAddress.objects.visible_to(user)
            .filter(pk=address.pk, removed_at__isnull=True)
            .update(removed_at=timezone.now())
        )
        address.refresh_from_db(fields=["removed_at"])
        if removed:  # two removals at once: only the one that took it off says so
            audit_record(
                "withdrawal_address.removed",
                actor=actor,
                user=user,
                address_id=address.pk,
                label=address.label,
                asset=address.asset,
                network=address.network,
                address=address.address,
            )
            _notify(
                user=user,
                event="security.withdrawal_address_removed",
                context={"label": address.label, "asset": address.asset, "network": chain_name(address.network)},
            )
    return address


@protected_action("whitelist.mode")
def whitelist_mode_set(*, actor: Actor, whitelist_only: bool, otp_code: str = "", challenge_id: str = "") -> User:
    """Switch whitelist-only withdrawals: on at once (cancelling a pending switch-off); off needs a
    fresh second factor, is a critical alert, and takes effect only after the address cooldown."""
    user: User = actor.user
    if user.withdrawal_whitelist_only == whitelist_only:
        return user  # asking again to turn it off does not move the moment it turns off
    if not whitelist_only:
        require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)
    off_from = None if whitelist_only else timezone.now() + cooldown()
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, withdrawal_whitelist_only=not whitelist_only).update(
            withdrawal_whitelist_only=whitelist_only, withdrawal_whitelist_off_from=off_from
        )
        user.refresh_from_db(fields=["withdrawal_whitelist_only", "withdrawal_whitelist_off_from"])
        if not changed:  # two switches at once: only the one that changed it says so
            return user
        details: dict = {"whitelist_only": whitelist_only}
        effect = ""
        if off_from is not None:
            details["off_from"] = off_from.isoformat()
            effect = (
                f" They stay on until {local_moment(off_from, user)} ({settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS} "
                "hours, as for a new address): turn them back on before then and nothing changes."
            )
        audit_record("whitelist.mode_changed", actor=actor, user=user, **details)
        _notify(
            user=user,
            event="security.whitelist_mode_changed",
            priority=NotificationPriority.HIGH if whitelist_only else NotificationPriority.CRITICAL,
            context={"state": "on" if whitelist_only else "off", "effect": effect},
        )
    return user
