"""The per-user IP allowlist: what an entry means, and the one place protected actions are refused.

A user's list empty means every address may act. Once it holds an entry, the services named in
`PROTECTED_ACTIONS` (orders, API keys, exchange connections, withdrawals, deposits, whitelist and
allowlist changes) refuse an actor whose address is outside it: `@protected_action("order.place")`
on the service, so pages, the API and anything else calling it are covered alike and no view can
forget. The refusal is audited (`security.ip_refused`, outcome `refused`) and the owner alerted
(`security.ip_refused`, critical) before the service opens its transaction, so both survive the
refusal. Commands, tasks and the system are operators on the server itself and pass.

The address is `Actor.ip`, i.e. `cryptovault.clientip.client_ip`: X-Forwarded-For is read only as
TRUSTED_PROXY_COUNT allows, so a client cannot claim an allowed address by writing a header.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.core.cache import cache
from django.core.exceptions import ValidationError

from cryptovault.actor import Actor
from security.errors import IpNotAllowed

logger = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# One alert per user and address in this window; every refusal is audited all the same.
REFUSAL_ALERT_WINDOW_SECONDS = 600

# action -> the service it guards ("module.function"), filled by @protected_action at import.
PROTECTED_ACTIONS: dict[str, str] = {}

P = ParamSpec("P")
R = TypeVar("R")


# --- parsing ----------------------------------------------------------------------------------------------
def _unmapped(network: IPNetwork) -> IPNetwork:
    """`::ffff:203.0.113.0/120` is the IPv4 network 203.0.113.0/24: stored, and matched, as such."""
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return network


def parse_network(value: object) -> IPNetwork:
    """An IPv4/IPv6 address or CIDR range, as the network it means; a ValidationError saying what is wrong.

    A single address is a /32 (IPv4) or /128 (IPv6). Host bits set (`203.0.113.7/24`) are refused
    with the network that was probably meant, since the list would otherwise say something else
    than the user typed; `/0` is refused (leave the list empty to allow everything); zone ids
    (`fe80::1%eth0`) are refused, since no client address carries one.
    """
    if not isinstance(value, str):
        raise ValidationError("Enter an IP address or a CIDR range as text, e.g. 203.0.113.7 or 203.0.113.0/24.")
    text = value.strip()
    if not text:
        raise ValidationError("Enter an IP address or a CIDR range, e.g. 203.0.113.7 or 203.0.113.0/24.")
    if len(text) > 64:
        raise ValidationError("That is too long to be an IP address or a CIDR range.")
    if "%" in text:
        raise ValidationError(
            f"“{text}” carries a zone id (the part after %), which no client address has: enter the address without it."
        )
    address, slash, prefix = text.partition("/")
    if slash and not prefix.isdigit():
        raise ValidationError(f"“{text}”: the prefix length after / must be a number, e.g. /24 or /64.")
    try:
        base = ipaddress.ip_address(address)
    except ValueError:
        raise ValidationError(
            f"“{address}” is not an IP address: use the IPv4 form 203.0.113.7 (no leading zeros) "
            "or the IPv6 form 2001:db8::7."
        ) from None
    if slash and int(prefix) > base.max_prefixlen:
        raise ValidationError(f"“{text}”: an IPv{base.version} prefix length is at most /{base.max_prefixlen}.")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        meant = ipaddress.ip_network(text, strict=False)
        raise ValidationError(
            f"“{text}” has host bits set: the network of that range is {_unmapped(meant)}. "
            f"Enter {_unmapped(meant)}, or {_unmapped(ipaddress.ip_network(address))} for that one address."
        ) from None
    network = _unmapped(network)
    if network.prefixlen == 0:
        raise ValidationError(
            f"“{text}” allows every address, which is what an empty allowlist does: enter a narrower range."
        )
    return network


def normalise_network(value: object) -> str:
    """What is stored: `203.0.113.0/24`, `203.0.113.7/32`, `2001:db8::/32` (one form per network)."""
    return str(parse_network(value))


def parse_address(ip: str | None) -> IPAddress | None:
    """A client address (IPv4-mapped IPv6 read as IPv4); None when there is none or it is not one."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_in(ip: str | None, networks: list[str]) -> bool:
    """Whether `ip` falls in one of the stored networks (an unknown address falls in none)."""
    address = parse_address(ip)
    if address is None:
        return False
    for stored in networks:
        try:
            network = ipaddress.ip_network(stored, strict=False)
        except ValueError:  # not written by us; it allows nothing
            continue
        if address.version == network.version and address in network:
            return True
    return False


