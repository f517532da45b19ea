// Shared by the ecosystem scripts: configuration from the environment (the pytest wrapper,
// tests/ecosystem/test_ecosystem.py, sets it), a failure that says what broke, and GraphQL
// over HTTP with the global fetch of Node 20.

/** The environment variable `name`, or a failure naming it. */
export function env(name) {
  const value = process.env[name];
  if (value === undefined || value === "") fail(`${name} is not set`);
  return value;
}

/** Print `message` (and `detail`, pretty JSON) to stderr and exit 1. */
export function fail(message, detail) {
  console.error(`FAIL: ${message}`);
  if (detail !== undefined) console.error(JSON.stringify(detail, null, 2));
  process.exit(1);
}

/** Throws unless `condition`; `main` turns it into a failure. */
export function check(condition, message, detail) {
  if (!condition) fail(message, detail);
}

/** POST a GraphQL operation; the parsed body (HTTP errors and unparsable bodies fail). */
export async function gql(url, query, { variables = {}, token, headers = {} } = {}) {
  const sent = { "content-type": "application/json", ...headers };
  if (token) sent.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers: sent,
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    fail(`${url} answered ${response.status} with a body that is not JSON`, text);
  }
  return { status: response.status, body };
}

/** Run `body`; an exception fails with its stack, success exits 0 (servers left open do not
 * keep the process alive). */
export function main(body) {
  body().then(
    () => process.exit(0),
    (error) => fail(error?.stack ?? String(error)),
  );
}
