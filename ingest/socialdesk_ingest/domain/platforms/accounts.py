"""Which brand a delivery is for, and which secrets may have signed it.

Brand and channel are resolved from the account id in the delivery (Page id, Instagram
account id, WhatsApp ``phone_number_id``, X ``for_user_id``) against the configuration's
``accounts``. Secrets are read through a callable so a rotated one needs no restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import Platform

__all__ = ["AccountIndex", "meta_secret_envs", "secrets_reader", "x_secret_envs"]


@dataclass(frozen=True, slots=True)
class AccountIndex:
    """(platform, account id) → brand id."""

    brands: dict[tuple[Platform, str], str]
    own_x_apps: frozenset[str] = frozenset()
    """Our X apps' ids: an account's DM sent through one of them is our own send."""

    @classmethod
    def from_config(cls, config: SocialdeskConfig) -> AccountIndex:
        apps = frozenset(
            b.accounts.x.app_id for b in config.brands if b.accounts.x is not None and b.accounts.x.app_id
        )
        out: dict[tuple[Platform, str], str] = {}
        for brand in config.brands:
            acc = brand.accounts
            if acc.facebook is not None:
                # A Page's feed, mentions and its Messenger inbox share the Page id.
                out[("facebook", acc.facebook.page_id)] = brand.id
                out[("messenger", acc.facebook.page_id)] = brand.id
            if acc.instagram is not None:
                out[("instagram", acc.instagram.account_id)] = brand.id
            if acc.whatsapp is not None:
                out[("whatsapp", acc.whatsapp.phone_number_id)] = brand.id
            if acc.x is not None:
                out[("x", acc.x.user_id)] = brand.id
        return cls(out, apps)

    def brand(self, platform: Platform, account_id: str | None) -> str | None:
        if account_id is None:
            return None
        return self.brands.get((platform, account_id))

    def accounts_of(self, brand: str, platform: str) -> frozenset[str]:
        """The brand's own account ids on ``platform`` (its Page id, its Instagram account id):
        an author with one of them is the brand, never a customer."""
        return frozenset(a for (p, a), b in self.brands.items() if p == platform and b == brand)


def meta_secret_envs(config: SocialdeskConfig) -> list[str]:
    """Every env var naming a Meta app secret (one app may serve several brands)."""
    names: list[str] = []
    for brand in config.brands:
        acc = brand.accounts
        for account in (acc.facebook, acc.instagram, acc.whatsapp):
            if account is not None and account.app_secret_env:
                names.append(account.app_secret_env)
    return sorted(set(names))


def x_secret_envs(config: SocialdeskConfig) -> list[str]:
    """Every env var naming an X consumer secret."""
    names = {b.accounts.x.consumer_secret_env for b in config.brands if b.accounts.x is not None}
    return sorted(n for n in names if n)


def secrets_reader(config: SocialdeskConfig, envs: Iterable[str]) -> Callable[[], list[str]]:
    """The secrets' current values, read at each call (rotation needs no restart)."""
    names = list(envs)

    def read() -> list[str]:
        return [v for v in (config.secret(n) for n in names) if v]

    return read
