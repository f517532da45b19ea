// subscribe + resume: graphql-ws's own client (over `ws`) subscribes to Omnigate's
// `stockChanged` directly, a signed Shopify inventory webhook (sent by the Shopify sandbox's
// control API) changes the level, and the event must arrive with the new level. Then the
// client goes away, another change is made while nobody listens, and a new client that
// resubscribes with `since: <last cursor>` must get the missed change first, then live ones.
//
// Env: OMNIGATE_URL, TOKEN (storefront, staff or internal), SHOPIFY_SANDBOX_URL, SKU and
// LOCATION (a demo location code whose count Shopify keeps), SINCE (a cursor from before
// this run: a change made before the gateway has registered the subscription is replayed,
// not lost, so the script does not race the server).

import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { check, env, main } from "./lib.mjs";

const SUBSCRIPTION = `
subscription Live($skus: [String!]!, $since: String) {
  stockChanged(skus: $skus, since: $since) {
    cursor resync cause
    level { sku locationId available version source }
  }
}`;
const WAIT_MS = 15_000;

function client(url, token) {
  return createClient({
    url: url.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

/** The next event of `events`, or a failure after WAIT_MS naming what was awaited. */
async function next(events, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no event within ${WAIT_MS} ms: ${what}`)), WAIT_MS);
  });
  try {
    const { value, done } = await Promise.race([events.next(), timeout]);
    check(!done, `the subscription ended while waiting for ${what}`);
    check(!value.errors, `the subscription sent errors while waiting for ${what}`, value);
    return value.data.stockChanged;
  } finally {
    clearTimeout(timer);
  }
}

/** One more unit at the store, through the Shopify sandbox: its signed webhook reaches the
 * gateway before the control API answers. The new `available`. */
async function count(sandbox, sku, location) {
  const response = await fetch(`${sandbox}/_sandbox/inventory`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sku, location, delta: 1 }),
  });
  const body = await response.json();
  check(response.ok, `the Shopify sandbox refused the change (${response.status})`, body);
  const statuses = body.deliveries.map((d) => d.status);
  check(JSON.stringify(statuses) === "[200]", "the gateway did not accept the signed webhook", body);
  return { available: body.level.quantities.available, locationId: body.level.location_id };
}

function expectLevel(event, sku, change, what) {
  check(!event.resync && event.cause === "webhook", `${what}: not a webhook's change`, event);
  const { level } = event;
  check(level.sku === sku && level.locationId === change.locationId, `${what}: another level`, { event, change });
  check(level.available === change.available, `${what}: available ${level.available}, not ${change.available}`, event);
  check(level.source === "SHOPIFY", `${what}: source`, event);
}

main(async () => {
  const url = env("OMNIGATE_URL");
  const token = env("TOKEN");
  const sandbox = env("SHOPIFY_SANDBOX_URL");
  const sku = env("SKU");
  const location = env("LOCATION");

  const first = client(url, token);
  const live = first.iterate({ query: SUBSCRIPTION, variables: { skus: [sku], since: env("SINCE") } });
  const seen = await count(sandbox, sku, location);
  const last = await next(live, `the change to ${seen.available}`);
  expectLevel(last, sku, seen, "live event");
  await live.return();
  await first.dispose();

  const missed = await count(sandbox, sku, location); // nobody is subscribed now

  const second = client(url, token);
  const resumed = second.iterate({ query: SUBSCRIPTION, variables: { skus: [sku], since: last.cursor } });
  const replayed = await next(resumed, `the missed change to ${missed.available}`);
  expectLevel(replayed, sku, missed, "replayed event");
  const after = await count(sandbox, sku, location);
  const then = await next(resumed, `the live change to ${after.available} after the replay`);
  expectLevel(then, sku, after, "live event after the replay");
  const versions = [last, replayed, then].map((e) => e.level.version);
  check(versions[0] < versions[1] && versions[1] < versions[2], "versions out of order", versions);
  check(new Set([last.cursor, replayed.cursor, then.cursor]).size === 3, "a cursor repeated", [last, replayed, then]);
  await resumed.return();
  await second.dispose();

  console.log(
    `stockChanged over graphql-ws: live ${seen.available}, then after resubscribing with since: ` +
      `replayed ${missed.available} first, then live ${after.available} (versions ${versions.join(" < ")})`,
  );
});
