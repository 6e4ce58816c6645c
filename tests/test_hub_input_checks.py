"""The hub checks what reaches it as strictly as the van does: limits keyed on what a client
cannot invent, media paths a van would refuse, and plan records a van sends along."""
import secrets

import pytest

from vanapp import create_app
from vanapp.db import migrate
from vanapp.models import db


@pytest.fixture
def hub(tmp_path):
    app = create_app({"TESTING": True, "MODE": "hub", "DATA_DIR": str(tmp_path / "hub"), "DATABASE_URL": ""})
    migrate()
    with app.app_context():
        db.connect(reuse_if_open=True)
        yield app
        if not db.is_closed():
            db.close()


def test_pairing_attempts_are_limited_per_address_whatever_cookie_the_client_makes_up(hub):
    client = hub.test_client()
    answers = []
    for attempt in range(12):
        client.set_cookie("vk_device", secrets.token_urlsafe(24))      # a fresh made-up cookie each time
        client.set_cookie("session", secrets.token_urlsafe(24))
        answers.append(client.post("/api/v1/pair", json={"code": f"WRONG{attempt:03d}"}))
    assert [a.status_code for a in answers[:10]] == [404] * 10
    assert answers[10].status_code == 429 and answers[10].json["error"]["code"] == "too_many_requests"
    # another address has its own budget
    other = hub.test_client().post("/api/v1/pair", json={"code": "WRONG999"},
                                   environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert other.status_code == 404
