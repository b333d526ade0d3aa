"""The deployment files: no Docker engine runs here, so their structure is checked instead."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_web_behind_a_proxy_with_postgresql_and_redis():
    services = compose()["services"]
    assert {"web", "db", "redis", "migrate", "proxy"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["web"]["build"] == "."


def test_the_web_service_can_be_scaled():
    web = compose()["services"]["web"]
    # A fixed host port would make a second instance fail to start.
    assert "ports" not in web
    assert web["expose"] == ["8000"]
    assert web["environment"]["GUNICORN_BIND"] == "0.0.0.0:8000"
    # Behind nginx: the client's address comes from the proxy's X-Forwarded-For entry.
    assert web["environment"]["TRUSTED_PROXY_HOPS"] == "1"
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in (ROOT / "deploy/nginx.conf").read_text()
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"server web:8000 resolve;", conf)
    assert compose()["services"]["proxy"]["volumes"] == [
        "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro"
    ]


def test_every_instance_shares_the_database_and_redis_and_waits_for_them():
    services = compose()["services"]
    for name in ("web", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert "DJANGO_SECRET_KEY" in env
    depends = services["web"]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in services["db"] and "healthcheck" in services["redis"]


def test_the_database_keeps_its_data_in_a_volume():
    data = compose()
    assert "pgdata" in data["volumes"]
    assert any(v.startswith("pgdata:") for v in data["services"]["db"]["volumes"])


def test_the_image_serves_gunicorn_as_a_non_root_user_with_a_health_check():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[2-9]-slim", dockerfile, re.M)
    assert re.search(r"^USER (?!root|0\b)\S+", dockerfile, re.M)
    assert "collectstatic" in dockerfile
    assert re.search(r"^HEALTHCHECK .*", dockerfile, re.M) and "/healthz" in dockerfile
    assert re.search(r'^CMD \["gunicorn"', dockerfile, re.M)


def test_page_copies_may_be_evicted_but_counters_never():
    services = compose()["services"]

    def option(service, name):
        command = services[service]["command"]
        return command[command.index(name) + 1]

    for service, policy in (("redis", "allkeys-lru"), ("counters", "noeviction")):
        assert option(service, "--maxmemory").endswith("mb")
        assert option(service, "--maxmemory-policy") == policy
    for name in ("web", "migrate"):
        assert services[name]["environment"]["COUNTERS_REDIS_URL"] == "redis://counters:6379/0"
    assert services["web"]["depends_on"]["counters"]["condition"] == "service_healthy"
