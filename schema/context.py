"""The typed per-request context: services shared by the process, loaders owned by the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resolvers.db import Catalog
from resolvers.errors import BadUserInputError
from resolvers.loaders import Loaders
from resolvers.locales import LocaleError, LocaleResolver


@dataclass(frozen=True, slots=True)
class Services:
    """Built once per process by the app's lifespan."""

    catalog: Catalog
    locales: LocaleResolver
    loader_batch_size: int = 1000


@dataclass(slots=True)
class Context:
    services: Services
    loaders: Loaders
    request_id: str
    locale_fallbacks: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def for_request(cls, services: Services, request_id: str) -> Context:
        """A context with fresh loaders: loaders must never outlive one request."""
        return cls(services, Loaders(services.catalog, services.loader_batch_size), request_id)

    @property
    def catalog(self) -> Catalog:
        return self.services.catalog

    @property
    def locales(self) -> LocaleResolver:
        return self.services.locales

    def locale(self, tag: str | None) -> str:
        """The supported locale for a ``locale`` argument, or BAD_USER_INPUT."""
        try:
            return self.locales.resolve(tag)
        except LocaleError as exc:
            raise BadUserInputError(
                str(exc), argumentName="locale", supportedLocales=list(self.locales.locales)
            ) from exc

    def localized(
        self, values: dict[str, Any] | None, tag: str | None, path: list[str | int]
    ) -> Any:
        """Pick a localized value along the fallback chain, noting fallbacks for the response."""
        picked = self.locales.pick(values, self.locale(tag))
        if picked.is_fallback:
            self.locale_fallbacks.append(
                {"path": path, "requested": picked.requested, "used": picked.locale}
            )
        return picked.value
