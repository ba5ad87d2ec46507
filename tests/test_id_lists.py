"""A batch's statements pick exactly the deliveries it names, however many or few."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Delivery, id_lists
from tests import factories


@pytest.mark.parametrize("take", [0, 1, 7, None])  # None: every one of them
def test_a_list_of_ids_picks_exactly_those_deliveries(app, take):
    bulletin = factories.sending_bulletin(12, channels="email")
    ids = bulletin.deliveries_by_channel["email"]
    named = ids[::2][:take] if take is not None else ids
    found = db.session.scalars(select(Delivery.id).where(id_lists.among(Delivery.id, named)))
    assert sorted(found) == sorted(named)
    # Two lists in one statement keep their own values.
    both = select(Delivery.id).where(
        id_lists.among(Delivery.id, ids[:5]), id_lists.among(Delivery.id, ids[3:])
    )
    assert sorted(db.session.scalars(both)) == ids[3:5]
