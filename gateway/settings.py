"""Settings read once from the environment and injected everywhere else."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schema.cost import DEFAULT_MAX_QUERY_COST

if TYPE_CHECKING:
    from resolvers.locales import LocaleResolver

ENV_PREFIX = "CATALOG_"

# Regional locales fall back to their language's main market, then to the default locale.
DEFAULT_FALLBACKS: dict[str, list[str]] = {
    "de-AT": ["de-DE"],
    "de-CH": ["de-DE"],
    "fr-CA": ["fr-FR"],
}

# Settings read from OpenTelemetry's standard variables (no CATALOG_ prefix).
OTEL_FIELDS = ("otel_exporter_otlp_endpoint", "otel_service_name")

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable and the reason."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything the gateway reads from its environment.

    Variables carry the ``CATALOG_`` prefix except ``MONGODB_URI``, whose conventional name
    deployment tooling already sets.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        frozen=True,
        validate_default=True,
    )

    mongodb_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MONGODB_URI", "mongodb_uri"),
        description="Connect to this MongoDB; when unset, an embedded mongod is started.",
    )
    cloudinary_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CLOUDINARY_URL", "cloudinary_url"),
        description="cloudinary://KEY:SECRET@CLOUD; when unset, the built-in emulator is used.",
    )
    db: str = Field(default="catalog", min_length=1, max_length=63)
    data_dir: Path = Path(".catalog-data")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1,
        ge=1,
        description="Worker processes of `serve`; more than one needs MONGODB_URI and "
        "CLOUDINARY_URL.",
    )
    log_level: LogLevel = "info"
    access_log: bool = Field(
        default=True,
        description="One line per request on the gateway.access logger (method, path, status, "
        "duration, request id, GraphQL operation).",
    )
    mongod: Path | None = Field(
        default=None, description="Path of the mongod binary for the embedded MongoDB."
    )
    mongod_port: int = Field(default=27117, ge=1, le=65535)
    demo: bool = Field(
        default=False, description="Seed the demo catalog when the catalog is empty."
    )
    demo_products: int = Field(default=300, ge=50, le=1_000_000)
    locales: Annotated[list[str], NoDecode] = Field(
        default=["en-US", "de-DE", "de-AT", "fr-FR", "fr-CA", "it-IT"]
    )
    default_locale: str = "en-US"
    locale_fallbacks: Annotated[dict[str, list[str]] | None, NoDecode] = Field(
        default=None,
        description="Fallback chains, e.g. 'de-AT:de-DE;fr-CA:fr-FR'; every chain ends in the "
        "default locale. Unset: the built-in chains for the configured locales.",
    )
    channels: Path | None = Field(
        default=None,
        description="Channel profiles (TOML); unset: the channels.toml shipped with the gateway.",
    )
    roles: Path | None = Field(
        default=None,
        description="Roles and their scopes (TOML); unset: the roles.toml shipped with the "
        "gateway.",
    )
    ownership: Path | None = Field(
        default=None,
        description="Field ownership by source system (TOML); unset: the ownership.toml shipped "
        "with the gateway.",
    )
    validation: Path | None = Field(
        default=None,
        description="Validation rules (TOML); unset: the validation.toml shipped with the gateway.",
    )
    contracts: Path | None = Field(
        default=None,
        description="Channel contracts (TOML): what each channel's operations must get back, "
        "checked by `simulate` and at publication; unset: the contracts.toml shipped with the "
        "gateway.",
    )
    key_pepper: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Server-side secret mixed into every stored API key hash; required unless "
        "CATALOG_DEMO is on (the demo keeps a random one in the data directory).",
    )
    key_env: str = Field(
        default="live",
        pattern=r"^[a-z0-9]{1,16}$",
        description="The <env> of new keys (cgw_<env>_<id>_<secret>); other environments' keys "
        "are refused.",
    )
    anonymous_role: str = Field(
        default="storefront",
        description="Role of requests without a key; 'none': every request needs one.",
    )
    default_channel: str | None = Field(
        default=None,
        description="The channel whose published products storefronts read when neither their "
        "key (bound to one channel) nor X-Channel names one; unset: the first configured.",
    )
    preview_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Signs preview tokens (previewToken, sent as X-Preview-Token); the same on "
        "every replica; unset: previews by token are off.",
    )
    four_eyes: bool = Field(
        default=False,
        description="Approving needs another lead than the product's last editor and submitter.",
    )
    cache_invalidation: bool = Field(
        default=True,
        description="Drop cached API keys, the safelist and dashboards as soon as MongoDB "
        "changes them (a change stream per process); off: their TTLs alone.",
    )
    readiness_follower: bool = Field(
        default=True,
        description="Follow MongoDB's change stream to rescore stored readiness after any "
        "write, the gateway's or not (one replica at a time).",
    )
    replica_heartbeat_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How often a replica records its channels.toml rules hash in MongoDB (with "
        "the readiness follower): stored scores follow the rules a majority of live replicas "
        "run, and a replica silent for three intervals (10 s at least) no longer counts.",
    )
    schedule_poll_s: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="How often scheduled publications are looked for (one replica at a time).",
    )
    key_cache_s: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a replica trusts a key record it read: a revocation takes effect "
        "within this time.",
    )
    jwt_jwks: str | None = Field(
        default=None,
        description="Accept JWTs (RS256/ES256) verified against this JWKS file or URL.",
    )
    jwt_issuer: str | None = Field(default=None, description="Required `iss` of JWTs.")
    jwt_audience: str | None = Field(default=None, description="Required `aud` of JWTs.")
    jwt_role_claim: str = Field(default="role", description="JWT claim naming the role.")
    jwt_scopes_claim: str = Field(
        default="scope", description="JWT claim narrowing the role's scopes (space-separated)."
    )
    emulator_port: int = Field(
        default=0, ge=0, le=65535, description="Port of the built-in emulator (0: any free)."
    )
    emulator_host: str = Field(
        default="127.0.0.1",
        description="Interface the emulator binds; anything but loopback exposes its API.",
    )
    emulator_secret: str | None = Field(
        default=None,
        min_length=16,
        description="API secret of the emulator; unset: a random one kept in the data directory.",
    )
    emulator_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/\s]+/?$",
        description="A Cloudinary emulator run as its own service (`catalog-gateway "
        "cloudinary-emulator`), shared by every replica, e.g. http://emulator:8001; needs "
        "CATALOG_EMULATOR_SECRET.",
    )
    emulator_public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/\s]+/?$",
        description="Where clients reach that emulator's delivery URLs, e.g. "
        "http://localhost:8001 (default: CATALOG_EMULATOR_URL).",
    )
    dam_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="How long one request waits for Cloudinary's Admin API in total.",
    )
    dam_admin_calls_per_request: int = Field(
        default=4,
        ge=0,
        le=100,
        description="Admin API calls one GraphQL request may cause (each asks about up to 100 "
        "assets not mirrored yet); beyond them, placeholders (0: the mirror only).",
    )
    dam_missing_ttl_s: int = Field(
        default=3600, ge=0, description="How long an asset Cloudinary does not have stays so."
    )
    dam_missing_ttl_published_s: int = Field(
        default=300,
        ge=0,
        description="The same for assets that published products reference: a hole in a live "
        "page is asked about again sooner, for an Admin API call per asset and period.",
    )
    dam_reconcile: bool = Field(
        default=True,
        description="Sweep Cloudinary's Search API by last update now and then, so changes "
        "whose notification never arrived reach the mirror (one replica at a time).",
    )
    dam_reconcile_every_s: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="How often the sweep runs: how late an undelivered change can be.",
    )
    dam_reconcile_calls_per_hour: int = Field(
        default=60,
        ge=1,
        le=5000,
        description="Admin API calls (100 assets each) the sweep may make per hour, of the "
        "account's hourly quota that requests share.",
    )
    webhook_max_age_s: int = Field(default=7200, ge=60)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description="Largest multipart request (GraphQL multipart request spec: productImport's "
        "file and the operation with it); larger ones get 413.",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="A request line and headers not complete this long after the connection "
        "opened (or the next request began) get 408 and the connection closed.",
    )
    body_timeout_s: float = Field(
        default=15.0,
        gt=0,
        le=600,
        description="A request body not complete this long after its headers gets 408.",
    )
    upload_timeout_s: float = Field(
        default=600.0,
        gt=0,
        le=3600,
        description="The same for an upload (a multipart POST to /graphql with an "
        "Authorization header: productImport's file): 50 MB in 600 s needs about 0.7 Mbit/s.",
    )
    import_job_ttl_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="How long an import job (productImport) is kept after it finished (or its "
        "process last reported); a TTL index deletes it then.",
    )
    max_requests_per_client: int = Field(
        default=100,
        ge=0,
        description="Requests one client address may have in flight; more get 429 (0: no cap).",
    )
    max_query_cost: int = Field(
        default=DEFAULT_MAX_QUERY_COST,
        ge=1,
        description="The largest static cost one operation may have (docs/edge.md, Query cost); "
        "costlier ones are refused with QUERY_TOO_COSTLY before they run.",
    )
    max_connections: int | None = Field(
        default=None,
        ge=1,
        description="uvicorn's limit_concurrency: with this many connections open (or requests "
        "in flight), new requests get 503. Unset: no limit.",
    )
    loader_batch_size: int = Field(default=1000, ge=1, le=10_000)
    readiness_memo_entries: int = Field(
        default=10_000,
        ge=0,
        le=1_000_000,
        description="Live readiness results kept per process, keyed by what they were computed "
        "from (a product, its assets, its categories, the channel and locale; about 2 KB each): "
        "a page of products is scored without running every rule again while nothing changed "
        "(0: every read runs the rules).",
    )
    dashboard_ttl_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long catalogReadiness and catalogAudit results are shared between "
        "requests (0: never).",
    )
    mongo_timeout_ms: int = Field(default=5000, ge=100)
    read_preference: Literal["primary", "primaryPreferred", "secondaryPreferred", "nearest"] = (
        Field(
            default="primaryPreferred",
            description="Where product reads of requests go: primaryPreferred keeps them served "
            "by a secondary while the replica set elects a primary (possibly seconds stale).",
        )
    )
    event_subscriptions: Path | None = Field(
        default=None,
        description="Webhook subscriptions of outbound events (TOML); unset: the "
        "event_subscriptions.toml shipped with the gateway (none enabled).",
    )
    events_worker: bool = Field(
        default=True,
        description="Deliver outbound events from this process (when a subscription is "
        "enabled); false: replicas that only serve.",
    )
    events_poll_s: float = Field(
        default=1.0,
        gt=0,
        le=300,
        description="How often the event delivery worker looks for new events and retries due.",
    )

    # The production edge (issue 15): CORS, HTTP caching and compression, persisted queries.
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Origins browsers may call the API from (comma-separated, '*': any); unset: "
        "none, except that the demo allows localhost and 127.0.0.1 on any port.",
    )
    cors_allow_origin_regex: str | None = Field(
        default=None,
        description="Also allow origins matching this regular expression (the whole origin).",
    )
    cors_allow_methods: Annotated[list[str], NoDecode] = Field(
        default=["GET", "POST"], description="Methods a preflight allows."
    )
    cors_allow_headers: Annotated[list[str], NoDecode] = Field(
        default=[
            "Authorization",
            "Content-Type",
            "Apollo-Require-Preflight",
            "X-Apollo-Operation-Name",
            "X-Channel",
            "X-Preview-Token",
            "X-Request-ID",
            "Idempotency-Key",
            "X-Actor",
            "X-Cost-Only",
        ],
        description="Request headers a preflight allows ('*': any).",
    )
    cors_allow_credentials: bool = Field(
        default=False,
        description="Let browsers send cookies and HTTP authentication (the gateway reads neither: "
        "keys travel in Authorization, which needs no credentials mode); never with origin '*'.",
    )
    cors_max_age_s: int = Field(
        default=600,
        ge=0,
        le=86_400,
        description="How long a browser may reuse a preflight's answer (Access-Control-Max-Age).",
    )
    http_cache_max_age_s: int = Field(
        default=60,
        ge=0,
        le=86_400,
        description="max-age of GET queries answered to principals without drafts "
        "(Cache-Control: public); 0: caches revalidate each time (ETag).",
    )
    http_cache_stale_while_revalidate_s: int = Field(
        default=300,
        ge=0,
        le=86_400,
        description="stale-while-revalidate of those answers.",
    )
    compress_min_bytes: int = Field(
        default=1024,
        ge=0,
        description="GraphQL responses this large or larger are gzipped for clients that take it.",
    )
    compress_level: int = Field(default=6, ge=0, le=9, description="gzip level (0: off).")
    persisted_queries: bool = Field(
        default=True,
        description="Automatic persisted queries (Apollo's APQ): clients may send a query's "
        "SHA-256 instead of its text once it is registered.",
    )
    persisted_query_max_bytes: int = Field(
        default=32_768,
        ge=256,
        description="Largest query text APQ registers (larger ones run but are not stored).",
    )
    persisted_query_ttl_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="How long an APQ registration lasts (clients register again when it is "
        "gone); safelisted operations never expire.",
    )
    safelist: Literal["off", "log", "enforce"] = Field(
        default="off",
        description="Hold the roles of CATALOG_SAFELIST_ROLES to the operations registered by "
        "`catalog-gateway operations register`: 'log' logs and runs others, 'enforce' refuses "
        "them (OPERATION_NOT_IN_SAFELIST).",
    )
    safelist_roles: Annotated[list[str], NoDecode] = Field(
        default=["storefront"], description="Roles the safelist applies to (comma-separated)."
    )
    safelist_refresh_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How often a replica rereads the safelist from MongoDB.",
    )

    console: bool = Field(
        default=True,
        description="Serve the console for merchandisers and leads at /console (docs/console.md): "
        "pages over the public GraphQL API, signed in with an API key.",
    )

    # Observability (issue 15): /metrics, JSON logs, OpenTelemetry traces (docs/edge.md).
    metrics: bool = Field(
        default=False,
        description="Serve Prometheus metrics on /metrics (requests by operation, status and "
        "key, latency, MongoDB commands, loader batches, Cloudinary calls, query cost, "
        "throttles); off: nothing is measured.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="/metrics asks for 'Authorization: Bearer <this>'; unset: /metrics answers "
        "only clients on the loopback interface (they see key ids).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="'json': one JSON object per log line (time, level, logger, message, and "
        "the request id, operation, key and the access log's fields when a line has them).",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        # OpenTelemetry's own variables, which collectors' deployment tooling already sets.
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
        description="Export OpenTelemetry traces over OTLP/HTTP to this base URL (spans go to "
        "<it>/v1/traces); unset: no traces.",
    )
    otel_service_name: str = Field(
        default="catalog-gateway",
        min_length=1,
        validation_alias=AliasChoices("OTEL_SERVICE_NAME", "otel_service_name"),
        description="The service.name of exported spans.",
    )

    @field_validator("db")
    @classmethod
    def _db_name(cls, value: str) -> str:
        bad = set('/\\. "$') & set(value)
        if bad:
            raise ValueError(f"database names cannot contain {''.join(sorted(bad))!r}")
        return value

    @field_validator(
        "cors_allow_origins",
        "cors_allow_methods",
        "cors_allow_headers",
        "safelist_roles",
        mode="before",
    )
    @classmethod
    def _parse_lists(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _cors_credentials(self) -> Settings:
        # With credentials, a browser refuses "*"; echoing any origin instead would let every
        # site act with the user's cookies.
        if self.cors_allow_credentials and "*" in self.cors_allow_origins:
            raise ValueError(
                "CATALOG_CORS_ALLOW_CREDENTIALS cannot be used with CATALOG_CORS_ALLOW_ORIGINS=*: "
                "name the origins"
            )
        return self

    @model_validator(mode="after")
    def _one_cloudinary(self) -> Settings:
        # Replicas that each believe in a different Cloudinary would hand out URLs to pictures
        # the others never uploaded.
        if self.emulator_url and self.cloudinary_url:
            raise ValueError("set CLOUDINARY_URL or CATALOG_EMULATOR_URL, not both")
        if self.emulator_url and not self.emulator_secret:
            raise ValueError(
                "CATALOG_EMULATOR_URL needs CATALOG_EMULATOR_SECRET, the --api-secret the "
                "emulator service runs with"
            )
        if self.emulator_public_url and not self.emulator_url:
            raise ValueError("CATALOG_EMULATOR_PUBLIC_URL needs CATALOG_EMULATOR_URL")
        return self

    @field_validator("locales", mode="before")
    @classmethod
    def _parse_locales(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("locales")
    @classmethod
    def _canonical_locales(cls, value: list[str]) -> list[str]:
        from resolvers.locales import LocaleError, canonical_tag

        try:
            return list(dict.fromkeys(canonical_tag(tag) for tag in value))
        except LocaleError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("locale_fallbacks", mode="before")
    @classmethod
    def _parse_fallbacks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        chains: dict[str, list[str]] = {}
        for entry in value.split(";"):
            if not entry.strip():
                continue
            locale, sep, rest = entry.partition(":")
            if not sep or not locale.strip():
                raise ValueError(f"expected 'locale:fallback,fallback;…', got {entry.strip()!r}")
            chains[locale.strip()] = [p.strip() for p in rest.split(",") if p.strip()]
        return chains

    @field_validator("cloudinary_url")
    @classmethod
    def _cloudinary_url(cls, value: str | None) -> str | None:
        from resolvers.assets import DamConfig

        if value:
            DamConfig.from_url(value)
        return value or None

    @field_validator("mongodb_uri")
    @classmethod
    def _uri_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value or None

    @property
    def channels_path(self) -> Path:
        return self.channels or Path(str(files("gateway").joinpath("channels.toml")))

    @property
    def roles_path(self) -> Path:
        return self.roles or Path(str(files("gateway").joinpath("roles.toml")))

    @property
    def ownership_path(self) -> Path:
        return self.ownership or Path(str(files("gateway").joinpath("ownership.toml")))

    @property
    def validation_path(self) -> Path:
        return self.validation or Path(str(files("gateway").joinpath("validation.toml")))

    @property
    def contracts_path(self) -> Path:
        return self.contracts or Path(str(files("gateway").joinpath("contracts.toml")))

    @property
    def event_subscriptions_path(self) -> Path:
        return self.event_subscriptions or Path(
            str(files("gateway").joinpath("event_subscriptions.toml"))
        )

    @property
    def fallback_chains(self) -> dict[str, list[str]]:
        """The configured chains, or the built-in ones restricted to the configured locales."""
        if self.locale_fallbacks is not None:
            return self.locale_fallbacks
        return {
            source: [t for t in chain if t in self.locales]
            for source, chain in DEFAULT_FALLBACKS.items()
            if source in self.locales
        }

    def locale_resolver(self) -> LocaleResolver:
        """The configured locales, default locale and fallback chains, as the domain uses them."""
        from resolvers.locales import LocaleResolver

        return LocaleResolver(self.locales, self.default_locale, self.fallback_chains)

    @model_validator(mode="after")
    def _locales_consistent(self) -> Settings:
        from resolvers.locales import LocaleError

        try:
            self.locale_resolver()
        except LocaleError as exc:
            culprit = (
                "CATALOG_DEFAULT_LOCALE"
                if "default locale" in str(exc)
                else ("CATALOG_LOCALE_FALLBACKS")
            )
            raise ValueError(f"{culprit}: {exc}") from exc
        return self


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    if field.lower() in ("mongodb_uri", "cloudinary_url", *OTEL_FIELDS):
        return field.upper()
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation failures into one line each."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = error["loc"]
            if not loc:  # a check across several variables names them in its message
                lines.append(error["msg"].removeprefix("Value error, "))
                continue
            value = error.get("input")
            # URLs carry credentials: never echo them into logs.
            secret = str(loc[0]).lower() in ("mongodb_uri", "cloudinary_url", "emulator_secret")
            shown = (
                f" (got {value!r})" if isinstance(value, str | int | float) and not secret else ""
            )
            lines.append(f"{env_name(str(loc[0]))}: {error['msg']}{shown}")
        raise SettingsError("; ".join(lines)) from None
