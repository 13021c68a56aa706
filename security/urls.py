"""The security app's pages, under /security/."""

from django.urls import path

from security.views import activity as views
from security.views import allowlist, hub, whitelist

app_name = "security"

urlpatterns = [
    path("", hub.hub, name="hub"),
    path("anti-phishing/", hub.anti_phishing, name="anti_phishing"),
    path("activity/", views.ActivityView.as_view(), name="activity"),
    path("activity/export/", views.ActivityExportView.as_view(), name="activity_export"),
    path("allowlist/", allowlist.allowlist, name="allowlist"),
    path("allowlist/add/", allowlist.allowlist_add, name="allowlist_add"),
    path("allowlist/<int:pk>/remove/", allowlist.allowlist_remove, name="allowlist_remove"),
    path("withdrawal-addresses/", whitelist.withdrawal_addresses, name="withdrawal_addresses"),
    path(
        "withdrawal-addresses/<int:address_id>/remove/",
        whitelist.withdrawal_address_remove_view,
        name="withdrawal_address_remove",
    ),
    path("withdrawal-addresses/mode/", whitelist.whitelist_mode_view, name="whitelist_mode"),
]
