"""Failed background jobs: admins see them and requeue them; a real worker runs them again."""
import sqlalchemy as sa

from app.core.jobs import get_queue
from app.core.models import AuditLog
from app.extensions import db
from app.maintenance.tasks import purge_expired_codes


def test_failed_job_is_listed_and_requeued(app, client, make_user, login, run_jobs, monkeypatch):
    import app.maintenance.tasks as tasks

    def broken():
        raise ConnectionError("database unreachable")

    # The first run fails (the worker looks the function up by name, so it gets `broken`).
    monkeypatch.setattr(tasks, "purge_expired_codes", broken)
    job = get_queue("low").enqueue("app.maintenance.tasks.purge_expired_codes", retry=None)
    run_jobs()
    login(make_user(admin_role="operator"))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert job.id in page and "database unreachable" in page
    # The cause is fixed; requeue it from the page and a real worker runs it again.
    monkeypatch.setattr(tasks, "purge_expired_codes", purge_expired_codes)
    assert client.post(f"/admin/jobs/low/{job.id}/requeue").status_code == 302
    assert run_jobs() == 1
    assert job.id not in client.get("/admin/jobs").get_data(as_text=True)
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == job.id)) == "job.requeue"


def test_requeue_of_unknown_job_and_permissions(client, make_user, login):
    login(make_user(admin_role="operator"))
    assert client.post("/admin/jobs/low/nope/requeue").status_code == 404
    assert client.post("/admin/jobs/bogus/nope/requeue").status_code == 404
    login(make_user(admin_role="finance"))
    assert client.get("/admin/jobs").status_code == 403
    assert client.post("/admin/jobs/low/nope/requeue").status_code == 403
