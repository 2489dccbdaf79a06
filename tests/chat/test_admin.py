"""The moderators' message admin: delete and restore reach live feeds on every instance;
the phone stays out of lists; nobody without permission gets in."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Message
from tests.clients import Browser, Socket, visible_ids

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = "admin:chat_message_changelist"
PHONE = "9876501234"




def run_action(client, action, message_ids, changelist=MESSAGES):
    """Run an admin action on messages; the notes it shows the moderator."""
    response = client.post(reverse(changelist), {"action": action, "_selected_action": message_ids, "index": 0})
    assert response.status_code == 302, response.content[:500]
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


def listed(response):
    return [str(message.id) for message in response.context["cl"].result_list]


def test_delete_reaches_the_other_instance_and_restore_brings_it_back(servers, moderator):
    a, b = servers
    watcher = Socket(b, "/ws/events", location="Pune")
    posted = Browser(a).post_ok("2BHK in Baner, 24k, to be moderated", phone=PHONE, location="Pune")
    assert watcher.recv()["data"]["id"] == posted["id"]  # live, and the watcher is subscribed

    assert run_action(moderator, "delete_and_remove", [posted["id"]]) == [
        "1 message deleted and removed from live feeds."
    ]
    deleted = watcher.recv()
    assert (deleted["type"], deleted["data"]) == ("message_deleted", {"id": posted["id"], "location": "Pune"})
    assert posted["id"] not in visible_ids(Browser(b))
    assert Message.objects.get(id=posted["id"]).is_deleted

    assert run_action(moderator, "restore_and_broadcast", [posted["id"]]) == ["1 message restored and broadcast again."]
    frame = watcher.recv()
    assert frame["type"] == "message" and frame["data"]["id"] == posted["id"]
    assert "phone" not in frame["data"]
    assert posted["id"] in visible_ids(Browser(b))
    assert posted["id"] in visible_ids(Browser(a), location="Pune")

    again = run_action(moderator, "restore_and_broadcast", [posted["id"]])  # not deleted: nothing to do
    assert again == ["0 messages restored and broadcast again. 1 skipped: not deleted."]
    watcher.send('{"type": "ping"}')
    assert watcher.recv()["data"]["code"] == "pong"  # no second broadcast came before it
    watcher.close()


def test_restoring_a_shadowbanned_post_broadcasts_it_to_its_author_only(servers, moderator):
    from security import shadowban
    from security.identity import build_identity

    a, b = servers
    author = Browser(a)
    shadowban.shadowban_key(build_identity(author.ip, author.fingerprint), reason="moderator", seconds=600)
    hidden = author.post_ok("Shadowbanned and then deleted", location="Pune")
    run_action(moderator, "delete_and_remove", [hidden["id"]])

    author_socket = Socket(b, "/ws/events", fingerprint=author.fingerprint, ip=author.ip, location="Pune")
    other_socket = Socket(b, "/ws/events", location="Pune")
    for socket in (author_socket, other_socket):  # both subscribed before the restore
        socket.send('{"type": "ping"}')
        assert socket.recv()["data"]["code"] == "pong"
    run_action(moderator, "restore_and_broadcast", [hidden["id"]])
    assert author_socket.recv()["data"]["id"] == hidden["id"]
    other_socket.send('{"type": "ping"}')
    assert other_socket.recv()["data"]["code"] == "pong"
    assert hidden["id"] not in visible_ids(Browser(b))
    author_socket.close()
    other_socket.close()


def make(text, **fields):
    defaults = {
        "message_type": "offered", "location": "Pune", "city_key": "pune", "poster_key": "k" * 64,
        "poster_fingerprint": "fp-x", "public_id": "pub-x", "phone": PHONE,
    }  # fmt: skip
    return Message.objects.create(message=text, **{**defaults, **fields})


def test_list_search_and_filters_and_the_phone_only_on_the_change_page(moderator, caplog):
    pune = make("Sunny room near Koregaon Park")
    mumbai = make("PG in Andheri", location="Mumbai", city_key="mumbai", message_type="requested")
    hidden = make("Shadowed room", visibility="shadowbanned", is_deleted=True, location="", city_key="")
    url = reverse(MESSAGES)

    page = moderator.get(url)
    assert set(listed(page)) == {str(pune.id), str(mumbai.id), str(hidden.id)}
    assert PHONE not in page.content.decode()
    assert listed(moderator.get(url, {"q": "koregaon"})) == [str(pune.id)]
    assert listed(moderator.get(url, {"q": PHONE})) == []  # the phone is not searchable
    assert listed(moderator.get(url, {"city": "mumbai"})) == [str(mumbai.id)]
    assert listed(moderator.get(url, {"city": "-"})) == [str(hidden.id)]  # no city
    assert listed(moderator.get(url, {"message_type__exact": "requested"})) == [str(mumbai.id)]
    assert listed(moderator.get(url, {"visibility__exact": "shadowbanned"})) == [str(hidden.id)]
    assert listed(moderator.get(url, {"is_deleted__exact": "1"})) == [str(hidden.id)]
    assert set(listed(moderator.get(url, {"poster_fingerprint": "fp-x"}))) == {str(pune.id), str(mumbai.id), str(hidden.id)}

    change_url = reverse("admin:chat_message_change", args=[pune.id])
    with caplog.at_level(logging.INFO, logger="kirb.security"):
        change_page = moderator.get(change_url).content.decode()
    assert PHONE in change_page and 'name="_save"' not in change_page
    assert f"phone of message {pune.id} shown to moderator moderator" in caplog.text

    moderator.post(change_url, {"message": "edited by a moderator", "phone": "1111111111"})
    pune.refresh_from_db()
    assert pune.message == "Sunny room near Koregaon Park" and pune.phone == PHONE


def test_messages_cannot_be_added_or_hard_deleted_in_the_admin(moderator):
    message = make("A message that stays")
    assert moderator.get(reverse("admin:chat_message_add")).status_code == 403
    delete_url = reverse("admin:chat_message_delete", args=[message.id])
    assert moderator.post(delete_url, {"post": "yes"}).status_code == 403
    response = moderator.post(
        reverse(MESSAGES), {"action": "delete_selected", "_selected_action": [message.id], "index": 0}
    )
    assert Message.objects.filter(id=message.id).exists()
    assert "delete_selected" not in moderator.get(reverse(MESSAGES)).content.decode()
    assert response.status_code == 302


def test_nobody_else_gets_in(django_user_model):
    message = make("Only moderators may see this")
    pages = [reverse(MESSAGES), reverse("admin:chat_message_change", args=[message.id])]

    member = django_user_model.objects.create_user("reader", password="not-used-here-1")
    staff = django_user_model.objects.create_user("new-moderator", password="not-used-here-1", is_staff=True)
    anonymous, logged_in, staff_client = Client(), Client(), Client()
    logged_in.force_login(member)
    staff_client.force_login(staff)
    for client in (anonymous, logged_in):
        for url in pages:
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    for url in pages:
        response = staff_client.get(url)
        assert response.status_code == 403, url
        assert PHONE not in response.content.decode()
    response = staff_client.post(reverse(MESSAGES), {"action": "delete_and_remove", "_selected_action": [message.id]})
    assert response.status_code == 403
    assert not Message.objects.get(id=message.id).is_deleted
