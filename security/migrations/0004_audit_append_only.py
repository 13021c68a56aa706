"""The audit log becomes append-only in the database too (PostgreSQL): a trigger refuses every
UPDATE and DELETE of `security_auditevent`, whoever sends it (the ORM, the admin, a raw SQL session),
except the two changes a deleted account makes: the user link set to NULL (`on_delete=SET_NULL`) and
`actor_email` rewritten to the anonymised `deleted-<id>@deleted.invalid`, every other column equal.

TRUNCATE is not a row change and stays possible (a live restore from a backup and the test suite's
flush use it). SQLite (development and tests) has no trigger: Django's test flush deletes rows there;
the model and its queryset refuse edits and deletes on every database.

`created_at` takes its default from `timezone.now` instead of `auto_now_add`, so rows put back after a
live restore keep their time.
"""

import django.utils.timezone
from django.db import migrations, models

FUNCTION = "security_auditevent_append_only"

CREATE = [
    f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (to_jsonb(NEW) - 'user_id' - 'actor_email') = (to_jsonb(OLD) - 'user_id' - 'actor_email')
        AND (NEW.user_id IS NULL OR NEW.user_id = OLD.user_id)
        AND (NEW.actor_email = OLD.actor_email OR NEW.actor_email ~ '^deleted-[0-9]+@deleted\\.invalid$')
    THEN
        RETURN NEW;  -- a deleted account: unlinked or anonymised, the record itself unchanged
    END IF;
    RAISE EXCEPTION 'security_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'raise_exception', HINT = 'Audit records are never edited or deleted.';
END;
$$""",
    f"DROP TRIGGER IF EXISTS {FUNCTION} ON security_auditevent",
    f"CREATE TRIGGER {FUNCTION} BEFORE UPDATE OR DELETE ON security_auditevent "
    f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
]

DROP = [
    f"DROP TRIGGER IF EXISTS {FUNCTION} ON security_auditevent",
    f"DROP FUNCTION IF EXISTS {FUNCTION}()",
]


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement, params=None)  # no parameters: the % in RAISE stays as written


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0003_allowlist_whitelist"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False),
        ),
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
