/** Whether anything listens on a loopback port: `npm start` checks its ports, the e2e hooks that it freed them. */
import net from "node:net";

/** True when `port` on 127.0.0.1 can be listened on (nothing holds it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.once("listening", () => server.close(() => resolve(true)));
    server.listen(port, "127.0.0.1");
  });
}
