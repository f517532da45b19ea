// compose: Omnigate's subgraph SDL, read live from `_service { sdl }` with the router's
// token, composed with the product-content subgraph by @apollo/composition. Fails on any
// composition error and on any hint (a hint is a smell a router team would be asked to fix),
// and when the live SDL differs from docs/schema.federation.graphql (what the docs promise).
// Writes the supergraph SDL to $SUPERGRAPH.
//
// Env: OMNIGATE_URL (base URL), ROUTER_TOKEN, SUPERGRAPH (output file), and optionally
// FEDERATION_SDL_FILE (the exported subgraph SDL to compare) and CONTENT_URL (where the
// content subgraph will run; the join script overrides it by name anyway).

import { readFileSync, writeFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { check, env, fail, gql, main } from "./lib.mjs";
import { typeDefs as contentTypeDefs } from "./content.mjs";

/** Omnigate's entities and their keys (docs/federation.md lists the same). */
const ENTITIES = { Customer: "id", ProductVariant: "sku", Location: "id" };

main(async () => {
  const omnigate = `${env("OMNIGATE_URL")}/graphql`;
  const { status, body } = await gql(omnigate, "{ _service { sdl } }", { token: env("ROUTER_TOKEN") });
  check(status === 200 && !body.errors, `_service { sdl } with the router token failed (${status})`, body);
  const sdl = body.data?._service?.sdl;
  check(typeof sdl === "string" && sdl.includes("@key"), "_service { sdl } returned no subgraph SDL", body);

  const exported = process.env.FEDERATION_SDL_FILE;
  if (exported) {
    const text = readFileSync(exported, "utf8");
    check(text.trim() === sdl.trim(), `the live SDL differs from ${exported} (run \`make docs\`)`);
  }

  const result = composeServices([
    { name: "omnigate", url: omnigate, typeDefs: parse(sdl) },
    {
      name: "content",
      url: process.env.CONTENT_URL || "http://content.invalid/graphql",
      typeDefs: parse(contentTypeDefs),
    },
  ]);
  if (result.errors?.length) {
    fail(`composition failed with ${result.errors.length} error(s)`, result.errors.map((e) => `${e.extensions?.code ?? ""} ${e.message}`));
  }
  if (result.hints?.length) {
    fail(`composition gave ${result.hints.length} hint(s)`, result.hints.map((h) => `${h.definition.code} ${h.message}`));
  }
  // Each entity must be keyed in both subgraphs: that is what lets the router join them.
  for (const [type, key] of Object.entries(ENTITIES)) {
    for (const graph of ["OMNIGATE", "CONTENT"]) {
      const keyed = `@join__type(graph: ${graph}, key: "${key}")`;
      const block = result.supergraphSdl.match(new RegExp(`^type ${type}\\n((?:  @.*\\n)*)`, "m"));
      check(block?.[1].includes(keyed), `the supergraph does not key ${type} by ${key} in ${graph}`);
    }
  }
  writeFileSync(env("SUPERGRAPH"), result.supergraphSdl);
  console.log(
    `composed omnigate + content without errors or hints (${sdl.length} chars of Omnigate SDL); ` +
      `joined entities: ${Object.entries(ENTITIES).map(([t, k]) => `${t}(${k})`).join(", ")}`,
  );
});
