import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Listener {
  /** The port actually bound (useful when asking for port 0). */
  port: number;
  addresses: string[];
  close(): Promise<void>;
}

// The browser sends every localhost cookie to every localhost port, including the web app's chunked session
// cookie; Node's default 16 KiB header limit would turn that into 431 errors at the IdP.
const MAX_HEADER_BYTES = 64 * 1024;

// Address families a host may simply not have (an IPv6-less container, for instance).
const MISSING_FAMILY = new Set(["EADDRNOTAVAIL", "EAFNOSUPPORT", "EINVAL"]);

/**
 * Starts serving `handler`. Without an explicit host it binds the loopback interfaces only, IPv4 and, where the
 * host has it, IPv6: `localhost` resolves to either depending on the platform, and a client trying `::1` against
 * an IPv4-only listener would see connection refused.
 */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  { port, host }: { port: number; host?: string },
): Promise<Listener> {
  const servers: Server[] = [];
  const bind = async (address: string, wantedPort: number) => {
    const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(wantedPort, address, () => {
        server.off("error", reject);
        resolve();
      });
    });
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };

  let boundPort: number;
  if (host) {
    boundPort = await bind(host, port);
  } else {
    boundPort = await bind("127.0.0.1", port);
    try {
      await bind("::1", boundPort);
    } catch (error) {
      if (!MISSING_FAMILY.has((error as NodeJS.ErrnoException).code ?? "")) {
        await closeAll(servers);
        throw error;
      }
    }
  }

  return {
    port: boundPort,
    addresses: servers.map((server) => {
      const { address, family } = server.address() as AddressInfo;
      return family === "IPv6" ? `[${address}]:${boundPort}` : `${address}:${boundPort}`;
    }),
    close: () => closeAll(servers),
  };
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Idle keep-alive connections would otherwise hold the close open.
          server.closeAllConnections();
        }),
    ),
  );
}
