"""``/api/provider-types`` (what each provider type needs, from the catalogue) and ``/api/models``
(a credential's live model list, or without ``credential`` the models the caller may use)."""

from __future__ import annotations

from byway.accounts.fields import fields_for
from byway.core import InvalidRequestError
from byway.providers.catalog import SPECS
from byway.server.management.http import Call, Reply
from byway.server.management.schemas import ModelList, ModelOut, ProviderTypeList, ProviderTypeOut

PROVIDER_TYPES = ProviderTypeList(data=[
    ProviderTypeOut(type=spec.type.value, display_name=spec.display_name, family=spec.family, key_url=spec.key_url,
                    default_base_url=spec.default_base_url, default_model=spec.default_model,
                    suggested_models=list(spec.suggested_models), key_required=spec.key_required,
                    fields=list(fields_for(spec)))
    for spec in SPECS.values()])


async def provider_types(call: Call) -> Reply:
    return Reply(200, PROVIDER_TYPES)


async def models(call: Call) -> Reply:
    credential_id = call.query.get("credential")
    if credential_id is not None:
        if not credential_id:
            raise InvalidRequestError("credential: give a credential id", param="credential", status=422)
        credential = await call.accounts.credentials.get(call.principal, credential_id)
        found = await call.accounts.credentials.models(call.principal, credential_id)
        return Reply(200, ModelList(data=[ModelOut(id=m, owned_by=credential.name) for m in found]))
    router = call.gateway.engine.router
    names = router.available(call.principal)
    return Reply(200, ModelList(data=[ModelOut(id=n, owned_by=n.partition(":")[0] if ":" in n else "byway")
                                      for n in names]))
