"""The branding page: an admin sets the union's name, sender name, footer and colour,
nationally or for one region."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.models import Region
from commsvc.services.bulletins import branding as brand_service
from commsvc.web.admin import bp, current_actor
from commsvc.web.admin.form_errors import field_errors


@bp.get("/admin/brand.css")
def brand_css() -> Any:
    """The union's colour as a stylesheet (pages carry no inline styles: the CSP): the
    national one in the admin, a region's (?region=N) on its members' pages."""
    raw = request.args.get("region", "")
    region_id = int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None
    colour = brand_service.brand_for(region_id).colour  # checked as #rrggbb when saved
    css = f".top, .masthead {{ background: {colour}; }}\n.outlook {{ border-color: {colour}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/admin/branding", methods=["GET", "POST"])
@login_required
def branding() -> Any:
    if current_actor().role != "admin":
        abort(403)
    raw = request.values.get("region", "")
    region_id = int(raw) if raw.isdigit() else None
    errors: dict[str, str] = {}
    shown: dict[str, str] = {}
    if request.method == "POST":
        shown = request.form.to_dict()
        try:
            brand_service.save_brand(current_actor(), shown, region_id)
        except CommsvcError as error:
            db.session.rollback()
            errors = field_errors(error)
        else:
            flash("Saved. Organisers and members see the new name and colour now.", "success")
            return redirect(url_for("admin.branding", region=region_id))
    if not shown:
        shown = brand_service.stored(region_id)
    regions = db.session.scalars(select(Region).order_by(Region.name)).all()
    return render_template(
        "admin/branding.html",
        form=shown,
        errors=errors,
        regions=regions,
        region_id=region_id,
        fallback=brand_service.brand_for(None),
    ), (422 if errors else 200)
