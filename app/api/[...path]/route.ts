/**
 * Any other data route: 404 JSON, after the anti-forgery check every data route makes, so that a caller never
 * gets an HTML page from `/api/*`.
 */
import { getConfig } from "@/lib/config";
import { refuseForgery } from "@/lib/http/anti-forgery";
import { jsonError } from "@/lib/http/json";

const notFound = (request: Request): Response =>
  refuseForgery(request, getConfig().authUrl.origin) ?? jsonError(404, "not_found", "No such data route.");

export { notFound as DELETE, notFound as GET, notFound as PATCH, notFound as POST, notFound as PUT };
