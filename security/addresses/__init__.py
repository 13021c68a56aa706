"""Withdrawal address validation by each chain's real rules.

- `networks`: the assets we withdraw and the networks each travels on (`NETWORKS`, `networks_for`,
  `network`), with minimums and fees.
- `validate_address` / `validate_destination`: is this address (and memo) right for this asset on
  this network? Canonical form back, or a `ValidationError` keyed by field with a message a
  person can act on.
- `formats` and `codecs`: the parsers (Bitcoin Base58Check and Bech32/Bech32m, EIP-55, Tron,
  Solana, XRP, Cardano Shelley, Dogecoin, Polkadot SS58) and the encodings under them.
"""

from security.addresses.networks import NETWORKS, Network, network, networks_for
from security.addresses.validate import Destination, address_kinds_of, validate_address, validate_destination

__all__ = [
    "NETWORKS",
    "Destination",
    "Network",
    "address_kinds_of",
    "network",
    "networks_for",
    "validate_address",
    "validate_destination",
]
