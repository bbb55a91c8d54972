from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Portal",
            fields=[],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("view_images", "See images, members, cloud images and jobs"),
                    ("change_images", "Upload, edit, delete, tag and share images"),
                    ("approve_shares", "Accept or reject images shared with the project"),
                ],
            },
        ),
    ]
