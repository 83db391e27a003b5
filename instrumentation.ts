// Next.js calls register() once per server process: the place to start this process's share
// of Tether's background work. Node-only code lives in its own module so the Edge build of
// this file stays free of Node APIs.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { registerNodeWorkers } = await import("@/lib/startup/register-node-workers");
    registerNodeWorkers();
  }
}
