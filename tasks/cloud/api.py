"""
Every DigitalOcean API call goes through Api: the token only from the environment (never
an argument, never printed), lists followed across pages, rate limits (HTTP 429) waited
out until the reset the API names, and errors that name the resource and the call.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from pyinfra import logger

from tasks.errors import HostRefused

TOKEN_VARIABLE = "DIGITALOCEAN_TOKEN"
ENDPOINT_VARIABLE = "DIGITALOCEAN_API_ENDPOINT"
PER_PAGE = 200
MAX_RATE_LIMIT_WAIT = 3600  # DigitalOcean's hourly limit resets within the hour
MAX_RATE_LIMIT_RETRIES = 10


class ApiError(HostRefused):
    """A DigitalOcean API call failed: the message names the resource, the call and what
    the API answered (never the token)."""


class NotFound(ApiError):
    """The API answered 404 for the resource."""


def token_from(environ: Mapping[str, str]) -> str:
    token = environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ApiError(
            f"no DigitalOcean API token: set {TOKEN_VARIABLE} (a personal access token with "
            "write scope); it is read from the environment only, never from host data"
        )
    return token


def _reset_wait(headers: Mapping[str, str], now: float) -> float:
    """Seconds until the rate limit resets: `ratelimit-reset` (epoch seconds) as
    DigitalOcean sends it, else `retry-after`, else one second."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        if "ratelimit-reset" in lowered:
            return max(1.0, float(lowered["ratelimit-reset"]) - now)
        if "retry-after" in lowered:
            return max(1.0, float(lowered["retry-after"]))
    except ValueError:
        pass
    return 1.0


def _answer(error: Any) -> str:
    response = getattr(error, "response", None)
    status = getattr(error, "status_code", None) or getattr(response, "status_code", "?")
    try:
        body = response.json() if response is not None else {}
    except Exception:  # not JSON: the reason phrase is all there is
        body = {}
    detail = body.get("message") if isinstance(body, dict) else None
    return f"HTTP {status}" + (f" ({body.get('id')}: {detail})" if detail else "")


def _is_error(answer: Any) -> bool:
    """An error body ({"id": ..., "message": ...}) handed back as an answer."""
    return (
        isinstance(answer, dict)
        and set(answer) <= {"id", "message", "request_id"}
        and ("message" in answer)
    )


class Api:
    """The pydo client of one run, with the project's rules around every call."""

    def __init__(self, environ: Mapping[str, str] = os.environ, sleep=time.sleep):
        from pydo import Client

        endpoint = environ.get(ENDPOINT_VARIABLE)
        # Rate limits are handled here (DigitalOcean's reset header), not by azure-core.
        self.client = Client(
            token=token_from(environ), retry_total=0, **({"endpoint": endpoint} if endpoint else {})
        )
        self.sleep = sleep

    def call(self, resource: str, call: str, request: Callable[[], Any]) -> Any:
        """request(), waiting out rate limits; errors name the resource and the call."""
        for _attempt in range(MAX_RATE_LIMIT_RETRIES):
            try:
                answer = request()
            except Exception as error:  # azure-core's HttpResponseError and transport errors
                status = getattr(error, "status_code", None)
                if status == 429:
                    headers = getattr(getattr(error, "response", None), "headers", {}) or {}
                    wait = min(_reset_wait(headers, time.time()), MAX_RATE_LIMIT_WAIT)
                    logger.warning(f"DigitalOcean rate limit on {call}: waiting {wait:.0f}s")
                    self.sleep(wait)
                    continue
                kind = NotFound if status == 404 else ApiError
                raise kind(
                    f"DigitalOcean API: {call} for {resource} failed: "
                    f"{_answer(error) if status else type(error).__name__}"
                ) from None
            if _is_error(answer):  # pydo returns some 404 answers instead of raising
                raise NotFound(
                    f"DigitalOcean API: {call} for {resource} failed: HTTP 404 "
                    f"({answer['id']}: {answer['message']})"
                )
            return answer
        raise ApiError(f"DigitalOcean API: {call} for {resource}: still rate limited, gave up")

    def find(self, resource: str, call: str, request: Callable[[], Any]) -> Any | None:
        """Like call(), but None when the API answers 404."""
        try:
            return self.call(resource, call, request)
        except NotFound:
            return None

    def all_pages(
        self, resource: str, call: str, list_page: Callable[..., dict], key: str, **query: Any
    ) -> list[dict]:
        """Every item of a paged list, following links.pages.next."""
        items: list[dict] = []
        page = 1
        while True:
            response = self.call(
                resource, call, lambda page=page: list_page(per_page=PER_PAGE, page=page, **query)
            )
            items.extend(response.get(key) or [])
            if not (response.get("links") or {}).get("pages", {}).get("next"):
                return items
            page += 1
