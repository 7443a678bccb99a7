"""The OpenAPI schema promises what the validation enforces, no more and no less: the patterns
agree with the parsers, list parameters the schema types are refused when they are garbage,
the rate cards' edit methods are not operations, each operation lists the errors it can
answer with and says who may call it, and the document validates as OpenAPI 3."""

import datetime as dt
import re

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from ledger import money, services
from ledger.api import schema as hooks
from ledger.api.auth import issue_token
from ledger.models import NotificationKind
from ledger.notifications import notify
from ledger.services import imports
from ledger.services.common import is_blank
from tests.api.conftest import fields_of, problem
from tests.api.roles_world import csv_upload
from tests.conftest import log_bug, open_dispute_about_rejection


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def component(schema, name):
    return schema["components"]["schemas"][name]


def operation(schema, method, path):
    return schema["paths"][f"/api/v1{path}"][method]


def query_parameter(schema, method, path, name):
    (found,) = [p for p in operation(schema, method, path)["parameters"] if p["name"] == name]
    return found


def test_schema_validates_as_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


# --- patterns agree with the parsers ---------------------------------------------------------

DECIMALS = (
    st.text(alphabet="0123456789.-+ e", max_size=8)
    | st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{0,5})?\Z")
    | st.from_regex(r"\A0{0,22}[0-9]{1,22}(\.[0-9]{0,5})?\Z")  # around the 20-digit limit
)


def parses(parse, text) -> bool:
    try:
        parse(text)
    except money.MoneyError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(text=DECIMALS)
def test_hours_pattern_is_exactly_parse_hours(schema, text):
    pattern = component(schema, "AcceptRequest")["properties"]["hours"]["pattern"]
    assert bool(re.search(pattern, text)) == parses(money.parse_hours, text), text


@pytest.mark.parametrize(
    ("text", "valid"),
    [("0", False), ("0.00", False), ("0.01", True), ("2.5", True), ("24", True),
     ("24.00", True), ("24.01", False), ("25", False), ("1.234", False), ("007.5", True)],
)  # fmt: skip
def test_hours_pattern_on_the_edges(schema, text, valid):
    for name in ("AcceptRequest", "ContributionCreateRequest"):
        pattern = component(schema, name)["properties"]["hours"]["pattern"]
        assert bool(re.search(pattern, text)) is valid


@settings(max_examples=400, deadline=None)
@given(text=DECIMALS)
def test_money_patterns_are_the_parser_at_four_decimals(schema, text):
    # A currency has 0 to 4 minor digits: the pattern is the parser at the widest of them
    # (the program's own currency is not the request's to state).
    positive = component(schema, "PayoutCreateRequest")["properties"]["amount"]["pattern"]
    zero_ok = component(schema, "RateCardCreateRequest")["properties"]["hourly_rate"]["pattern"]

    def parser(allow_zero):
        return lambda t: money.parse_decimal_string(t, places=4, allow_zero=allow_zero)

    assert bool(re.search(positive, text)) == parses(parser(False), text), text
    assert bool(re.search(zero_ok, text)) == parses(parser(True), text), text


def test_money_out_pattern_matches_every_currency_rendering(schema):
    pattern = component(schema, "Payout")["properties"]["amount"]["pattern"]
    for currency in ("USD", "JPY", "KWD", "CLF"):
        for minor in (0, 5, -1250, 10**15):
            assert re.search(pattern, money.format_minor(minor, currency))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=6))
def test_visible_text_pattern_refuses_only_what_the_services_refuse(schema, text):
    # Whatever the schema refuses, the services refuse too (so a client is never told "no"
    # by the schema where the server would say yes).
    pattern = component(schema, "ReasonRequest")["properties"]["reason"]["pattern"]
    if not re.search(pattern, text):
        assert is_blank(text.strip()) or "\x00" in text, repr(text)  # DRF refuses a NUL


def test_reason_is_required_and_not_blank(schema):
    reason = component(schema, "ReasonRequest")
    assert reason["required"] == ["reason"]
    assert reason["properties"]["reason"]["minLength"] == 1
    assert not re.search(reason["properties"]["reason"]["pattern"], " \u200b\t")
    for path in (
        "/contributions/{id}/reject/",
        "/contributions/{id}/reverse/",
        "/payouts/{id}/void/",
    ):
        body = operation(schema, "post", path)["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"]["$ref"].endswith("/ReasonRequest")


