"""/api/v1/security/: the security app's API (namespace `v1:security`)."""

from django.urls import path

from security.api import allowlist, anti_phishing, views, whitelist

app_name = "security"

urlpatterns = [
    path("audit/", views.AuditEventListView.as_view(), name="audit"),
    path("audit/export/", views.AuditEventExportView.as_view(), name="audit-export"),
    path("anti-phishing/", anti_phishing.AntiPhishingView.as_view(), name="anti-phishing"),
    path("whitelist/ip/", allowlist.IpAllowlistView.as_view(), name="ip-allowlist"),
    path("whitelist/ip/<int:entry_id>/", allowlist.IpAllowlistEntryView.as_view(), name="ip-allowlist-entry"),
    path("whitelist/withdrawal/", whitelist.WithdrawalAddressListCreateView.as_view(), name="withdrawal-addresses"),
    path("whitelist/withdrawal/mode/", whitelist.WhitelistModeView.as_view(), name="withdrawal-whitelist-mode"),
    path(
        "whitelist/withdrawal/<int:address_id>/",
        whitelist.WithdrawalAddressDetailView.as_view(),
        name="withdrawal-address",
    ),
]
