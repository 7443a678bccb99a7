"""Signed webhooks (Standard Webhooks): subscriptions per program, deliveries written in the
transaction of the change they report and sent after commit by the task worker.

- `events.emit` / `emit_many`: the one place a service reports an event (`events.py`).
- `guard.check_url`: the one place a receiver's address is judged (at subscription and at
  every delivery; `guard.py`).
- `delivery.deliver_subscription`: the worker's loop, one subscription at a time, in order
  (`delivery.py`).
"""
