"""docker-compose.yml, the Dockerfile and .dockerignore agree with the code they deploy.

No Docker engine is needed: the files are parsed and compared with ``Settings``, the CLI
parser and ``pyproject.toml``.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from gateway.cli import build_parser
from gateway.settings import Settings, env_name, load_settings

pytestmark = pytest.mark.indexed

ROOT = Path(__file__).resolve().parents[2]
MONGOD_DEFAULT_PORT = 27017  # mongod's own default when no --port is given

SETTING_VARIABLES = {env_name(field) for field in Settings.model_fields}
# Read by uvicorn itself: whose X-Forwarded-For to believe (the balancer's).
SERVER_VARIABLES = {"FORWARDED_ALLOW_IPS"}
INTERPOLATION = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")
MONGO_MEMBERS = ("mongo1", "mongo2", "mongo3")


# --- parsing helpers ---------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(compose, dict)
    return compose


def load_pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def service(name: str) -> dict[str, Any]:
    services = load_compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    result = services[name]
    assert isinstance(result, dict)
    return result


def environment(svc: dict[str, Any]) -> dict[str, str]:
    """A service's environment in either compose form (mapping or list of NAME=value), with
    ``${NAME:-default}`` as compose resolves it when NAME is not set."""
    raw = svc.get("environment") or {}
    if isinstance(raw, list):
        pairs = [item.split("=", 1) for item in raw]
        assert all(len(pair) == 2 for pair in pairs), f"entries without a value: {raw}"
        raw = {name: value for name, value in pairs}
    for name, value in raw.items():
        # Unquoted YAML true/8000 would reach compose as bool/int; keep the values literal.
        assert isinstance(value, str), f"{name}: quote the value ({value!r})"
    return {name: INTERPOLATION.sub(r"\1", value) for name, value in raw.items()}


def command_args(svc: dict[str, Any]) -> list[str]:
    raw = svc.get("command") or []
    return shlex.split(raw) if isinstance(raw, str) else [str(arg) for arg in raw]


def option(args: list[str], name: str) -> str | None:
    """The value of ``--name value`` or ``--name=value`` in a command line."""
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


def mongod_port() -> int:
    value = option(command_args(service("mongo1")), "--port")
    return int(value) if value is not None else MONGOD_DEFAULT_PORT


def replica_set_name() -> str:
    name = option(command_args(service("mongo1")), "--replSet")
    assert name, "mongo must run with --replSet"
    return name


def healthcheck_argv(svc: dict[str, Any]) -> list[str]:
    test = svc.get("healthcheck", {}).get("test")
    assert test, "service has no healthcheck"
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return [str(arg) for arg in test]


def container_ports(svc: dict[str, Any]) -> list[int]:
    """Container side of each published port (short or long syntax)."""
    ports = []
    for entry in svc.get("ports") or []:
        if isinstance(entry, dict):
            ports.append(int(entry["target"]))
        else:
            ports.append(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, rest = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def dockerfile(keyword: str) -> list[str]:
    return [rest for kw, rest in dockerfile_instructions() if kw == keyword]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in dockerfile("ENV"):
        for pair in shlex.split(rest):
            name, sep, value = pair.partition("=")
            assert sep, f"use ENV NAME=value, not the legacy form: ENV {rest}"
            env[name] = value
    return env


def dockerfile_copy_sources() -> list[str]:
    sources = []
    for rest in dockerfile("COPY"):
        args = [arg for arg in shlex.split(rest) if not arg.startswith("--")]
        sources += [arg.rstrip("/") for arg in args[:-1]]
    return sources


def dockerfile_cmd() -> list[str]:
    (cmd,) = dockerfile("CMD")[-1:] or pytest.fail("the Dockerfile has no CMD")
    argv = json.loads(cmd)  # exec form, so signals reach the server
    assert isinstance(argv, list)
    return argv


def dockerignored(path: str) -> bool:
    """Whether .dockerignore excludes ``path`` or a directory containing it (last match wins)."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        anywhere = pattern.startswith("**/")
        pattern = pattern.removeprefix("**/")
        for candidate in candidates:
            tails = (
                ["/".join(candidate.split("/")[i:]) for i in range(candidate.count("/") + 1)]
                if anywhere
                else [candidate]
            )
            if any(fnmatch.fnmatchcase(tail, pattern) for tail in tails):
                excluded = not negated
    return excluded


# --- gateway settings --------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SETTING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_gateway_environment_names_are_settings() -> None:
    unknown = set(environment(service("gateway"))) - SETTING_VARIABLES - SERVER_VARIABLES
    assert not unknown, f"not settings (Settings ignores them silently): {sorted(unknown)}"


def test_dockerfile_environment_names_are_settings() -> None:
    unknown = {n for n in dockerfile_env() if n.startswith("CATALOG_")} - SETTING_VARIABLES
    assert not unknown, f"not settings: {sorted(unknown)}"


