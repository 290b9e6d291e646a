"""The TMDB client's connections honour the environment's proxy and CA settings, as requests would."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3

from movie_enrichment.io.tmdb import TmdbClient, TmdbSettings, state, transport

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                   "no_proxy", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    state.forget_process_state()


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: it records the absolute URL each GET names."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.seen.append(self.path)
        body = json.dumps({"id": 550, "via": "proxy"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def proxy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_requests_go_through_the_proxy_the_environment_names(proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    # A host that does not resolve: only the proxy can answer for it.
    settings = TmdbSettings(api_key="0123456789abcdef0123456789abcdef", base_url="http://tmdb.invalid/3",
                            max_requests_per_second=0, retries=0, timeout=5)
    with TmdbClient(settings, observers=[]) as client:
        assert client.get("/movie/550") == {"id": 550, "via": "proxy"}
    (url,) = proxy.seen
    assert url.startswith("http://tmdb.invalid/3/movie/550?")


def test_no_proxy_bypasses_the_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    manager = transport.pool_manager("https://api.themoviedb.org/3", 4, {})
    assert isinstance(manager, urllib3.ProxyManager)
    assert (manager.proxy.host, manager.proxy.port) == ("127.0.0.1", 3128)
    monkeypatch.setenv("NO_PROXY", "api.themoviedb.org")
    assert not isinstance(transport.pool_manager("https://api.themoviedb.org/3", 4, {}), urllib3.ProxyManager)


def test_the_ca_bundle_the_environment_names_is_used(monkeypatch, tmp_path):
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert transport.pool_manager("https://api.themoviedb.org/3", 4, {}).connection_pool_kw["ca_certs"] == str(bundle)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "first.pem"))  # requests' own variable comes first
    assert transport.ca_bundle() == str(tmp_path / "first.pem")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("SSL_CERT_FILE")
    certifi = pytest.importorskip("certifi")
    assert transport.ca_bundle() == certifi.where()
