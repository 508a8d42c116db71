"""``/api/me/preferences``: the caller's own preferences."""

from __future__ import annotations

from byway.accounts.inputs import PreferencesInput
from byway.accounts.shapes import preferences_out
from byway.server.management.http import Call, Reply


async def get_preferences(call: Call) -> Reply:
    return Reply(200, preferences_out(await call.accounts.preferences.get(call.principal)))


async def put_preferences(call: Call) -> Reply:
    prefs = await call.accounts.preferences.put(call.principal, call.json(PreferencesInput))
    return Reply(200, preferences_out(prefs))
