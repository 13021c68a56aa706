"""Changing a user's IP allowlist (what `security.ip_allowlist` enforces).

Adding needs a fresh second factor; adding an entry that leaves the address the user is on now
outside the list needs `confirm_lockout=True`, so nobody locks themselves out by a typo. Adding and
removing are themselves protected actions: once the list has entries, it is changed only from an
address on it (someone who takes over a session elsewhere cannot add their own address, or empty
the list). A user who lost every allowed address asks staff, who remove entries in the admin.
Each change is audited and sent as a critical security alert.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.gates import require_sensitive_action
from accounts.models import User
from cryptovault.actor import Actor
from security.audit import audit_record
from security.errors import AllowlistFull, WouldLockYouOut
from security.ip_allowlist import address_in, allowlist_networks, parse_network, protected_action
from security.models import IpAllowlistEntry

# Entries one account may hold: plenty for home, office and a VPN's ranges; a bound on a script.
MAX_IP_ALLOWLIST_ENTRIES = 50


def _alert(*, user: User, change: str, network: str) -> None:
    from accounts.notify import notify  # accounts' notifications import security's selectors

    notify(
        user=user,
        event="security.ip_allowlist_changed",
        priority="critical",
        context={"change": change, "network": network},
    )


def _operator(actor: Actor) -> bool:
    """A command or task acting for a user: no address of its own to lock out."""
    return actor.via in ("command", "task", "system")


def lockout_warning(*, ip: str | None, network: str, networks: list[str]) -> str | None:
    """Why adding `network` to `networks` would refuse `ip`, or None when it would not."""
    if address_in(ip, [*networks, network]):
        return None
    where = f"your current address, {ip}," if ip else "this request's address (unknown)"
    return (
        f"With {network} on the list, {where} would be outside your IP allowlist: orders, withdrawals, API "
        "keys and exchange connections from here would be refused, and so would changing the list from "
        "here. Add your current address as well, or confirm that you mean it (confirm_lockout)."
    )


@protected_action("ip_allowlist.add")
def ip_allowlist_add(
    *,
    actor: Actor,
    network: str,
    label: str = "",
    confirm_lockout: bool = False,
    otp_code: str = "",
    challenge_id: str = "",
) -> IpAllowlistEntry:
    """Allow protected actions from `network` (an address or CIDR range) for the actor's account.

    Bad input is named field by field before the second factor is asked for; nothing is written
    unless everything holds.
    """
    user: User = actor.user
    errors: dict[str, list[str]] = {}
    normalised = ""
    try:
        normalised = str(parse_network(network))
    except ValidationError as exc:
        errors["network"] = exc.messages
    entry = IpAllowlistEntry(user=user, network=normalised, label=(label or "").strip())
    try:
        entry.full_clean(exclude=["user", *errors], validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    networks = allowlist_networks(user)
    if normalised in networks:
        raise ValidationError({"network": f"{normalised} is already on your IP allowlist."})
    if len(networks) >= MAX_IP_ALLOWLIST_ENTRIES:
        raise AllowlistFull(
            f"Your IP allowlist holds {MAX_IP_ALLOWLIST_ENTRIES} entries, the most it may: remove one, or "
            "use a wider range."
        )
    warning = None if _operator(actor) else lockout_warning(ip=actor.ip, network=normalised, networks=networks)
    if warning and not confirm_lockout:
        raise WouldLockYouOut(warning, field="confirm_lockout")
    require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)  # outside: a refusal is kept
    try:
        with transaction.atomic():
            entry.save()
            audit_record(
                "security.ip_allowlist_added",
                actor=actor,
                user=user,
                entry_id=entry.pk,
                network=normalised,
                label=entry.label,
                excludes_current_ip=bool(warning),
            )
            _alert(user=user, change="added", network=normalised)
    except IntegrityError:  # the same network added twice at once: the unique constraint kept one
        raise ValidationError({"network": f"{normalised} is already on your IP allowlist."}) from None
    return entry


@protected_action("ip_allowlist.remove")
def ip_allowlist_remove(
    *,
    actor: Actor,
    entry: IpAllowlistEntry,
    confirm_lockout: bool = False,
    otp_code: str = "",
    challenge_id: str = "",
) -> IpAllowlistEntry:
    """Take `entry` (found through its owner's or staff's gate by the caller) off the list.

    Needs a fresh second factor as adding does: removing the last entry lets every address act
    again. Removing the entry that holds the user's current address, while others remain, needs
    `confirm_lockout` (staff removing a user's entry in the admin are not on that list).
    """
    user = entry.user
    if actor.acts_for(user) and not _operator(actor):
        rest = [network for network in allowlist_networks(user) if network != entry.network]
        if rest and not confirm_lockout and not address_in(actor.ip, rest):
            where = f"your current address, {actor.ip}," if actor.ip else "this request's address (unknown)"
            raise WouldLockYouOut(
                f"Without {entry.network}, {where} would be outside your IP allowlist: protected actions "
                "from here would be refused, and so would changing the list from here. Confirm that you "
                "mean it (confirm_lockout).",
                field="confirm_lockout",
            )
    require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)
    with transaction.atomic():
        deleted, _ = IpAllowlistEntry.objects.filter(pk=entry.pk).delete()
        if deleted:  # two removals at once: only the one that took it off says so
            audit_record(
                "security.ip_allowlist_removed",
                actor=actor,
                user=user,
                entry_id=entry.pk,
                network=entry.network,
                label=entry.label,
            )
            _alert(user=user, change="removed", network=entry.network)
    return entry
