"""Provider secrets at rest: AES-256-GCM under a key-encryption key derived from the gateway's secret
key, versioned so the secret key can be rotated while the gateway serves.

    from byway.vault import CredentialVault, Keyring, Secret, rotate

    keyring = await Keyring.load(store, secret_key)
    vault = CredentialVault(store, keyring)
    credential = await vault.add(NewCredential(provider_type="openai", name="mine", user_id=uid),
                                 Secret.api_key("sk-..."))
"""

from byway.vault.credentials import CredentialVault
from byway.vault.errors import VaultError
from byway.vault.kek import MIN_SECRET_LENGTH, Kek, fingerprint
from byway.vault.keyring import Keyring
from byway.vault.rotate import Rotation, rotate
from byway.vault.secret import SECRET_FIELDS, Secret, key_hint

__all__ = ["MIN_SECRET_LENGTH", "SECRET_FIELDS", "CredentialVault", "Kek", "Keyring", "Rotation", "Secret",
           "VaultError", "fingerprint", "key_hint", "rotate"]
