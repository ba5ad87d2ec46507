"""Logging in and out, and resetting a forgotten password by email.

Login is throttled per address and email (Flask-Limiter on Redis), so guessing a
password costs a minute every few tries, whichever web process answers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from commsvc.errors import CommsvcError
from commsvc.extensions import db, limiter
from commsvc.services.accounts import audit, auth, management
from commsvc.web.admin import bp

LOGIN_LIMIT = "5 per minute"
RESET_LIMIT = "5 per hour"


def _address_and_email() -> str:
    email = request.form.get("email", "").strip().lower()[:254]
    return f"{request.remote_addr}|{email}"


@bp.get("/")
def index() -> Any:
    return redirect(url_for("admin.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, key_func=_address_and_email, methods=["POST"])
def login() -> Any:
    if request.method == "POST":
        user = management.log_in(
            request.form.get("email", ""),
            request.form.get("password", ""),
            request.remote_addr or "",
        )
        if user is not None:
            auth.start_session(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("That email and password do not match an account.", "error")
    return render_template("admin/login.html")


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:
        audit.record(current_user.email, "logout")
        db.session.commit()
    logout_user()
    return redirect(url_for("admin.login"))


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, key_func=_address_and_email, methods=["POST"])
def password_reset_request() -> Any:
    if request.method == "POST":
        try:
            management.request_password_reset(request.form.get("email", ""))
        except (CommsvcError, OSError):
            db.session.rollback()
            flash("The reset email could not be sent just now. Try again later.", "error")
            return render_template("admin/password_reset_request.html"), 503
        flash("If that address has an account, a reset link is on its way.", "success")
        return redirect(url_for("admin.login"))
    return render_template("admin/password_reset_request.html")


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def password_reset(token: str) -> Any:
    try:
        management.user_for_reset_token(token)
    except CommsvcError as error:
        flash(error.detail, "error")
        return redirect(url_for("admin.password_reset_request"))
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            flash("The two passwords differ.", "error")
        else:
            try:
                management.reset_password(token, password)
            except CommsvcError as error:
                db.session.rollback()
                flash(error.detail, "error")
            else:
                flash("Password changed. Log in with the new one.", "success")
                return redirect(url_for("admin.login"))
    return render_template("admin/password_reset.html")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect after login would help phishing.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so
    `/%09/evil.example` would leave for evil.example, and a newline cannot go in a
    header at all: any control character, space or backslash sends to the dashboard."""
    dashboard = url_for("admin.dashboard")
    if not target or not target.startswith("/") or target.startswith("//"):
        return dashboard
    if any(ch.isspace() or not ch.isprintable() or ch == "\\" for ch in target):
        return dashboard
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return dashboard
    return target
