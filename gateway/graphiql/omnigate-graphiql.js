// The GraphiQL page's own code (gateway/graphiql/page.py renders the page around it): it
// opens with the example operations as tabs, keeps the editors in the URL for sharing, and
// sends the headers editor's token to subscriptions too.
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

  // GraphiQL sends its headers editor over HTTP only; a subscription (WebSocket) gets the
  // Authorization and customer token as the connection_init payload instead, read from the
  // persisted headers each time a socket opens (gateway/graphql_view.py reads them there).
  function connectionParams() {
    try {
      const headers = JSON.parse(localStorage.getItem("graphiql:headers") || "{}");
      const params = {};
      for (const [name, value] of Object.entries(headers)) {
        const key = name.toLowerCase();
        if (key === "authorization") params.Authorization = value;
        if (key === "x-customer-token") params["X-Customer-Token"] = value;
      }
      return params;
    } catch (error) {
      return {};
    }
  }

  const fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    subscriptionUrl: webSocketURL(fetchURL),
    wsConnectionParams: connectionParams,
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
