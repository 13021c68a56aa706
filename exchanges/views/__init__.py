"""The trader's exchange pages, under /exchanges/ (see exchanges/urls.py).

- connections.py: the connections page and each card's edit, test now, rotate and revoke;
- wizard.py: the four-step connect wizard (carry.py: how typed keys cross its steps);
- info.py: the security panel and the per-exchange guides;
- display.py: how a card looks (status colour, latency sparkline); common.py: what they share.
"""

from exchanges.views.connections import (
    ConnectionsView,
    connection_edit,
    connection_revoke_view,
    connection_rotate_view,
    connection_test_now,
)
from exchanges.views.info import guide_page, security_panel
from exchanges.views.wizard import connect, connect_review, connect_save, connect_test

__all__ = [
    "ConnectionsView",
    "connect",
    "connect_review",
    "connect_save",
    "connect_test",
    "connection_edit",
    "connection_revoke_view",
    "connection_rotate_view",
    "connection_test_now",
    "guide_page",
    "security_panel",
]
