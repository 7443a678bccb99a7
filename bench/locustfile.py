"""Mixed artist and admin traffic against the REST API (load loses nothing).

Driven by bench/load.py, which prepares the database and the tokens (LOAD_TOKENS, a JSON file:
{"admins": [...], "artists": [...]}) and checks the books afterwards. Expected refusals are
successes here: a settlement larger than what is owed (409 insufficient_balance) and a review
that another admin got to first (409 invalid_transition) are the ledger doing its job under
contention. Anything else that is not 2xx, and every 5xx, counts as an error.
"""

import datetime as dt
import itertools
import json
import os
import random
import uuid
from decimal import Decimal

from locust import HttpUser, between, task

with open(os.environ["LOAD_TOKENS"]) as _tokens:
    TOKENS = json.load(_tokens)
_admin_tokens = itertools.cycle(TOKENS["admins"])
_artist_tokens = itertools.cycle(TOKENS["artists"])
EXPECTED_CONFLICTS = {"insufficient_balance", "invalid_transition"}


class ApiUser(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    token = None

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {self.token}"

    def get(self, path, name):
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return response.json() if "json" in response.headers.get("Content-Type", "") else {}

    def post(self, path, body, name):
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            path, json=body, name=name, headers=headers, catch_response=True
        ) as response:
            if response.status_code in (200, 201):
                return response.json()
            code = None
            if "problem+json" in response.headers.get("Content-Type", ""):
                code = response.json().get("code")
            if response.status_code == 409 and code in EXPECTED_CONFLICTS:
                response.success()
                return None
            response.failure(f"{response.status_code} {code}: {response.text[:200]}")
            return None


class Artist(ApiUser):
    weight = 4

    def on_start(self):
        self.token = next(_artist_tokens)
        super().on_start()
        programs = self.get("/api/v1/programs/", "/programs/") or {"results": []}
        self.programs = [p["id"] for p in programs["results"]]

    @task(4)
    def balances(self):
        self.get("/api/v1/balances/", "/balances/")

    @task(3)
    def my_contributions(self):
        self.get("/api/v1/contributions/?page_size=50", "/contributions/?page_size=50")

    @task(2)
    def log_feedback(self):
        if not self.programs:
            return
        # Within the last fortnight: every demo program has a rate card in effect then (the
        # newest, Nimbus Beta's, from two weeks ago); an earlier date there is refused (400).
        day = dt.date.today() - dt.timedelta(days=random.randint(0, 13))
        self.post(
            "/api/v1/contributions/",
            {
                "program": random.choice(self.programs),
                "kind": "feedback",
                "title": "Load-test feedback session",
                "occurred_on": day.isoformat(),
                "hours": random.choice(["0.50", "1.25", "2.00", "3.75"]),
            },
            "/contributions/",
        )

    @task(1)
    def statement(self):
        if self.programs:
            self.get(f"/api/v1/statements/?program={random.choice(self.programs)}", "/statements/")

    @task(1)
    def entries(self):
        self.get("/api/v1/ledger/entries/", "/ledger/entries/")


class Admin(ApiUser):
    weight = 1

    def on_start(self):
        self.token = next(_admin_tokens)
        super().on_start()
        programs = self.get("/api/v1/programs/", "/programs/") or {"results": []}
        self.programs = [p["id"] for p in programs["results"]]

    @task(4)
    def review(self):
        queue = self.get(
            "/api/v1/contributions/?status=submitted&page_size=20",
            "/contributions/?status=submitted",
        )
        if not queue or not queue["results"]:
            return
        item = random.choice(queue["results"])
        if random.random() < 0.85:
            self.post(
                f"/api/v1/contributions/{item['id']}/accept/", {}, "/contributions/{id}/accept/"
            )
        else:
            self.post(
                f"/api/v1/contributions/{item['id']}/reject/",
                {"reason": "Duplicate (load test)."},
                "/contributions/{id}/reject/",
            )

    @task(3)
    def pay(self):
        rows = self.get("/api/v1/balances/?page_size=100", "/balances/ (admin)")
        if not rows or not rows["results"]:
            return
        row = random.choice(rows["results"])
        kind = "settlement" if random.random() < 0.8 else "grant"
        if kind == "grant":
            amount = "500" if row["currency"] == "JPY" else "5"
        elif Decimal(row["outstanding"]) > 0:
            amount = row["outstanding"]  # settle in full; a concurrent payment makes this a 409
        else:
            amount = "1" if row["currency"] == "JPY" else "0.01"  # nothing owed: expect 409
        self.post(
            "/api/v1/payouts/",
            {"artist": row["artist"], "program": row["program"], "amount": amount, "kind": kind},
            f"/payouts/ ({kind})",
        )

    @task(2)
    def report(self):
        if self.programs:
            self.get(f"/api/v1/programs/{random.choice(self.programs)}/report/", "/report/")

    @task(1)
    def entries(self):
        if self.programs:
            self.get(
                f"/api/v1/ledger/entries/?program={random.choice(self.programs)}",
                "/ledger/entries/ (admin)",
            )
