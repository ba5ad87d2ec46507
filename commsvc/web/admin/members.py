"""Members in the admin: search, a member's page (preferences, consent history,
deliveries), export and erasure, and the CSV import (upload, preview, confirm).

An uploaded file is checked with a dry run first and kept in the instance folder
under a random name until the organiser confirms; confirming imports that file.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from commsvc.errors import CommsvcError, Forbidden
from commsvc.extensions import db
from commsvc.services.accounts.actors import ensure_can_write
from commsvc.services.members import (
    importer,
    organisation,
    preferences,
    subject_rights,
    uploads,
)
from commsvc.services.members.listing import (
    MemberFilter,
    find_members,
    visible_member,
    visible_regions,
)
from commsvc.web.admin import bp, current_actor, or_404

PREVIEW_ERRORS = 200


@bp.get("/admin/members")
@login_required
def members() -> Any:
    actor = current_actor()
    args = request.args
    wanted = MemberFilter(
        text=args.get("q", "").strip()[:200],
        region_id=args.get("region", type=int),
        partnership_id=args.get("partnership", type=int),
        service_group=args.get("service_group", ""),
    )
    page = max(args.get("page", 1, type=int) or 1, 1)
    found, total = find_members(actor, wanted, page)
    return render_template(
        "admin/members.html",
        members=found,
        total=total,
        page=page,
        pages=max((total + 49) // 50, 1),
        wanted=wanted,
        regions=visible_regions(actor),
        partnerships=organisation.list_partnerships(actor),
    )


@bp.get("/admin/members/<membership_number>")
@login_required
def member(membership_number: str) -> Any:
    found = or_404(lambda: visible_member(current_actor(), membership_number))
    return render_template(
        "admin/member.html",
        member=found,
        topics=preferences.topic_choices(found),
        consents=subject_rights.consent_history(found),
        deliveries=subject_rights.deliveries(found, limit=100),
    )


@bp.get("/admin/members/<membership_number>/export.json")
@login_required
def member_export(membership_number: str) -> Any:
    found = or_404(lambda: visible_member(current_actor(), membership_number))
    body = json.dumps(subject_rights.export_member(found), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="member-{found.id}.json"'},
    )


@bp.post("/admin/members/<membership_number>/erase")
@login_required
def member_erase(membership_number: str) -> Any:
    actor = current_actor()
    found = or_404(lambda: visible_member(actor, membership_number))
    try:
        ensure_can_write(actor)
    except Forbidden as error:
        flash(error.detail, "error")
        return redirect(url_for("admin.member", membership_number=membership_number))
    if request.form.get("confirm", "").strip() != membership_number:
        flash("Type the membership number to confirm the erasure. Nothing was erased.", "error")
        return redirect(url_for("admin.member", membership_number=membership_number))
    subject_rights.erase_member(found, actor.label)
    flash(f"Member {membership_number} erased. Their addresses stay suppressed.", "success")
    return redirect(url_for("admin.members"))


@bp.route("/admin/import", methods=["GET", "POST"])
@login_required
def member_import() -> Any:
    """Upload a CSV: check every row with a dry run and show the report."""
    if not _may_import():
        return redirect(url_for("admin.members"))
    if request.method == "GET":
        return render_template("admin/import.html")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to upload.", "error")
        return render_template("admin/import.html"), 400
    uploads.remove_stale(_upload_folder())  # unconfirmed uploads are kept a day at most
    name = secrets.token_hex(16)
    path = _upload_path(name)
    upload.save(path)
    report, problem = _run(path, dry_run=True)
    if problem:
        path.unlink(missing_ok=True)
        flash(problem, "error")
        return render_template("admin/import.html"), 400
    return render_template(
        "admin/import_preview.html",
        report=report,
        errors=report.errors[:PREVIEW_ERRORS],
        warnings=report.warnings[:PREVIEW_ERRORS],
        upload=name,
        filename=upload.filename,
    )


@bp.post("/admin/import/<upload>/confirm")
@login_required
def member_import_confirm(upload: str) -> Any:
    if not _may_import():
        return redirect(url_for("admin.members"))
    if not uploads.is_upload_name(upload) or not _upload_path(upload).exists():
        abort(404)
    path = _upload_path(upload)
    report, problem = _run(path, dry_run=False)
    path.unlink(missing_ok=True)
    if problem:
        flash(problem, "error")
        return redirect(url_for("admin.member_import"))
    return render_template(
        "admin/import_done.html",
        report=report,
        errors=report.errors[:PREVIEW_ERRORS],
        warnings=report.warnings[:PREVIEW_ERRORS],
    )


def _run(path: Path, dry_run: bool) -> tuple[Any, str | None]:
    try:
        with path.open("rb") as stream:
            return importer.import_members(stream, dry_run=dry_run), None
    except CommsvcError as error:
        db.session.rollback()
        return None, error.detail


def _may_import() -> bool:
    """Imports create members in any region, so they need an all-regions writer."""
    actor = current_actor()
    if actor.can_write and actor.region_ids is None:
        return True
    flash("Importing members needs an account that can change every region.", "error")
    return False


def _upload_folder() -> Path:
    return uploads.folder_of(current_app.instance_path)


def _upload_path(name: str) -> Path:
    return uploads.upload_path(_upload_folder(), name)
