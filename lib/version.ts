import pkg from "@/package.json" with { type: "json" };

export const TETHER_VERSION: string = pkg.version;
