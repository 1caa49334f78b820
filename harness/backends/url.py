"""A Toxiproxy server someone else runs: never stopped by us, but tidied."""

from __future__ import annotations

from fracas.harness.backends.base import BackendError, BackendOptions, FaultBackend, register
from fracas.harness.kit.toxiclient import ToxiClient, ToxiproxyError


@register
class UrlBackend(FaultBackend):
    """``TOXIPROXY_URL``: an already running server (a CI service, a shared box).

    Other people's proxies on it are left alone: stop deletes exactly the proxies
    created through this backend's client, and never calls the server-wide ``/reset``.
    """

    name = "url"
    rank = 1

    @classmethod
    def configured(cls, options: BackendOptions) -> FaultBackend:
        if not options.url:
            raise BackendError(
                f"{options.source}=url needs TOXIPROXY_URL=http://host:port of a running "
                "toxiproxy server"
            )
        return cls(options.url)

    def __init__(self, url: str, start_timeout: float = 5.0) -> None:
        super().__init__()
        if not url:
            raise BackendError("url backend: TOXIPROXY_URL is empty; set it to http://host:port")
        try:
            ToxiClient(url).close()
        except ValueError as exc:
            raise BackendError(f"url backend: TOXIPROXY_URL: {exc}") from None
        self.url = url
        self.start_timeout = start_timeout

    def _start(self) -> str:
        client = ToxiClient(self.url)
        try:
            client.wait_up(self.start_timeout)
        except ToxiproxyError as exc:
            raise BackendError(
                f"url backend: no toxiproxy answered at TOXIPROXY_URL={self.url} ({exc.error}); "
                "start one, or unset TOXIPROXY_URL to use the embedded backend"
            ) from None
        self._client = client
        return client.base_url

    def _cleanup(self) -> None:
        if self._client is not None:
            self._client.delete_created()

    def _stop(self) -> None:
        pass
