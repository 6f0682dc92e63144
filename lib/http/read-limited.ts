/**
 * Reads a request or response body up to a limit, whatever its framing: a declared `Content-Length` or chunked
 * transfer encoding. Reading stops, and the stream is cancelled, at the first byte over the limit. Edge-safe.
 */

export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

export async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLargeError(`The body is over ${limit} bytes`);
    }
    parts.push(value);
  }
  const whole = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.byteLength;
  }
  return whole;
}
