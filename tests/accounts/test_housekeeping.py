from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import EmailVerificationCode, SMSChallenge, SMSDevice
from accounts.tasks import accounts_expired_purge_task


@pytest.mark.django_db(transaction=True)
def test_the_nightly_purge_run_by_a_real_worker_deletes_only_long_expired_codes(celery_worker, owner):
    long_ago = timezone.now() - timedelta(days=2)
    device = SMSDevice.objects.create(user=owner, name="Phone", number="+447700900123", confirmed=True)
    stale = SMSChallenge.objects.create(
        device=device, purpose="login", challenge_digest="a" * 64, code_digest="b" * 64, expires_at=long_ago
    )
    live = SMSChallenge.objects.create(
        device=device,
        purpose="login",
        challenge_digest="c" * 64,
        code_digest="d" * 64,
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    EmailVerificationCode.objects.create(user=owner, email=owner.email, code_digest="e" * 64, expires_at=long_ago)

    result = accounts_expired_purge_task.apply_async(queue=celery_worker.queue).get(timeout=30)

    assert result["sms_challenges"] == 1 and result["email_codes"] == 1
    assert not SMSChallenge.objects.filter(pk=stale.pk).exists()
    assert SMSChallenge.objects.filter(pk=live.pk).exists(), "a code still in its 10 minutes is kept"
    assert not EmailVerificationCode.objects.exists()
