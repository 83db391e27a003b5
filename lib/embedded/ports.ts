import net from "node:net";

export async function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves to null when the port can be bound, or a one-line reason when it cannot. */
export async function checkPortAvailable(port: number, host: string): Promise<string | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") resolve(`Port ${port} on ${host} is already in use. Stop what is using it or set PORT to another port.`);
      else if (err.code === "EACCES") resolve(`Not allowed to listen on port ${port} on ${host}. Choose a port above 1023 with PORT.`);
      else if (err.code === "EADDRNOTAVAIL") resolve(`${host} is not an address of this machine. Set HOST to one that is (for example 127.0.0.1).`);
      else resolve(`Cannot listen on ${host}:${port}: ${err.message}`);
    });
    srv.listen(port, host, () => srv.close(() => resolve(null)));
  });
}
