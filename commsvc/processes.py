"""Starting the long-running processes: web (gunicorn), worker and beat (Celery).

Each one stops cleanly on SIGTERM or Ctrl-C: gunicorn and Celery handle both.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from commsvc import embedded_redis, warm_up


def instance_path() -> Path:
    """The instance folder: COMMSVC_INSTANCE_PATH, or `instance/` beside the package."""
    configured = os.environ.get("COMMSVC_INSTANCE_PATH")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parent.parent / "instance"


def ensure_redis_env() -> str:
    """Use COMMSVC_REDIS_URL, or start (or find) the embedded Redis and export its URL,
    so every process started from here shares one Redis."""
    url = os.environ.get("COMMSVC_REDIS_URL")
    if not url:
        url = embedded_redis.ensure_running(instance_path())
        os.environ["COMMSVC_REDIS_URL"] = url
    return url


def serve_web(host: str, port: int, workers: int, debug: bool) -> None:
    from commsvc import create_app

    if debug:
        create_app().run(host=host, port=port, debug=True)
        return
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")
            self.cfg.set("graceful_timeout", 10)

        def load(self) -> Any:
            app = create_app()  # in each worker process, after gunicorn's fork
            warm_up.warm_up(app)
            return app

    _Gunicorn().run()


def run_worker(queues: str, concurrency: int, loglevel: str, name: str) -> None:
    from commsvc import create_app

    app = create_app()
    warm_up.configure_models()  # before the pool forks: each child inherits it
    celery_app = app.extensions["celery"]
    celery_app.worker_main(
        argv=[
            "worker",
            "--queues",
            queues,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            loglevel,
            "--hostname",
            name,
            "--without-gossip",
            "--without-mingle",
        ]
    )


def run_beat(loglevel: str) -> None:
    from commsvc import create_app

    app = create_app()
    celery_app = app.extensions["celery"]
    schedule = Path(app.instance_path) / "celerybeat-schedule"
    celery_app.start(argv=["beat", "--loglevel", loglevel, "--schedule", str(schedule)])


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL if it has not gone within `timeout`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
