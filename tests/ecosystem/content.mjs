// "product-content": a second subgraph, as a retailer's CMS team would run it. It owns
// images, blurbs and reviews of a ProductVariant, a Customer's wishlist and home store, and
// a store's pickup notice, and knows of Omnigate's entities only their keys. Everything it
// answers is a pure function of the key (and of CONTENT_SKUS, the catalog it may name), so
// the join script can check each field the router put together.

import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

export const typeDefs = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type ProductVariant @key(fields: "sku") {
  sku: String!
  imageUrl: String!
  blurb: String!
  reviews: [Review!]!
}

type Review {
  rating: Int!
  text: String!
  author: Customer!
}

type Customer @key(fields: "id") {
  id: ID!
  wishlist: [ProductVariant!]!
  homeStore: Location
}

type Location @key(fields: "id") {
  id: ID!
  pickupNotice: String!
}
`;

/** A small stable hash, so a key always maps to the same content. */
function hash(text) {
  let h = 7;
  for (const c of text) h = (h * 31 + c.codePointAt(0)) % 1_000_003;
  return h;
}

export const imageUrlFor = (sku) => `https://content.example/variants/${encodeURIComponent(sku)}.jpg`;
export const blurbFor = (sku) => `Why we love ${sku}`;
export const noticeFor = (id) => `Pickup at ${id}: ask at the till`;

/** Three SKUs of `skus`, starting where the customer's id hashes to. */
export function wishlistFor(customerId, skus) {
  const start = hash(customerId) % skus.length;
  return [0, 1, 2].map((i) => skus[(start + i) % skus.length]);
}

/**
 * `skus`: the catalog the wishlists come from; `author`: the customer who wrote every
 * review; `homeStore`: every customer's home store (a location id).
 */
export function contentResolvers({ skus, author, homeStore }) {
  return {
    ProductVariant: {
      __resolveReference: ({ sku }) => ({ sku }),
      imageUrl: ({ sku }) => imageUrlFor(sku),
      blurb: ({ sku }) => blurbFor(sku),
      reviews: ({ sku }) => [{ rating: 1 + (hash(sku) % 5), text: `Good ${sku}`, author }],
    },
    Review: {
      author: ({ author }) => ({ __typename: "Customer", id: author }),
    },
    Customer: {
      __resolveReference: ({ id }) => ({ id }),
      wishlist: ({ id }) => wishlistFor(id, skus).map((sku) => ({ __typename: "ProductVariant", sku })),
      homeStore: () => ({ __typename: "Location", id: homeStore }),
    },
    Location: {
      __resolveReference: ({ id }) => ({ id }),
      pickupNotice: ({ id }) => noticeFor(id),
    },
  };
}

/** Serve the subgraph on 127.0.0.1, a free port; its URL and a stop function. */
export async function startContent(options) {
  const schema = buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: contentResolvers(options) });
  const server = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: 0 } });
  return { url, stop: () => server.stop() };
}
