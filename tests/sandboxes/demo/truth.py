"""Identity resolution by the design's rules, small enough to trust, used to check that the
dataset's truth is reachable: emails (trimmed, lower-cased) merge, placeholders never do,
phones never merge on their own, and an order ties its customer to its contact email."""

from __future__ import annotations

from sandboxes.demo import PLACEHOLDER_EMAIL, DemoWorld

Node = tuple[str, str]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_placeholder(world: DemoWorld, email: str) -> bool:
    email = normalise_email(email)
    return email == PLACEHOLDER_EMAIL or email.endswith("@" + world.retailer_domain)


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Node, Node] = {}

    def add(self, node: Node) -> None:
        self.parent.setdefault(node, node)

    def find(self, node: Node) -> Node:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: Node, b: Node) -> None:
        self.parent[self.find(a)] = self.find(b)


def resolve(world: DemoWorld) -> tuple[UnionFind, dict[Node, str]]:
    """Cluster every customer record and guest order; returns the clusters and each node's
    true person id."""
    uf = UnionFind()
    owner: dict[Node, str] = {}

    def link(node: Node, email: str | None) -> None:
        uf.add(node)
        if email and not is_placeholder(world, email):
            key: Node = ("email", normalise_email(email))
            uf.add(key)
            uf.union(node, key)

    for c in world.shopify_customers:
        owner[("shopify", str(c.id))] = c.person_id
        link(("shopify", str(c.id)), c.email)
    for s in world.square_customers:
        owner[("square", s.id)] = s.person_id
        link(("square", s.id), s.email_address)
    for p in world.klaviyo_profiles:
        owner[("klaviyo", p.id)] = p.person_id
        link(("klaviyo", p.id), p.email)
    for o in world.shopify_orders:
        if o.customer_id is not None:
            link(("shopify", str(o.customer_id)), o.email)
        elif o.email is not None and o.person_id is not None:
            owner[("order", str(o.id))] = o.person_id
            link(("order", str(o.id)), o.email)
    return uf, owner
