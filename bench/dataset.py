"""Benchmark the demo dataset generator: people per second, and what one world holds.

Run: ``python bench/dataset.py [--people 50000] [--seed 7]``. Prints the wall time of one
``generate`` call, the rate, the record counts per vendor and a few ratios that show the
mix is realistic (orders per buyer, omnichannel share, refund rate).
"""

from __future__ import annotations

import argparse
import time

from sandboxes.demo import Persona, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    cpu_started = time.process_time()
    world = generate(people=args.people, seed=args.seed)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started

    orders = len(world.shopify_orders) + len(world.square_orders)
    buyers = sum(1 for p in world.people if p.persona is not Persona.SUBSCRIBER_ONLY)
    omni = sum(1 for p in world.people if p.persona is Persona.OMNICHANNEL)
    refunded = sum(1 for o in world.shopify_orders if o.refunds) + sum(
        1 for o in world.square_orders if o.refunds
    )
    lines = sum(len(o.lines) for o in world.shopify_orders) + sum(
        len(o.lines) for o in world.square_orders
    )
    print(f"generate(people={args.people}, seed={args.seed})")
    print(f"  wall time            {elapsed:8.2f} s   (cpu {cpu:.2f} s)")
    print(f"  people per second    {args.people / elapsed:8.0f}")
    print(f"  records per second   {(orders + lines + len(world.klaviyo_events)) / elapsed:8.0f}")
    print("counts")
    print(f"  people               {len(world.people):8d}")
    print(f"  shopify customers    {len(world.shopify_customers):8d}")
    print(f"  square customers     {len(world.square_customers):8d}")
    print(f"  klaviyo profiles     {len(world.klaviyo_profiles):8d}")
    print(f"  shopify orders       {len(world.shopify_orders):8d}")
    print(f"  square orders        {len(world.square_orders):8d}")
    print(f"  order lines          {lines:8d}")
    print(f"  klaviyo events       {len(world.klaviyo_events):8d}")
    print(f"  stock rows           {len(world.stock):8d}")
    print(f"  quirk people         {len(world.quirks.person_ids()):8d}")
    print("ratios")
    print(f"  orders per buyer     {orders / buyers:8.2f}")
    print(f"  omnichannel share    {omni / len(world.people):8.1%}")
    print(f"  refunded orders      {refunded / orders:8.1%}")


if __name__ == "__main__":
    main()
