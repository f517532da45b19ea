// The GraphiQL page's own code (gateway/graphiql/page.py renders the page around it): it
// opens with the example operations as tabs and keeps the editors in the URL for sharing.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("omnigate-graphiql").textContent);
  const tabs = config.tabs;
  const first = tabs[0] || {};

  // The URL's parameters (q, variables, headers), for sharing an operation.
  const parameters = {};
  for (const entry of window.location.search.slice(1).split("&")) {
    const eq = entry.indexOf("=");
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
        entry.slice(eq + 1),
      );
    }
  }

  function updateURL(data) {
    Object.assign(parameters, data);
    const search = Object.keys(parameters)
      .filter((key) => Boolean(parameters[key]))
      .map((key) => encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]))
      .join("&");
    history.replaceState(null, "", "?" + search);
  }

  const fetchURL = window.location.href.split("?")[0].split("#")[0];

  function webSocketURL(url) {
    const parsed = new URL(url);
    parsed.protocol = parsed.protocol === "http:" ? "ws:" : "wss:";
    parsed.hash = "";
    return parsed.toString();
  }

  // A subscription runs over the WebSocket, where a browser cannot set headers: GraphiQL
  // sends the headers editor's (the token) as the connection_init payload instead, which
  // gateway/graphql_view.py reads.
  const fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    subscriptionUrl: webSocketURL(fetchURL),
  });

  function OmnigateGraphiQL() {
    const [query, setQuery] = React.useState(parameters.q || first.query);
    const [variables, setVariables] = React.useState(parameters.variables);
    const [headers, setHeaders] = React.useState(parameters.headers || first.headers);
    const explorer = React.useMemo(() => GraphiQLPluginExplorer.explorerPlugin(), []);

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorer],
      query: query,
      variables: variables,
      headers: headers,
      defaultTabs: tabs.length ? tabs : undefined,
      onEditQuery: (value) => {
        setQuery(value);
        updateURL({ q: value });
      },
      onEditVariables: (value) => {
        setVariables(value);
        updateURL({ variables: value });
      },
      onEditHeaders: setHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(OmnigateGraphiQL),
  );
})();
