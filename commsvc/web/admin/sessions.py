"""Logging in and out."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from sqlalchemy import select

from commsvc import auth
from commsvc.extensions import db
from commsvc.models import User
from commsvc.web.admin import bp


@bp.get("/")
def index() -> Any:
    return redirect(url_for("admin.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if (
            user is not None
            and user.active
            and auth.check_password(user, request.form.get("password", ""))
        ):
            login_user(user)
            return redirect(url_for("admin.dashboard"))
        flash("That email and password do not match an account.", "error")
    return render_template("admin/login.html")


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("admin.login"))
