"""status.py's report: commands.status_report() output parsed into one row per service,
shown as a table for people or one JSON document per host for scripts."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

import msgspec

from tasks.host.probes import api_answers, api_list, status_body
from tasks.proxy.facts import parse_proxy
from tasks.stack.facts import normalize_reference


class StatusSection(msgspec.Struct, frozen=True):
    """More of status.py's report, from another part: a probe run with the stack's, what it
    makes of the lines (`read`: a JSON value under `key`) and its lines in the table."""

    key: str
    probe: str
    read: Callable[[list[str], datetime.datetime], Any]
    table_lines: Callable[[Any], list[str]]


class ServiceStatus(msgspec.Struct, frozen=True):
    service: str
    state: str
    health: str
    image: str
    image_id: str
    digest: str
    started_at: str
    uptime_seconds: int | None


def _uptime(started_at: str, now: datetime.datetime) -> int:
    # Docker writes UTC with nanoseconds ("2026-11-28T06:13:26.123456789Z"); seconds do.
    started = datetime.datetime.fromisoformat(started_at.split(".")[0].rstrip("Z") + "+00:00")
    return max(0, int((now - started).total_seconds()))


def _digest(container: dict, image: dict) -> str:
    repository = normalize_reference(container["image"]).rsplit(":", 1)[0].split("@")[0]
    return next(
        (
            digest.split("@", 1)[1]
            for digest in image.get("RepoDigests") or []
            if digest.startswith(repository + "@")
        ),
        "",
    )


def _row(container: dict, images: dict[str, dict], now: datetime.datetime) -> ServiceStatus:
    running = container["state"] == "running" and bool(container["started_at"])
    return ServiceStatus(
        service=container["service"],
        state=container["state"],
        health=container["health"] or "-",
        image=container["image"],
        image_id=container["image_id"],
        digest=_digest(container, images.get(container["image_id"], {})),
        started_at=container["started_at"] if running else "",
        uptime_seconds=_uptime(container["started_at"], now) if running else None,
    )


# An inspected field as commands.INSPECTED_FIELDS prints it: `"Key":"value"`, or for the
# health `"Health":{"Status":"value"`.
_INSPECTED = re.compile(r'"(\w+)":(?:\{"Status":)?"([^"]*)"')


def _container(summary: dict, inspected: list[str]) -> dict | None:
    """One container's row data from its entry in the list and its inspected fields;
    None when it was gone before it could be inspected."""
    matches = (_INSPECTED.fullmatch(line.strip()) for line in inspected)
    fields = [match.groups() for match in matches if match]
    started_at = next((value for key, value in fields if key == "StartedAt"), None)
    if started_at is None:
        return None
    image_id = summary.get("ImageID", "")
    # Both the container's image ID and the reference it was created from are "Image".
    images = [value for key, value in fields if key == "Image"]
    return {
        "service": (summary.get("Labels") or {}).get("com.docker.compose.service", ""),
        "state": summary.get("State", ""),
        "health": next((value for key, value in fields if key == "Health"), ""),
        "image": next((image for image in images if image != image_id), image_id),
        "image_id": image_id,
        "started_at": started_at,
    }


def service_statuses(lines: list[str], now: datetime.datetime) -> tuple[list[ServiceStatus], str]:
    """Per-service rows and what GET /status answered (its first 200 characters on one
    line; '' for no answer), from commands.status_report output."""
    answers = api_answers(lines)
    images = {image["Id"]: image for image in api_list(answers.get("localhost/images/json", []))}
    containers = (
        _container(summary, answers.get(f"localhost/containers/{summary['Id']}/json", []))
        for summary in api_list(answers.get("localhost/containers/json", []))
    )
    rows = [_row(container, images, now) for container in containers if container]
    body = status_body(answers)
    return sorted(rows, key=lambda row: row.service), body


class CertificateStatus(msgspec.Struct, frozen=True):
    domain: str
    issuer: str  # '' while none is issued
    not_after: str  # ISO 8601, UTC
    days_left: int | None


def certificate_status(
    lines: list[str], domain: str, now: datetime.datetime
) -> CertificateStatus | None:
    """The proxy's certificate for the domain (None without a domain)."""
    if not domain:
        return None
    certificate = parse_proxy(lines).certificate
    if certificate is None:
        return CertificateStatus(domain, "", "", None)
    days = (certificate.not_after - now).days
    return CertificateStatus(domain, certificate.issuer, certificate.not_after.isoformat(), days)


def _certificate_line(certificate: CertificateStatus) -> str:
    if not certificate.issuer:
        return f"  certificate for {certificate.domain}: none issued yet"
    return (
        f"  certificate for {certificate.domain}: issued by {certificate.issuer}, expires "
        f"{certificate.not_after} (in {certificate.days_left} days)"
    )


def _human_duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s"


def status_table(
    host_name: str,
    rows: list[ServiceStatus],
    body: str,
    url: str,
    certificate: CertificateStatus | None = None,
    more: tuple[str, ...] = (),
) -> str:
    header = ("SERVICE", "STATE", "HEALTH", "UPTIME", "IMAGE", "DIGEST")
    cells = [header] + [
        (
            r.service,
            r.state,
            r.health,
            _human_duration(r.uptime_seconds),
            r.image,
            (r.digest or r.image_id)[:19],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [f"[{host_name}]"]
    for row in cells:
        padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append(("  " + "  ".join(padded)).rstrip())
    answer = "OK" if body == "OK" else f"not OK ({body or 'no answer'})"
    lines.append(f"  GET {url}: {answer}")
    if certificate:
        lines.append(_certificate_line(certificate))
    return "\n".join(lines + [f"  {line}" for line in more])


def status_document(
    host_name: str,
    rows: list[ServiceStatus],
    body: str,
    url: str,
    certificate: CertificateStatus | None = None,
    more: dict[str, Any] | None = None,
) -> str:
    document = {
        "host": host_name,
        "certificate": msgspec.structs.asdict(certificate) if certificate else None,
        "services": [msgspec.structs.asdict(row) for row in rows],
        "status_url": url,
        "status_ok": body == "OK",
        "status_body": body,
    }
    return json.dumps({**document, **(more or {})}, sort_keys=True)
