"""Issue 12 finding "/docs works offline": Swagger UI's assets come from the gateway itself (npm `swagger-ui-dist`,
pinned in package.json), never from a CDN, so /docs renders on a network without internet."""

from __future__ import annotations

import json
import re

from app.core.config import ROOT

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_offline_docs_reference_only_the_gateway(http):
    page = http.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = ASSET.findall(page.text)
    assert urls, page.text
    assert "cdn" not in page.text.lower() and "http://" not in page.text and "https://" not in page.text
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "/docs-assets/swagger-ui-bundle.js" in urls and "/docs-assets/swagger-ui.css" in urls


def test_offline_docs_assets_are_served_by_the_gateway(http):
    page = http.get("/docs")
    for url in ASSET.findall(page.text):
        asset = http.get(url)
        assert asset.status_code == 200, url
        on_disk = ROOT / "node_modules" / "swagger-ui-dist" / url.removeprefix("/docs-assets/")
        assert asset.content == on_disk.read_bytes(), url
    script = http.get("/docs-assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"] and b"SwaggerUIBundle" in script.content
    assert http.get("/docs-assets/swagger-ui.css").headers["content-type"].startswith("text/css")


def test_offline_docs_assets_are_the_pinned_npm_package(http):
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["swagger-ui-dist"]
    installed = json.loads((ROOT / "node_modules" / "swagger-ui-dist" / "package.json").read_text())["version"]
    assert installed == pinned
    served = http.get("/docs-assets/package.json").json()
    assert served["version"] == pinned


def test_offline_docs_openapi_is_served_and_redoc_is_not_offered(http):
    assert http.get("/openapi.json").json()["info"]["title"] == "tradefin gateway"
    assert http.get("/redoc").status_code == 404
