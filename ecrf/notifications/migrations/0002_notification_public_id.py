"""Notifications get an opaque public id (pages and the API name them by it, not by the shared
primary-key sequence): added nullable, filled row by row, then made unique and required."""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):  # noqa: ANN001, ANN201
    Notification = apps.get_model("notifications", "Notification")
    for pk in Notification.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
        Notification.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [
        migrations.AddField(model_name="notification", name="public_id", field=models.UUIDField(editable=False, null=True)),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(model_name="notification", name="public_id",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
    ]