def test_gateway_environment_values_validate(clean_environment: pytest.MonkeyPatch) -> None:
    env = {**dockerfile_env(), **environment(service("gateway"))}  # compose overrides image
    for name, value in env.items():
        if name in SETTING_VARIABLES:
            clean_environment.setenv(name, value)
    settings = load_settings()  # raises SettingsError naming the bad variable
    assert settings.mongodb_uri == env["MONGODB_URI"], "compose must point at its own MongoDB"
    assert settings.host == "0.0.0.0", "the gateway must listen beyond the container's loopback"
    assert settings.port == int(env["CATALOG_PORT"])
    assert settings.demo is (env.get("CATALOG_DEMO", "false").lower() == "true")
    # Every replica must verify the others' keys: one pepper, given, not one made up each.
    assert settings.key_pepper is not None


def test_image_alone_listens_on_all_interfaces(clean_environment: pytest.MonkeyPatch) -> None:
    for name, value in dockerfile_env().items():
        if name in SETTING_VARIABLES:
            clean_environment.setenv(name, value)
    assert load_settings().host == "0.0.0.0"


# --- MongoDB -----------------------------------------------------------------------------


@pytest.mark.parametrize("member", MONGO_MEMBERS)
def test_every_member_is_a_mongodb_8_replica_set_member_on_its_own_volume(member: str) -> None:
    mongo = service(member)
    assert mongo["image"] == "mongo:8"
    args = command_args(mongo)
    assert option(args, "--replSet") == replica_set_name()
    assert "--bind_ip_all" in args or option(args, "--bind_ip") == "0.0.0.0"
    mounts = [str(v) for v in mongo.get("volumes") or []]
    sources = [m.split(":")[0] for m in mounts if m.split(":")[1:2] == ["/data/db"]]
    assert sources, "no volume for /data/db"
    assert sources[0] in (load_compose().get("volumes") or {}), f"{sources[0]} not declared"
    for entry in mongo.get("ports") or []:
        assert isinstance(entry, str), f"use the short syntax 127.0.0.1:…: {entry}"
        assert entry.startswith("127.0.0.1:"), entry


def test_mongodb_uri_names_every_member_of_the_replica_set() -> None:
    uri = urlsplit(environment(service("gateway"))["MONGODB_URI"])
    assert uri.scheme == "mongodb"
    hosts = uri.netloc.split(",")
    assert hosts == [f"{member}:{mongod_port()}" for member in MONGO_MEMBERS]
    assert parse_qs(uri.query).get("replicaSet") == [replica_set_name()]


def test_healthcheck_initiates_the_replica_set_the_gateway_expects() -> None:
    argv = healthcheck_argv(service("mongo1"))
    script = " ".join(argv)
    assert "mongosh" in script
    initiate = re.search(r"rs\.initiate\((.*)\)", script, re.DOTALL)
    assert initiate, "the healthcheck must initiate the replica set on first run"
    set_id = re.search(r"""_id:\s*['"]([^'"]+)['"]""", initiate.group(1))
    assert set_id, "the replica-set config has no _id"
    assert set_id.group(1) == replica_set_name()
    # Drivers connect to the member names in the replica-set config, so each member must be
    # addressable from the gateway containers: the service name and mongod's port.
    hosts = re.findall(r"""host:\s*['"]([^'"]+)['"]""", initiate.group(1))
    assert hosts == [f"{member}:{mongod_port()}" for member in MONGO_MEMBERS]
    # rs.initiate needs the other members up.
    assert set(service("mongo1")["depends_on"]) == set(MONGO_MEMBERS[1:])
    assert "hello().primary" in script or "isWritablePrimary" in script


# --- gateway replicas, their balancer and the emulator they share -----------------------


def test_gateway_replicas_wait_for_the_replica_set_behind_a_balancer() -> None:
    gateway = service("gateway")
    assert gateway["build"] in (".", {"context": "."})
    assert gateway["depends_on"]["mongo1"]["condition"] == "service_healthy"
    assert gateway["deploy"]["replicas"] >= 2
    # Replicas cannot all publish one host port: only the balancer does.
    assert not gateway.get("ports")
    port = environment(gateway)["CATALOG_PORT"]
    assert port in [str(p) for p in gateway.get("expose") or []]
    exposed = {int(p.split("/")[0]) for rest in dockerfile("EXPOSE") for p in rest.split()}
    assert int(port) in exposed, f"the Dockerfile EXPOSEs {sorted(exposed)}, not {port}"
    assert int(dockerfile_env().get("CATALOG_PORT", port)) == int(port)


