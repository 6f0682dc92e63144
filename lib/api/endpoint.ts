/**
 * The URL of one of the API's routes under `API_URL`, keeping any path `API_URL` has: an API published behind a
 * gateway at `https://gateway.example/notes-api` has its `/notes` at `/notes-api/notes`. (`new URL("/notes",
 * apiUrl)` would drop that prefix without a word.) Pure and edge-safe.
 */
export function apiEndpoint(apiUrl: URL, path: string): URL {
  const query = path.indexOf("?");
  const url = new URL(apiUrl);
  url.pathname = `${apiUrl.pathname.replace(/\/+$/, "")}${query === -1 ? path : path.slice(0, query)}`;
  url.search = query === -1 ? "" : path.slice(query);
  url.hash = "";
  return url;
}