def test_date_floor_pattern_follows_the_setting():
    assert re.search(hooks.date_floor_pattern(), "2000-01-01")
    assert not re.search(hooks.date_floor_pattern(), "1999-12-31")
    for year in (1000, 1987, 2000, 2019, 9998):
        pattern = hooks.year_at_least(year)
        for probe in range(1000, 10000, 7):
            assert bool(re.search(pattern, f"{probe:04d}-06-01")) == (probe >= year), probe
    with override_settings(LEDGER_EARLIEST_DATE="2010-01-01"):
        assert not re.search(hooks.date_floor_pattern(), "2009-12-31")


def test_ids_and_pages_are_bounded(schema):
    path_id = operation(schema, "get", "/contributions/{id}/")["parameters"][0]["schema"]
    assert (path_id["minimum"], path_id["maximum"]) == (1, 2**63 - 1)
    program = component(schema, "PayoutCreateRequest")["properties"]["program"]
    assert (program["minimum"], program["maximum"]) == (1, 2**63 - 1)
    for path in ("/contributions/", "/ledger/entries/"):
        size = query_parameter(schema, "get", path, "page_size")["schema"]
        assert (size["type"], size["minimum"]) == ("integer", 1)


def test_password_states_the_validators_minimum(schema):
    password = component(schema, "ArtistCreateRequest")["properties"]["password"]
    assert password["minLength"] == 8 and password["writeOnly"] is True


def test_statement_artist_says_it_is_required_for_an_admin(schema):
    artist = query_parameter(schema, "get", "/statements/", "artist")
    assert artist.get("required", False) is False
    assert "admin must give it" in artist["description"]


# --- methods and responses -------------------------------------------------------------------


def test_rate_card_edits_are_not_operations(schema):
    assert set(schema["paths"]["/api/v1/programs/{program_id}/rate-cards/{card_id}/"]) == {"get"}


