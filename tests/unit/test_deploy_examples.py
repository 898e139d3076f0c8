"""The deployment examples in deploy/, checked against their formats' schemas and voxhub itself.

- compose.yaml: the Compose Specification's JSON schema (as vendored by check-jsonschema),
  after Compose's own variable interpolation;
- kubernetes/voxhub.yaml: the Kubernetes API schemas bundled by kubernetes-validate (strict:
  unknown fields fail), for the oldest and the newest Kubernetes version it ships;
- systemd units: INI sections and keys, and `systemd-analyze verify` where it is installed;
- all of them: every VOXHUB_* variable is one voxhub reads (settings.ENVIRONMENT), the values
  load with voxhub's settings, and every voxhub command line parses with voxhub's CLI parser.

Nothing here reaches the network: the schemas come inside the installed packages.
"""

from __future__ import annotations

import argparse
import configparser
import importlib.util
import json
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft202012Validator

from voxhub.cli import _parser
from voxhub.settings import ENVIRONMENT, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
KUBERNETES = DEPLOY / "kubernetes" / "voxhub.yaml"
SYSTEMD = DEPLOY / "systemd"
ENV_EXAMPLE = SYSTEMD / "voxhub.env.example"
README = DEPLOY / "README.md"

# Unit file -> the role its ExecStart runs.
UNITS = {
    "voxhub-migrate.service": "migrate",
    "voxhub-api@.service": "api",
    "voxhub-worker@.service": "worker",
}
# Compose services and Kubernetes workloads that run voxhub -> their role.
COMPOSE_ROLES = {"migrate": "migrate", "api": "api", "worker": "worker"}
KUBERNETES_ROLES = {
    ("Job", "voxhub-migrate"): "migrate",
    ("Deployment", "voxhub-api"): "api",
    ("Deployment", "voxhub-worker"): "worker",
}
# What voxhub's processes may be given besides VOXHUB_*: the S3 client's settings.
AWS_VARIABLES = {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"}
# The variables compose.yaml requires (${NAME:?...}), with values for interpolating it here.
COMPOSE_SECRETS = {
    "POSTGRES_PASSWORD": "postgres-password",
    "MINIO_ROOT_PASSWORD": "minio-password",
    "VOXHUB_FILE_SECRET": "0123456789abcdef" * 4,
}
# Settings that hold secrets: never in a Kubernetes ConfigMap.
SECRET_VARIABLES = {
    "VOXHUB_DATABASE_URL",
    "VOXHUB_FILE_SECRET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "RestrictSUIDSGID": "yes",
}


# --- voxhub's own command line ---------------------------------------------------------------


def parse_voxhub(argv: list[str]) -> argparse.Namespace:
    """Parse a voxhub command line (argv[0] is voxhub) with voxhub's real CLI parser."""
    assert argv, "no command"
    assert argv[0] == "voxhub" or argv[0].endswith("/bin/voxhub"), f"not voxhub: {argv}"
    try:
        return _parser().parse_args(argv[1:])
    except SystemExit as exc:
        pytest.fail(f"voxhub's CLI rejects `{shlex.join(argv)}` (exit status {exc.code})")


def assert_role(argv: list[str], role: str) -> None:
    args = parse_voxhub(argv)
    if role == "api":
        assert args.command == "serve", argv
        assert getattr(args, "role", None) == "api", f"{argv}: not the api role"
    else:
        assert args.command == role, argv


def check_environment(env: Mapping[str, str], where: str) -> None:
    """Every variable is voxhub's or the S3 client's, and voxhub's settings accept the values."""
    unknown = {name for name in env if name not in ENVIRONMENT and name not in AWS_VARIABLES}
    assert not unknown, f"{where}: variables voxhub does not read: {sorted(unknown)}"
    load_settings(environ=dict(env))


def test_the_checks_reject_what_voxhub_does_not_know() -> None:
    with pytest.raises(pytest.fail.Exception, match="rejects"):
        parse_voxhub(["voxhub", "serve", "--rle", "api"])
    with pytest.raises(pytest.fail.Exception, match="rejects"):
        parse_voxhub(["voxhub", "wroker"])
    with pytest.raises(AssertionError, match="VOXHUB_DATABASE_URI"):
        check_environment({"VOXHUB_DATABASE_URI": "postgresql://x"}, "here")


def test_every_voxhub_variable_in_deploy_is_a_setting() -> None:
    files = [path for path in DEPLOY.rglob("*") if path.is_file()]
    assert len(files) >= 9
    used: dict[str, set[str]] = {}
    for path in files:
        for name in re.findall(r"\bVOXHUB_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()):
            used.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    unknown = {name: sorted(paths) for name, paths in used.items() if name not in ENVIRONMENT}
    assert not unknown, f"not in voxhub.settings.ENVIRONMENT: {unknown}"
    assert "VOXHUB_FILE_SECRET" in used


def test_every_yaml_document_parses() -> None:
    paths = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert COMPOSE in paths
    assert KUBERNETES in paths
    for path in paths:
        documents = list(yaml.safe_load_all(path.read_text()))
        assert documents, path
        assert all(isinstance(document, dict) for document in documents), path


# --- the image ---------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def image_entrypoint() -> list[str]:
    entrypoints = [rest for word, rest in dockerfile() if word == "ENTRYPOINT"]
    assert len(entrypoints) == 1
    entrypoint = json.loads(entrypoints[0])  # the exec form: a JSON list
    assert isinstance(entrypoint, list)
    return entrypoint


def test_the_image_runs_voxhub_as_a_user() -> None:
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert image_entrypoint() == ["voxhub"]
    [command] = [rest for word, rest in instructions if word == "CMD"]
    assert_role(image_entrypoint() + json.loads(command), "api")
    users = [rest for word, rest in instructions if word == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    env = dict(
        part.split("=", 1)
        for word, rest in instructions
        if word == "ENV"
        for part in shlex.split(rest)
    )
    voxhub_env = {name: value for name, value in env.items() if name.startswith("VOXHUB_")}
    check_environment(voxhub_env, "Dockerfile")
    assert voxhub_env["VOXHUB_HOST"] == "0.0.0.0"
    [exposed] = [rest for word, rest in instructions if word == "EXPOSE"]
    assert exposed == voxhub_env["VOXHUB_PORT"]


def test_the_image_installs_extras_that_exist() -> None:
    sources = [
        source
        for word, rest in dockerfile()
        if word == "COPY"
        for source in shlex.split(rest)[:-1]
        if not source.startswith("--")
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    installs = [rest for word, rest in dockerfile() if word == "RUN" and "pip install" in rest]
    [extras] = re.findall(r"\.\[([a-z0-9,-]+)\]", " ".join(installs))
    defined = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    missing = [extra for extra in extras.split(",") if extra not in defined]
    assert not missing, f"deploy/Dockerfile installs extras pyproject.toml lacks: {missing}"


# --- Docker Compose ----------------------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<invalid>))"
)


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's interpolation of ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ in every value."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["invalid"] is not None:
            raise ValueError(f"invalid interpolation in {value!r}")
        name = match["braced"] or match["named"]
        current, op = env.get(name), match["op"]
        if op is None:
            return current or ""
        present = current is not None and (current != "" or not op.startswith(":"))
        if op.endswith("-"):
            return current if present and current is not None else match["arg"]
        if op.endswith("?"):
            if not present or current is None:
                raise KeyError(f"{name}: {match['arg']}")
            return current
        return match["arg"] if present else ""

    return _INTERPOLATION.sub(replace, value)


@cache
def compose_schema() -> dict[str, Any]:
    spec = importlib.util.find_spec("check_jsonschema")
    assert spec is not None, "check-jsonschema is not installed"
    assert spec.origin is not None
    path = Path(spec.origin).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema: dict[str, Any] = json.loads(path.read_text())
    assert schema["title"] == "Compose Specification"
    return schema


def compose_errors(document: Mapping[str, Any]) -> list[str]:
    validator = Draft202012Validator(compose_schema())
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


def compose() -> dict[str, Any]:
    document = interpolate(yaml.safe_load(COMPOSE.read_text()), COMPOSE_SECRETS)
    assert isinstance(document, dict)
    return document


def compose_environment(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def seconds(duration: str) -> float:
    """A Compose duration (1m30s, 60s, 500ms) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts, duration
    assert "".join(number + unit for number, unit in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def test_compose_matches_the_compose_specification() -> None:
    document = compose()
    assert compose_errors(document) == []
    broken = compose()
    broken["services"]["api"]["helthcheck"] = broken["services"]["api"].pop("healthcheck")
    broken["services"]["worker"]["depends_on"]["migrate"]["condition"] = "service_done"
    assert len(compose_errors(broken)) >= 2


def test_compose_requires_its_secrets() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    for name in COMPOSE_SECRETS:
        env = {key: value for key, value in COMPOSE_SECRETS.items() if key != name}
        with pytest.raises(KeyError, match=name):
            interpolate(raw, env)


def test_compose_runs_voxhub_roles_with_its_settings() -> None:
    document = compose()
    services = document["services"]
    shared = document["x-voxhub-env"]
    file_secrets, database_urls = set(), set()
    for name, role in COMPOSE_ROLES.items():
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (COMPOSE.parent / service["build"]["context"] / "deploy" / "Dockerfile").is_file()
        entrypoint = service.get("entrypoint", image_entrypoint())
        assert_role([*entrypoint, *service["command"]], role)
        env = compose_environment(service)
        check_environment(env, f"compose service {name}")
        assert shared.items() <= env.items(), f"{name} lacks x-voxhub-env"
        file_secrets.add(env["VOXHUB_FILE_SECRET"])
        database_urls.add(env["VOXHUB_DATABASE_URL"])
        assert env["VOXHUB_DATABASE_URL"].startswith("postgresql://")
        assert env["VOXHUB_STORAGE_URL"].startswith("s3://")
        assert env["VOXHUB_RATE_LIMIT_STORAGE_URL"].startswith("redis://")
        assert set(env) >= AWS_VARIABLES
    assert file_secrets == {COMPOSE_SECRETS["VOXHUB_FILE_SECRET"]}
    assert len(database_urls) == 1


def test_compose_starts_in_order() -> None:
    services = compose()["services"]
    expected = {
        "migrate": {"postgres": "service_healthy"},
        "api": {"migrate": "service_completed_successfully"},
        "worker": {"migrate": "service_completed_successfully"},
    }
    for name, dependencies in expected.items():
        depends_on = services[name]["depends_on"]
        for dependency, condition in dependencies.items():
            assert depends_on[dependency]["condition"] == condition, (name, dependency)
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], dependency
            if how["condition"] == "service_completed_successfully":
                assert services[dependency].get("restart") == "no", dependency


def test_compose_api_listens_where_it_is_checked_and_proxied() -> None:
    document = compose()
    api = document["services"]["api"]
    env = compose_environment(api)
    port = int(env["VOXHUB_PORT"])
    assert env["VOXHUB_HOST"] == "0.0.0.0"
    assert api["deploy"]["replicas"] == 2
    # Two replicas cannot share a fixed host port: the proxy publishes one.
    assert "ports" not in api
    assert [int(exposed) for exposed in api["expose"]] == [port]
    test = api["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "healthcheck", "exec")
    [(check_port, path)] = re.findall(r"http://127\.0\.0\.1:(\d+)(/\w+)", test[3])
    assert (int(check_port), path) == (port, "/readyz")
    proxy = document["services"]["proxy"]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"
    [config] = proxy["configs"]
    caddyfile = document["configs"][config["source"]]["content"]
    assert re.search(r"\bname api\b", caddyfile)
    assert re.search(rf"\bport {port}\b", caddyfile)
    [published] = proxy["ports"]
    host_port, _, proxy_port = published.rpartition(":")
    assert caddyfile.startswith(f":{proxy_port} {{")
    assert urlsplit(env["VOXHUB_PUBLIC_URL"]).port == int(host_port)


def test_compose_worker_has_no_port_and_time_to_stop() -> None:
    services = compose()["services"]
    worker = services["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert "ports" not in worker
    assert "expose" not in worker
    assert "healthcheck" not in worker
    assert seconds(worker["stop_grace_period"]) >= 60
    assert worker["cpu_shares"] < services["api"].get("cpu_shares", 1024)


# --- systemd -----------------------------------------------------------------------------------


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A unit file's sections -> (key, value) in order; repeated keys kept, as systemd does."""
    text = path.read_text().replace("\\\n", " ")
    ini = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    ini.optionxform = str  # type: ignore[assignment,method-assign]  # keep the keys' case
    ini.read_string(text, source=path.name)
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, equals, value = line.partition("=")
        assert equals, f"{path.name}:{number}: {line!r}"
        assert current is not None, f"{path.name}:{number}: outside a section"
        current.append((key.strip(), value.strip()))
    assert list(sections) == ini.sections(), path.name
    return sections


def values(unit: Mapping[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [value for name, value in unit.get(section, []) if name == key]


def value(unit: Mapping[str, list[tuple[str, str]]], section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"[{section}] {key}: {found}"
    return found[0]


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            name, equals, content = line.partition("=")
            assert equals, f"{path}:{number}: {line!r}"
            assert re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f"{path}:{number}: {name!r}"
            env[name] = content
    return env


def test_systemd_units_run_voxhub_roles() -> None:
    assert sorted(path.name for path in SYSTEMD.glob("*.service")) == sorted(UNITS)
    for name, role in UNITS.items():
        unit = read_unit(SYSTEMD / name)
        expected_sections = ["Unit", "Service"] + (
            ["Install"] if name.endswith("@.service") else []
        )
        assert list(unit) == expected_sections, name
        command = shlex.split(value(unit, "Service", "ExecStart").lstrip("-@+!:"))
        assert command[0].startswith("/"), "ExecStart needs an absolute path"
        assert_role(command, role)
        assert values(unit, "Service", "EnvironmentFile")[0] == "/etc/voxhub/voxhub.env"
        assert value(unit, "Service", "User") == "voxhub"
        for key, setting in HARDENING.items():
            assert value(unit, "Service", key) == setting, (name, key)
        if role == "migrate":
            assert value(unit, "Service", "Type") == "oneshot"
        else:
            assert "voxhub-migrate.service" in value(unit, "Unit", "Requires").split()
            assert "voxhub-migrate.service" in value(unit, "Unit", "After").split()
            assert value(unit, "Install", "WantedBy") == "multi-user.target"
        for assignment in values(unit, "Service", "Environment"):
            check_environment(dict([assignment.split("=", 1)]), name)


def test_systemd_worker_yields_and_gets_time_to_stop() -> None:
    worker = read_unit(SYSTEMD / "voxhub-worker@.service")
    api = read_unit(SYSTEMD / "voxhub-api@.service")
    assert int(value(worker, "Service", "Nice")) == 10
    assert not values(api, "Service", "Nice")
    assert seconds(value(worker, "Service", "TimeoutStopSec").rstrip("s") + "s") >= 60


def test_systemd_environment_file_holds_voxhub_settings() -> None:
    env = read_env_file(ENV_EXAMPLE)
    check_environment(env, ENV_EXAMPLE.name)
    assert env["VOXHUB_DATABASE_URL"].startswith("postgresql://")
    assert env["VOXHUB_FILE_SECRET"]
    assert set(env) >= AWS_VARIABLES
    for name in UNITS:
        unit = read_unit(SYSTEMD / name)
        writable = value(unit, "Service", "ReadWritePaths").split()
        assert env["VOXHUB_DATA_DIR"] in writable, name
        assert f"/var/lib/{value(unit, 'Service', 'StateDirectory')}" == env["VOXHUB_DATA_DIR"]


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    voxhub = tmp_path / "voxhub"
    voxhub.write_text("#!/bin/sh\n")
    voxhub.chmod(0o755)
    units = []
    for name in UNITS:
        text = (SYSTEMD / name).read_text().replace("/opt/voxhub/bin/voxhub", str(voxhub))
        units.append(tmp_path / name.replace("@.", "@1."))
        units[-1].write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "voxhub" in line]
    assert result.returncode == 0, result.stderr
    assert ours == []


# --- Kubernetes --------------------------------------------------------------------------------


def kubernetes() -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(KUBERNETES.read_text()) if document]


def kubernetes_errors(document: dict[str, Any], version: str) -> list[str]:
    import kubernetes_validate

    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'.'.join(map(str, error.path))}: {error.message}"]
    return []


def find(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [
        document
        for document in documents
        if document["kind"] == kind and document["metadata"]["name"] == name
    ]
    return found


def containers(workload: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from workload["spec"]["template"]["spec"]["containers"]


def container_environment(
    container: Mapping[str, Any], documents: list[dict[str, Any]]
) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= find(documents, "ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            env |= find(documents, "Secret", source["secretRef"]["name"])["stringData"]
    for variable in container.get("env", []):
        env[variable["name"]] = variable["value"]
    return env


def test_kubernetes_matches_the_kubernetes_schemas() -> None:
    from kubernetes_validate.utils import all_versions

    documents = kubernetes()
    kinds = sorted(document["kind"] for document in documents)
    assert kinds == ["ConfigMap", "Deployment", "Deployment", "Job", "Secret", "Service"]
    versions = all_versions()
    for version in {versions[0], versions[-1]}:
        for document in documents:
            assert kubernetes_errors(document, version) == [], (version, document["kind"])
    broken = find(documents, "Deployment", "voxhub-api")
    [api] = containers(broken)
    api["readinessProbe"]["httpGett"] = api["readinessProbe"].pop("httpGet")
    assert kubernetes_errors(broken, versions[-1]) != []


def test_kubernetes_runs_voxhub_roles_with_its_settings() -> None:
    documents = kubernetes()
    config = find(documents, "ConfigMap", "voxhub-config")["data"]
    secret = find(documents, "Secret", "voxhub-secrets")["stringData"]
    assert set(secret) >= SECRET_VARIABLES
    assert not SECRET_VARIABLES & set(config)
    images = set()
    for (kind, name), role in KUBERNETES_ROLES.items():
        workload = find(documents, kind, name)
        [container] = containers(workload)
        images.add(container["image"])
        assert_role([*container["command"], *container.get("args", [])], role)
        env = container_environment(container, documents)
        check_environment(env, f"{kind}/{name}")
        assert env["VOXHUB_DATABASE_URL"].startswith("postgresql://")
        assert env["VOXHUB_STORAGE_URL"].startswith("s3://")
        assert set(env) >= AWS_VARIABLES
        assert "resources" in container, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        if kind == "Deployment":
            labels = workload["spec"]["template"]["metadata"]["labels"]
            assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert len(images) == 1


def test_kubernetes_api_is_probed_and_served_on_its_port() -> None:
    documents = kubernetes()
    workload = find(documents, "Deployment", "voxhub-api")
    [api] = containers(workload)
    env = container_environment(api, documents)
    assert env["VOXHUB_HOST"] == "0.0.0.0"
    ports = {port["name"]: port["containerPort"] for port in api["ports"]}
    assert list(ports.values()) == [int(env["VOXHUB_PORT"])]

    def probed(probe: str) -> tuple[str, int]:
        http = api[probe]["httpGet"]
        return http["path"], ports.get(http["port"], http["port"])

    port = int(env["VOXHUB_PORT"])
    assert probed("readinessProbe") == ("/readyz", port)
    assert probed("livenessProbe") == ("/healthz", port)
    service = find(documents, "Service", "voxhub-api")
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    [service_port] = service["spec"]["ports"]
    assert ports.get(service_port["targetPort"], service_port["targetPort"]) == port
    worker_labels = find(documents, "Deployment", "voxhub-worker")["spec"]["template"]["metadata"][
        "labels"
    ]
    assert not service["spec"]["selector"].items() <= worker_labels.items()


def test_kubernetes_worker_has_no_port_and_time_to_stop() -> None:
    documents = kubernetes()
    workload = find(documents, "Deployment", "voxhub-worker")
    [worker] = containers(workload)
    assert "ports" not in worker
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert "httpGet" not in worker.get(probe, {}), probe
    assert workload["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60
    assert worker["resources"]["requests"]["cpu"]
    job = find(documents, "Job", "voxhub-migrate")
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")


# --- README ------------------------------------------------------------------------------------


def readme_commands() -> Iterator[list[str]]:
    """Each voxhub command line in the README's code (blocks and inline), as argv."""
    text = README.read_text()
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.S | re.M))
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    for line in [*lines, *spans]:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        for at, token in enumerate(tokens):
            if token != "voxhub" and not token.endswith("/bin/voxhub"):
                continue
            after_option = at and tokens[at - 1].startswith("-") and tokens[at - 1] != "--"
            if at + 1 == len(tokens) or after_option:
                continue  # a name (useradd ... voxhub, -g voxhub), not a command
            end = at + 1
            while end < len(tokens) and tokens[end] not in ("|", "||", "&&", ";", ">", "&"):
                end += 1
            yield [token, *tokens[at + 1 : end]]


def test_readme_commands_and_paths_exist() -> None:
    text = README.read_text()
    for command in (
        "docker compose -f deploy/compose.yaml up --build",
        "systemctl enable --now voxhub-api@1 voxhub-worker@1",
        "kubectl apply -f deploy/kubernetes/voxhub.yaml",
    ):
        assert command in text
    commands = list(readme_commands())
    for argv in commands:
        parse_voxhub(argv)
    roles = [parse_voxhub(argv).command for argv in commands]
    assert roles.count("keys") >= 3, "one way to create the first key per deployment"
    assert {"migrate", "serve", "worker"} <= set(roles)
    for path in set(re.findall(r"\bdeploy/[\w./@-]*[\w@]", text)) - {"deploy/.env"}:
        assert (ROOT / path).exists(), f"README names {path}"
