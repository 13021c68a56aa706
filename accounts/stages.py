"""The second-factor step of signing in: after the password, before any session exists."""

from __future__ import annotations

from allauth.account.stages import LoginStage
from allauth.core.internal.httpkit import headed_redirect_response

from accounts.selectors import two_factor_enabled


class SecondFactorStage(LoginStage):
    key = "cv_second_factor"
    urlname = "accounts:two_factor_authenticate"

    def handle(self):
        user = self.login.user
        if user is None or not two_factor_enabled(user):
            return None, True
        return headed_redirect_response("accounts:two_factor_authenticate"), True
