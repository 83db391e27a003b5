// Decides whether `npm start` must (re)build: the stamp is a hash of every input of the
// production build, written next to it after a successful build.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const INPUT_DIRS = ["app", "components", "lib", "public"];
const INPUT_FILES = ["proxy.ts", "next.config.mjs", "tailwind.config.ts", "postcss.config.mjs", "tsconfig.json", "package-lock.json", "package.json"];
const STAMP = path.join(".next", "tether-build-stamp");

function* walk(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

export function computeBuildStamp(root: string): string {
  const hash = createHash("sha256");
  const files = [...INPUT_DIRS.flatMap((d) => [...walk(path.join(root, d))]), ...INPUT_FILES.map((f) => path.join(root, f)).filter((f) => existsSync(f))];
  for (const file of files) {
    hash.update(path.relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

export function isBuildCurrent(root: string, stamp: string): boolean {
  const stampFile = path.join(root, STAMP);
  return existsSync(path.join(root, ".next", "BUILD_ID")) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp && statSync(stampFile).isFile();
}

export function writeBuildStamp(root: string, stamp: string): void {
  writeFileSync(path.join(root, STAMP), stamp);
}
