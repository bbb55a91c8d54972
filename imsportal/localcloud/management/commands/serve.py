"""Serve the local cloud with gunicorn: one process, several threads, streaming bodies."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, then serve the local cloud on LOCALCLOUD_HOST:LOCALCLOUD_PORT."

    def add_arguments(self, parser):
        parser.add_argument("--bind", help="host:port (default from the settings)")
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--seed", action="store_true", help="seed demo data first")

    def handle(self, bind, threads, seed, **options):
        from gunicorn.app.base import BaseApplication

        from imsportal.prepare import tighten

        settings.DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings.IMAGES_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        call_command("migrate", verbosity=0, interactive=False)
        # Files an older run (before the umask in __main__) left readable to others.
        tighten(settings.DATA_DIR, 0o700)
        for path in settings.DATA_DIR.glob("localcloud.sqlite3*"):
            tighten(path, 0o600)
        tighten(settings.DATA_DIR / "secret_key", 0o600)
        if seed:
            call_command("seed")
        bind = bind or f"{settings.HOST}:{settings.PORT}"
        from imsportal.localcloud.glance.uploads import recover_uploads

        # Nothing writes yet: every upload left in saving by a killed server is dead.
        recover_uploads()

        from imsportal.localcloud.wsgi import application

        def child_exit(server, worker) -> None:
            # In the master, after a worker died (killed, crashed or recycled): its uploads
            # have no writer any more. With no worker left, no upload has one.
            recover_uploads(None if not server.WORKERS else worker.pid)

        class Server(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", [bind])
                self.cfg.set("workers", 1)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("threads", threads)
                self.cfg.set("timeout", 3600)  # large uploads stream for minutes
                self.cfg.set("graceful_timeout", 5)
                self.cfg.set("accesslog", None)
                self.cfg.set("loglevel", "warning")
                self.cfg.set("child_exit", child_exit)

            def load(self):
                return application

        self.stdout.write(f"Local cloud listening on http://{bind} (identity at /identity/v3)")
        self.stdout.flush()
        Server().run()
