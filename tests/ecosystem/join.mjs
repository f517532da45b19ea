// router join: @apollo/gateway serving the supergraph from compose.mjs over Omnigate and the
// product-content subgraph (content.mjs, started here), forwarding the caller's
// Authorization (and X-Customer-Token) to Omnigate. One query joins both ways: Omnigate's
// variant, its stock near a store and a customer's loyalty, with content's fields on them;
// and content's wishlist, home store and review authors, which the router resolves through
// Omnigate's `_entities`. Each value is checked against Omnigate asked directly and against
// content's pure functions.
//
// Env: SUPERGRAPH (file), OMNIGATE_URL, TOKEN (the caller's bearer token, staff or internal),
// SKU (stocked within RADIUS_KM of NEAR_LAT/NEAR_LNG), CUSTOMER_ID.

import { readFileSync } from "node:fs";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { blurbFor, imageUrlFor, noticeFor, startContent, wishlistFor } from "./content.mjs";
import { check, env, gql, main } from "./lib.mjs";

const JOIN = `
query Join($sku: String!, $near: GeoPointInput!, $radiusKm: Float!, $customerId: ID!) {
  productVariant(sku: $sku) {
    sku title imageUrl blurb
    stock(near: $near, radiusKm: $radiusKm) { available distanceKm location { id name pickupNotice } }
    reviews { rating author { id displayName loyalty { points } } }
  }
  customer(id: $customerId) {
    id displayName
    loyalty { points }
    wishlist { sku title imageUrl totalAvailable }
    homeStore { id name pickupNotice }
  }
}`;

const DIRECT = `
query Direct($sku: String!, $near: GeoPointInput!, $radiusKm: Float!, $customerId: ID!) {
  productVariants(first: 100) { edges { node { sku title totalAvailable } } }
  productVariant(sku: $sku) { stock(near: $near, radiusKm: $radiusKm) { available location { id name } } }
  customer(id: $customerId) { id displayName loyalty { points } }
  locations { id name }
}`;

/** Operations the router sent, by subgraph name: to see that it did use `_entities`. */
const sent = { omnigate: [], content: [] };