@pytest.mark.django_db
def test_rate_card_edits_still_answer_405_with_a_truthful_allow(admin_api, artist2_api, program):
    card = program.rate_cards.get()
    url = f"/api/v1/programs/{program.pk}/rate-cards/{card.pk}/"
    for method in ("put", "patch", "delete"):
        response = getattr(admin_api, method)(url, {}, format="json")
        problem(response, 405, "method_not_allowed")
        assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert set(admin_api.get(url)["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    other = f"/api/v1/programs/{program.pk + 1000}/rate-cards/{card.pk}/"
    problem(artist2_api.patch(other, {}, format="json"), 404, "not_found")


def test_each_operation_lists_only_the_errors_it_can_answer(schema):
    me = set(operation(schema, "get", "/me/")["responses"])
    assert me == {"200", "401", "406", "429", "500", "503"}
    listing = set(operation(schema, "get", "/contributions/")["responses"])
    assert {"400", "404"} <= listing and not listing & {"403", "409", "413", "415", "422"}
    accept = operation(schema, "post", "/contributions/{id}/accept/")
    assert {"400", "403", "404", "409", "413", "415", "422"} <= set(accept["responses"])
    assert "invalid_transition" in accept["responses"]["409"]["description"]
    pay = operation(schema, "post", "/payouts/")
    assert "insufficient_balance" in pay["responses"]["409"]["description"]
    for path, operations in schema["paths"].items():
        for method, described in operations.items():
            assert "**Who may call it:**" in described["description"], (method, path)
            assert "405" not in described["responses"], (method, path)


# --- garbage list parameters -----------------------------------------------------------------

GARBAGE_PAGE_SIZES = ["null", "abc", "", "0", "-1", "1.5", " 7", "\u0661\u0662"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", GARBAGE_PAGE_SIZES)
@pytest.mark.parametrize("path", ["/api/v1/contributions/", "/api/v1/ledger/entries/"])
def test_garbage_page_size_is_a_400_naming_it(admin_api, path, value):
    body = problem(admin_api.get(path, {"page_size": value}), 400, "validation_error")
    assert fields_of(body) == {"page_size"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "page_size=2&page_size=3",
        "page=1&page=2",
        "status=",
        "kind=",
        "program=",
        "status=accepted&status=rejected",
        "program=1&program=2",
    ],
)
def test_repeated_or_empty_list_parameters_are_a_400_naming_them(admin_api, artist, program, query):
    log_bug(program, artist)
    response = admin_api.get(f"/api/v1/contributions/?{query}")
    body = problem(response, 400, "validation_error")
    assert fields_of(body) == {query.split("=")[0]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/payouts/?kind=",
        "/api/v1/balances/?artist=",
        "/api/v1/ledger/entries/?cursor=a&cursor=b",
        "/api/v1/statements/?program=1&program=1",
        "/api/v1/ledger/verify/?program=",
    ],
)
def test_every_list_and_query_refuses_empty_or_repeated_parameters(admin_api, url):
    body = problem(admin_api.get(url), 400, "validation_error")
    name = url.split("?")[1].split("=")[0]
    assert fields_of(body) == {name}


@pytest.mark.django_db
def test_good_list_parameters_still_work(admin_api, artist, program):
    log_bug(program, artist)
    page = admin_api.get("/api/v1/contributions/?status=submitted&page_size=1&page=1")
    assert page.status_code == 200 and len(page.json()["results"]) == 1
    assert admin_api.get("/api/v1/contributions/?page_size=1000").status_code == 200
    assert admin_api.get("/api/v1/ledger/entries/?page_size=007").status_code == 200


def test_today_is_after_the_floor():
    # The floor pattern would refuse every date if the setting moved past today.
    assert re.search(hooks.date_floor_pattern(), dt.date.today().isoformat())


# --- methods: what schemathesis's coverage phase checks (unsupported_method, Allow) ---------


@pytest.mark.django_db
def test_allow_headers_name_exactly_the_schema_operations(schema, admin, admin_api, program):
    webhook = services.create_subscription(
        actor=admin, program=program, url="https://93.184.215.14/h", events=["payout.paid"]
    )
    services.record_payout(
        actor=admin, artist=program.memberships.first().artist, program=program,
        amount_minor=100, kind="grant",
    )  # fmt: skip
    ids = {
        "{webhook_id}": webhook.pk,
        "{delivery_id}": webhook.deliveries.get().pk,
        "{program_id}": program.pk,
        "{card_id}": program.rate_cards.get().pk,
        "{staff_id}": program.staff_roles.first().pk,
        "{invitation_id}": services.invite(actor=admin, program=program, email="x@example.org").pk,
        "{id}": None,  # per resource below
    }
    objects = {
        "/api/v1/contributions/": log_bug(program, program.memberships.first().artist).pk,
        "/api/v1/payouts/": services.record_payout(
            actor=admin, artist=program.memberships.first().artist, program=program,
            amount_minor=100, kind="grant",
        ).pk,
        "/api/v1/programs/": program.pk,
        "/api/v1/artists/": program.memberships.first().artist.pk,
        "/api/v1/auth/tokens/": issue_token(user=admin)[0].pk,
        "/api/v1/notifications/": notify(
            user=admin, kind=NotificationKind.PAYOUT_NEEDS_APPROVAL, message="m",
            subject=program,
        ).pk,
        "/api/v1/disputes/": open_dispute_about_rejection(
            program, program.memberships.first().artist, admin
        ).pk,
        "/api/v1/imports/": imports.start_import(
            actor=admin, program=program, upload=csv_upload()
        ).pk,
    }  # fmt: skip
    wrong = []
    for template, operations in schema["paths"].items():
        url = template
        for name, value in ids.items():
            if name == "{id}" and name in url:
                value = next(v for prefix, v in objects.items() if url.startswith(prefix))
            url = url.replace(name, str(value))
        declared = {method.upper() for method in operations}
        expected = declared | {"OPTIONS"} | ({"HEAD"} if "GET" in declared else set())
        allow = admin_api.options(url)["Allow"]
        if set(allow.split(", ")) != expected:
            wrong.append(f"{template}: Allow {allow}, schema {sorted(declared)}")
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - declared:
            response = admin_api.generic(method, url)
            if response.status_code != 405 or set(response["Allow"].split(", ")) != expected:
                wrong.append(f"{method} {template}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=5))
def test_required_text_pattern_is_what_drf_accepts(schema, text):
    pattern = component(schema, "StatementCheckRequest")["properties"]["head_hash"]["pattern"]
    assert bool(re.search(pattern, text)) == (bool(text.strip()) and "\x00" not in text)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 2.5, "currency": "USD"}, "name"),
        ({"name": "Beta", "currency": "USD", "description": 7}, "description"),
        ({"name": "Beta", "currency": "USD", "public": 0}, "public"),
        ({"name": "Beta", "currency": "USD", "public": "true"}, "public"),
    ],
)
def test_json_types_are_what_the_schema_says(admin_api, body, field):
    # DRF would take 2.5 as "2.5" and 0 or "true" as booleans: the schema says string and
    # boolean, so a number or a string there is refused naming the field.
    body = problem(admin_api.post("/api/v1/programs/", body, format="json"), 400)
    assert fields_of(body) == {field}