# --- reading ----------------------------------------------------------------------------------------------
def allowlist_networks(user: Any) -> list[str]:
    """The user's stored networks (one indexed query)."""
    from security.models import IpAllowlistEntry

    return list(IpAllowlistEntry.objects.filter(user_id=user.pk).values_list("network", flat=True))


def ip_allowed(user: Any, ip: str | None) -> bool:
    """True when `user` may act from `ip`: their list is empty, or `ip` falls in one of its networks."""
    networks = allowlist_networks(user)
    return not networks or address_in(ip, networks)


# --- enforcing --------------------------------------------------------------------------------------------
def require_allowed_ip(actor: Actor, *, action: str) -> None:
    """Refuse `action` unless the actor's address is on their allowlist (or the list is empty).

    Runs before the service's transaction: the audit record and the alert written here are
    committed on their own even though the caller then fails.
    """
    if actor.via in ("command", "task", "system") or actor.user is None:
        return
    user = actor.user
    if ip_allowed(user, actor.ip):
        return
    from security.audit import audit_record

    audit_record("security.ip_refused", actor=actor, user=user, outcome="refused", action=action)
    if _first_refusal_in_window(user, actor.ip):
        _alert(user, "security.ip_refused", {"ip": actor.ip or "unknown", "action": action_label(action)})
    raise IpNotAllowed(actor.ip, action=action)


def _first_refusal_in_window(user: Any, ip: str | None) -> bool:
    """One alert per user and address per window, so a script hammering a stolen token does not send
    a text message per request; if the cache cannot say, alert (a missed alert is worse than two)."""
    try:
        return bool(cache.add(f"security:ip_refused:{user.pk}:{ip}", 1, REFUSAL_ALERT_WINDOW_SECONDS))
    except Exception:
        logger.warning("The IP-refusal alert window could not be read; alerting anyway", exc_info=True)
        return True


def _alert(user: Any, event: str, context: dict[str, Any]) -> None:
    from accounts.notify import notify

    notify(user=user, event=event, priority="critical", context=context)


def action_label(action: str) -> str:
    return ACTION_WORDS.get(action, action.replace("_", " ").replace(".", ": "))


# What the alert and the refusal say the user (or someone) tried.
ACTION_WORDS: dict[str, str] = {
    "order.place": "place an order",
    "order.cancel": "cancel an order",
    "api_key.create": "create an API key",
    "api_key.revoke": "revoke an API key",
    "exchange.connect": "connect an exchange",
    "exchange.update": "edit an exchange connection",
    "exchange.rotate": "rotate exchange keys",
    "exchange.revoke": "revoke an exchange connection",
    "ip_allowlist.add": "add to the IP allowlist",
    "ip_allowlist.remove": "remove from the IP allowlist",
    "withdrawal_address.add": "add a withdrawal address",
    "withdrawal_address.remove": "remove a withdrawal address",
    "whitelist.mode": "switch whitelist-only withdrawals",
    "withdrawal.request": "request a withdrawal",
    "withdrawal.cancel": "cancel a withdrawal",
    "deposit.address": "show a deposit address",
    "deposit.paper": "make a paper deposit",
    "paper.reset": "reset the paper account",
    "account.delete": "delete the account",
}


def protected_action(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a service taking `actor=`: refused (IpNotAllowed, 403) from outside the actor's allowlist.

    Put it outermost (above `@transaction.atomic`), so the refusal's records are not rolled back.
    """

    def decorator(service: Callable[P, R]) -> Callable[P, R]:
        PROTECTED_ACTIONS[action] = f"{service.__module__}.{service.__qualname__}"

        @wraps(service)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            actor = kwargs.get("actor")
            if not isinstance(actor, Actor):
                raise TypeError(f"{service.__qualname__} is a protected action: pass actor= as a keyword")
            require_allowed_ip(actor, action=action)
            return service(*args, **kwargs)

        guarded.protected_action = action  # type: ignore[attr-defined]
        return guarded

    return decorator