main(async () => {
  const omnigate = `${env("OMNIGATE_URL")}/graphql`;
  const token = env("TOKEN");
  const variables = {
    sku: env("SKU"),
    near: { lat: Number(env("NEAR_LAT")), lng: Number(env("NEAR_LNG")) },
    radiusKm: Number(env("RADIUS_KM")),
    customerId: env("CUSTOMER_ID"),
  };

  // The truth, from Omnigate directly.
  const direct = await gql(omnigate, DIRECT, { token, variables });
  check(direct.status === 200 && !direct.body.errors, "the direct query to Omnigate failed", direct.body);
  const truth = direct.body.data;
  const titles = new Map(truth.productVariants.edges.map(({ node }) => [node.sku, node]));
  const skus = [...titles.keys()].sort();
  const locationNames = new Map(truth.locations.map((l) => [l.id, l.name]));
  const homeStore = truth.locations[0].id;
  check(truth.productVariant.stock.length > 1, `fewer than two levels of ${variables.sku} near the point`, truth);
  check(titles.has(variables.sku), `${variables.sku} is not among the first variants`, skus);

  const content = await startContent({ skus, author: variables.customerId, homeStore });
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(env("SUPERGRAPH"), "utf8"),
    buildService({ name, url }) {
      return new RemoteGraphQLDataSource({
        url: name === "content" ? content.url : url,
        willSendRequest({ request, context }) {
          sent[name].push(request.query);
          // What docs/federation.md tells a router to do: pass the caller's credentials on.
          if (context.authorization) request.http.headers.set("authorization", context.authorization);
          if (context.customerToken) request.http.headers.set("x-customer-token", context.customerToken);
        },
      });
    },
  });
  const router = new ApolloServer({ gateway });
  const { url: routerUrl } = await startStandaloneServer(router, {
    listen: { host: "127.0.0.1", port: 0 },
    context: async ({ req }) => ({
      authorization: req.headers.authorization,
      customerToken: req.headers["x-customer-token"],
    }),
  });

  const joined = await gql(routerUrl, JOIN, { token, variables });
  check(joined.status === 200 && !joined.body.errors, "the joined query through the router failed", joined.body);
  const { productVariant: variant, customer } = joined.body.data;
  // A null here with no error is how a router reports an entity a subgraph did not resolve.
  check(variant && customer, "the router answered null for the variant or the customer", joined.body);

  check(variant.sku === variables.sku && variant.title === titles.get(variables.sku).title, "variant title", variant);
  check(variant.imageUrl === imageUrlFor(variant.sku) && variant.blurb === blurbFor(variant.sku), "variant content", variant);
  const expectedStock = truth.productVariant.stock.map((s) => [s.location.id, s.location.name, s.available]);
  const gotStock = variant.stock.map((s) => [s.location.id, s.location.name, s.available]);
  check(JSON.stringify(gotStock) === JSON.stringify(expectedStock), "stock near the point", { gotStock, expectedStock });
  for (const level of variant.stock) {
    check(level.location.pickupNotice === noticeFor(level.location.id), "a store's pickup notice", level);
    check(typeof level.distanceKm === "number" && level.distanceKm <= variables.radiusKm, "a level's distance", level);
  }

  const points = truth.customer.loyalty.points;
  check(Number.isInteger(customer.loyalty.points) && customer.loyalty.points === points, "customer points", { customer, points });
  check(customer.id === variables.customerId && customer.displayName === truth.customer.displayName, "customer", customer);
  const wanted = wishlistFor(customer.id, skus);
  check(JSON.stringify(customer.wishlist.map((v) => v.sku)) === JSON.stringify(wanted), "wishlist SKUs", { got: customer.wishlist, wanted });
  for (const item of customer.wishlist) {
    const known = titles.get(item.sku);
    check(item.title === known.title && item.totalAvailable === known.totalAvailable, "a wishlist variant from Omnigate's _entities", { item, known });
    check(item.imageUrl === imageUrlFor(item.sku), "a wishlist variant's image", item);
  }
  check(customer.homeStore.id === homeStore && customer.homeStore.name === locationNames.get(homeStore), "home store from Omnigate's _entities", customer.homeStore);
  check(customer.homeStore.pickupNotice === noticeFor(homeStore), "home store's notice", customer.homeStore);
  check(variant.reviews.length === 1, "reviews", variant.reviews);
  for (const review of variant.reviews) {
    check(review.author.id === customer.id && review.author.loyalty.points === points, "a review's author from Omnigate's _entities", review);
  }

  const entityCalls = (name) => sent[name].filter((q) => q.includes("_entities")).length;
  check(entityCalls("omnigate") > 0, "the router never asked Omnigate for _entities", sent.omnigate);
  check(entityCalls("content") > 0, "the router never asked content for _entities", sent.content);

  // Without the caller's token Omnigate refuses: the router has no access of its own.
  const anonymous = await gql(routerUrl, JOIN, { variables });
  const codes = (anonymous.body.errors ?? []).map((e) => e.extensions?.code);
  check(codes.includes("UNAUTHENTICATED"), "an anonymous caller was not refused through the router", anonymous.body);

  console.log(
    `joined through @apollo/gateway: ${variant.stock.length} level(s) of ${variant.sku} near the point, ` +
      `customer ${customer.id} with ${points} points, ${customer.wishlist.length} wishlist variants; ` +
      `subgraph operations sent: omnigate ${sent.omnigate.length} (${entityCalls("omnigate")} _entities), ` +
      `content ${sent.content.length} (${entityCalls("content")} _entities); anonymous refused (${codes.join(", ")})`,
  );
  await router.stop();
  await content.stop();
});
