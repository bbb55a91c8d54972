from django.db import migrations


def drop_jobs_without_project(apps, schema_editor):
    # Jobs made before cloud projects existed belong to none, and no task made any yet.
    apps.get_model("jobs", "Job").objects.all().delete()


class Migration(migrations.Migration):
    # Its own migration (transaction): PostgreSQL refuses ALTER TABLE after deletes whose
    # deferred foreign-key checks are still pending in the same transaction.
    dependencies = [("jobs", "0001_initial")]

    operations = [migrations.RunPython(drop_jobs_without_project, migrations.RunPython.noop)]
