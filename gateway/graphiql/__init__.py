"""GraphiQL, served whole by the gateway: the page (``page``) and its browser files from npm
(``assets``), so that it works without internet."""

from __future__ import annotations

from gateway.graphiql.assets import ASSETS, CDN, PREFIX, Asset, AssetsMode, GraphiQLAssets
from gateway.graphiql.page import GraphiQLPage, content_security_policy

__all__ = [
    "ASSETS",
    "CDN",
    "PREFIX",
    "Asset",
    "AssetsMode",
    "GraphiQLAssets",
    "GraphiQLPage",
    "content_security_policy",
]