def test_the_balancer_proxies_to_every_replica_and_keeps_websockets() -> None:
    balancer = service("balancer")
    (mount,) = balancer["configs"]
    config = load_compose()["configs"][mount["source"]]["content"]
    port = environment(service("gateway"))["CATALOG_PORT"]
    # "$$" is compose's escape for nginx's "$".
    assert f"set $$gateway http://gateway:{port};" in config
    assert "resolver 127.0.0.11" in config, "re-resolve: replicas come and go"
    assert "proxy_set_header Upgrade $$http_upgrade;" in config
    assert "proxy_buffering off;" in config, "@defer parts must not wait for the whole answer"
    (listen,) = re.findall(r"listen (\d+);", config)
    assert int(listen) in container_ports(balancer)
    assert environment(service("gateway"))["FORWARDED_ALLOW_IPS"]


def test_one_emulator_service_for_every_replica() -> None:
    emulator = service("emulator")
    args = command_args(emulator)
    parsed = build_parser().parse_args(args[1:])
    assert (args[0], parsed.command) == ("catalog-gateway", "cloudinary-emulator")
    assert parsed.host == "0.0.0.0"
    env = environment(service("gateway"))
    url = urlsplit(env["CATALOG_EMULATOR_URL"])
    assert (url.hostname, url.port) == ("emulator", parsed.port)
    public = urlsplit(env["CATALOG_EMULATOR_PUBLIC_URL"])
    assert public.port in container_ports(emulator)
    # Signed by the emulator, verified by every replica: one secret.
    assert environment(emulator)["CATALOG_EMULATOR_SECRET"] == env["CATALOG_EMULATOR_SECRET"]
    notify = urlsplit(parsed.notification_url)
    assert notify.hostname == "balancer", "notifications go to any replica, through the balancer"
    assert notify.path == "/webhooks/cloudinary"
    assert any(str(v).endswith(":/app/.catalog-data") for v in emulator["volumes"])


def test_gateway_healthcheck_probes_readyz_with_python() -> None:
    gateway = service("gateway")
    argv = healthcheck_argv(gateway)
    assert argv[:3] == ["CMD", "python", "-c"], "the slim image has no curl"
    code = argv[3]
    compile(code, "<healthcheck>", "exec")
    assert "urllib.request" in code
    assert "/readyz" in code, "readiness (MongoDB primary reachable) is /readyz"
    port = environment(gateway)["CATALOG_PORT"]
    assert "CATALOG_PORT" in code or f":{port}/" in code
    assert gateway.get("restart") in {"always", "unless-stopped", "on-failure"}


# --- Dockerfile against pyproject --------------------------------------------------------


def test_dockerfile_cmd_runs_the_console_script_serve() -> None:
    argv = dockerfile_cmd()
    assert argv[0] in load_pyproject()["project"]["scripts"]
    assert build_parser().parse_args(argv[1:]).command == "serve"


def test_base_image_satisfies_requires_python() -> None:
    (base,) = dockerfile("FROM")[:1]
    match = re.fullmatch(r"python:(\d+\.\d+)[-\w.]*", base.split()[0])
    assert match, f"unexpected base image {base}"
    assert match.group(1) in SpecifierSet(load_pyproject()["project"]["requires-python"])


def test_dockerfile_copies_every_package() -> None:
    include = load_pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {name.split(".")[0] for name in include}
    missing = packages - set(dockerfile_copy_sources())
    assert not missing, f"packages the build needs but the Dockerfile does not copy: {missing}"


def test_dockerfile_copies_the_build_metadata() -> None:
    project = load_pyproject()["project"]
    sources = set(dockerfile_copy_sources())
    assert "pyproject.toml" in sources
    readme = project.get("readme")
    if isinstance(readme, str):  # setuptools fails the build when the readme is absent
        assert readme in sources


@pytest.mark.parametrize("source", dockerfile_copy_sources())
def test_copied_sources_exist_and_are_not_dockerignored(source: str) -> None:
    assert not dockerignored(source), f".dockerignore excludes {source}, which COPY needs"
    assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"


@pytest.mark.parametrize("path", [".venv", ".git", ".catalog-data", "tests/node/node_modules"])
def test_dockerignore_excludes_local_state(path: str) -> None:
    assert dockerignored(path)


def test_image_installs_the_project_without_the_embedded_mongod() -> None:
    installs = [rest for rest in dockerfile("RUN") if "pip install" in rest]
    assert installs, "the Dockerfile does not pip install the project"
    args = shlex.split(installs[0].split("&&")[0])
    targets = [arg for arg in args if arg == "." or arg.startswith(".[")]
    assert targets, f"the project itself is not installed: {installs[0]}"
    extras = {e.strip() for e in targets[0].removeprefix(".").strip("[]").split(",") if e.strip()}
    declared = set(load_pyproject()["project"]["optional-dependencies"])
    assert extras <= declared, f"unknown extras {extras - declared}"
    assert "embedded" not in extras, "compose runs MongoDB as a service; no embedded mongod"
    assert "--no-cache-dir" in installs[0]


def test_image_runs_as_non_root() -> None:
    users = dockerfile("USER")
    assert users, "no USER: the server would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
