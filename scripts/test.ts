// `npm test`: every test, in order — typecheck, lint, unit, integration (real Postgres),
// end-to-end (Chromium against a production build). Every stage runs even when an earlier
// one fails, and the last line is the plain total CI reads: `N passed, N failed, N skipped`.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

type TCounts = { passed: number; failed: number; skipped: number; failures?: string[] };
type TStage = { name: string; run: (reportDir: string) => Promise<TCounts> };

const bin = (name: string) => path.join("node_modules", ".bin", name);

function exec(cmd: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env } });
    p.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    p.on("error", () => resolve(1));
  });
}

/** A stage that is one check (compiler, linter): it passes or fails as a whole. */
function check(name: string, cmd: string, args: string[]): TStage {
  return { name, run: async () => ((await exec(cmd, args)) === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 }) };
}

function vitest(project: string): TStage {
  return {
    name: `${project} tests`,
    async run(dir) {
      const out = path.join(dir, `${project}.json`);
      const code = await exec(bin("vitest"), ["run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${out}`]);
      const counts = readJson(out, (r: TVitestReport) => ({
        passed: r.numPassedTests,
        failed: r.numFailedTests,
        skipped: r.numPendingTests + r.numTodoTests,
        failures: vitestFailures(r),
      }));
      return finish(code, counts);
    },
  };
}

type TVitestReport = {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: { name: string; message?: string; status?: string; assertionResults?: { fullName: string; status: string; failureMessages?: string[] }[] }[];
};

/** Each failed test (or a file that failed to load) as "file › name: first line of the error". */
function vitestFailures(r: TVitestReport): string[] {
  const out: string[] = [];
  for (const file of r.testResults ?? []) {
    const rel = path.relative(process.cwd(), file.name);
    const failed = (file.assertionResults ?? []).filter((a) => a.status === "failed");
    for (const a of failed) out.push(`${rel} › ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
    if (!failed.length && file.status === "failed") out.push(`${rel}: ${firstLine(file.message)}`);
  }
  return out;
}

type TPlaywrightSuite = { title: string; specs?: { title: string; ok: boolean; tests?: { results?: { error?: { message?: string } }[] }[] }[]; suites?: TPlaywrightSuite[] };

function playwrightFailures(suites: TPlaywrightSuite[] | undefined, trail: string[] = []): string[] {
  const out: string[] = [];
  for (const s of suites ?? []) {
    const here = [...trail, s.title].filter(Boolean);
    for (const spec of s.specs ?? []) {
      if (spec.ok) continue;
      const error = spec.tests?.flatMap((t) => t.results ?? []).find((res) => res.error)?.error?.message;
      out.push(`${[...here, spec.title].join(" › ")}: ${firstLine(error)}`);
    }
    out.push(...playwrightFailures(s.suites, here));
  }
  return out;
}

/** The first non-empty line of an error, without terminal colours, kept short for the summary. */
function firstLine(message: string | undefined): string {
  const line = (message ?? "").replace(/\u001b\[[0-9;]*m/g, "").split("\n").find((l) => l.trim()) ?? "(no message)";
  return line.trim().slice(0, 300);
}

const e2e: TStage = {
  name: "end-to-end tests",
  async run(dir) {
    const out = path.join(dir, "e2e.json");
    const code = await exec(bin("playwright"), ["test", "--reporter=list,json"], { PLAYWRIGHT_JSON_OUTPUT_NAME: out });
    const counts = readJson(out, (r: { stats: { expected: number; unexpected: number; flaky: number; skipped: number }; suites?: TPlaywrightSuite[] }) => ({
      passed: r.stats.expected + r.stats.flaky,
      failed: r.stats.unexpected,
      skipped: r.stats.skipped,
      failures: playwrightFailures(r.suites),
    }));
    return finish(code, counts);
  },
};

function readJson<T>(file: string, map: (r: T) => TCounts): TCounts | null {
  try {
    return map(JSON.parse(readFileSync(file, "utf8")) as T);
  } catch {
    return null;
  }
}

/** A runner that exits non-zero without a failed test (crash, setup error) still counts as one failure. */
function finish(code: number, counts: TCounts | null): TCounts {
  const c = counts ?? { passed: 0, failed: 0, skipped: 0 };
  if (code !== 0 && c.failed === 0) c.failed = 1;
  if (code === 0 && c.passed === 0) c.failed += 1; // a stage that ran no test is not a pass
  return c;
}

const stages: TStage[] = [
  check("typecheck", bin("tsc"), ["--noEmit", "-p", "tsconfig.json"]),
  check("lint", bin("eslint"), ["--max-warnings=0", "."]),
  vitest("unit"),
  vitest("integration"),
  e2e,
];

const only = process.argv.slice(2);
const reportDir = mkdtempSync(path.join(tmpdir(), "tether-test-"));
const total: TCounts = { passed: 0, failed: 0, skipped: 0 };
const summary: string[] = [];
const failures: string[] = [];
for (const stage of stages) {
  if (only.length && !only.some((o) => stage.name.startsWith(o))) continue;
  process.stdout.write(`\n=== ${stage.name} ===\n`);
  const started = Date.now();
  const c = await stage.run(reportDir);
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
  failures.push(...(c.failures ?? []).map((f) => `  ${stage.name}: ${f}`));
  summary.push(`${c.failed ? "FAIL" : "ok  "} ${stage.name.padEnd(18)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
rmSync(reportDir, { recursive: true, force: true });
// The failed tests are listed again at the end, where a CI log's tail shows them.
if (failures.length) process.stdout.write(`\nFailed:\n${failures.join("\n")}\n`);
process.stdout.write(`\n${summary.join("\n")}\n\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exit(total.failed ? 1 : 0);
