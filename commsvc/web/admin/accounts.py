"""Accounts and API keys (admins only): who can log in, which scripts hold keys, and
when each key was last used."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from commsvc import uk_time
from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.models import Region
from commsvc.models.account import ROLES
from commsvc.services.accounts import management
from commsvc.web.admin import bp, current_actor, or_404
from commsvc.web.admin.asking import ask_first, confirmed


@bp.get("/admin/accounts")
@login_required
def accounts_page() -> Any:
    actor = current_actor()
    return render_template(
        "admin/accounts.html",
        users=or_404(lambda: management.list_users(actor)),
        keys=management.list_api_keys(actor),
        regions=db.session.scalars(select(Region).order_by(Region.name)).all(),
        roles=ROLES,
        new_key=None,
    )


@bp.post("/admin/accounts/users")
@login_required
def create_user() -> Any:
    actor = current_actor()
    form = request.form
    try:
        user = or_404(
            lambda: management.create_user(
                actor,
                form.get("email", ""),
                form.get("password", ""),
                form.get("role", ""),
                form.getlist("regions"),
            )
        )
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
    else:
        flash(f"Account {user.email} created.", "success")
    return redirect(url_for("admin.accounts_page"))


@bp.post("/admin/accounts/users/<int:user_id>")
@login_required
def update_user(user_id: int) -> Any:
    actor = current_actor()
    form = request.form
    try:
        user = or_404(
            lambda: management.update_user(
                actor, user_id, form.get("role", ""), form.get("active") == "on"
            )
        )
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
    else:
        state = "can log in" if user.active else "is switched off and can no longer log in"
        flash(f"{user.email} is now {user.role} and {state}.", "success")
    return redirect(url_for("admin.accounts_page"))


@bp.post("/admin/accounts/keys")
@login_required
def create_api_key() -> Any:
    actor = current_actor()
    form = request.form
    try:
        key, plain = or_404(
            lambda: management.create_api_key(
                actor, form.get("name", ""), form.get("role", ""), form.getlist("regions")
            )
        )
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
        return redirect(url_for("admin.accounts_page"))
    # The plain key is shown once, on this response, and never stored.
    return render_template(
        "admin/accounts.html",
        users=management.list_users(actor),
        keys=management.list_api_keys(actor),
        regions=db.session.scalars(select(Region).order_by(Region.name)).all(),
        roles=ROLES,
        new_key=(key, plain),
    )


@bp.get("/admin/accounts/keys/<int:key_id>/revoke")
@login_required
def confirm_revoke_api_key(key_id: int) -> Any:
    """Revoking is for good: say what stops working before doing it."""
    key = or_404(lambda: management.get_api_key(current_actor(), key_id))
    if key.revoked_at is not None:
        return redirect(url_for("admin.accounts_page"))
    used = (
        f"It was last used {uk_time.for_people(key.last_used_at)}."
        if key.last_used_at
        else ("It has never been used.")
    )
    return ask_first(
        heading=f"Revoke the API key \u2018{key.name}\u2019?",
        sentences=(
            f"The key starting {key.prefix}\u2026 stops opening the API at once: whatever "
            f"uses it gets \u201cnot authorised\u201d from then on. {used}",
            "A revoked key cannot be switched back on; create a new key if it is needed again.",
        ),
        button=f"Revoke the key \u2018{key.name}\u2019",
        action=url_for("admin.revoke_api_key", key_id=key.id),
        back=url_for("admin.accounts_page"),
    )


@bp.post("/admin/accounts/keys/<int:key_id>/revoke")
@login_required
def revoke_api_key(key_id: int) -> Any:
    actor = current_actor()
    or_404(lambda: management.get_api_key(actor, key_id))  # admins only
    if not confirmed():
        return redirect(url_for("admin.confirm_revoke_api_key", key_id=key_id))
    key = or_404(lambda: management.revoke_api_key(actor, key_id))
    flash(f"Key {key.name} revoked: it no longer opens the API.", "success")
    return redirect(url_for("admin.accounts_page"))
