// NIST's official CSF 2.0 catalog (OSCAL JSON), shipped verbatim in data/nist-csf-2.0/ with its
// source note. Control text always comes from this file, never from our own copy of the words.
//
// The catalog's arrays are alphabetical; NIST's order is the `sort-id` prop. It also carries the
// CSF 1.1 items that 2.0 withdrew (`status=withdrawn`, links `moved_to` / `incorporated_into`
// with bare ids): they are the official 1.1 → 2.0 crosswalk, so "PR.AC-4" finds PR.AA-05.
// Pure (fs + parsing only): the loader, the unit tests and the exports share it.
import { readFileSync } from "node:fs";
import path from "node:path";

export const CSF_CATALOG_FILE = "data/nist-csf-2.0/NIST_CSF_v2.0_catalog-min.json";
/** SHA-256 of the shipped file, as recorded in data/nist-csf-2.0/SOURCE.md. */
export const CSF_CATALOG_SHA256 = "87d31e856ab2d2b5fb78d66233cc257a2e1a6c3c51b367ab73c10124b25adc3b";
/** The final CSF 2.0 publication (the catalog's back-matter links to the draft). */
export const CSF_CITATION = "NIST Cybersecurity Framework (CSF) 2.0, NIST CSWP 29, February 2024, https://doi.org/10.6028/NIST.CSWP.29";

export type TCsfKind = "function" | "category" | "subcategory";
export type TCsfLinkRel = "moved_to" | "incorporated_into";

export type TCsfItem = {
  id: string;
  kind: TCsfKind;
  title: string;
  /** The outcome text (a function's overview, a category's or subcategory's statement). */
  statement: string | null;
  /** CSF 2.0 Implementation Examples (subcategories only), in catalog order. */
  examples: Array<{ id: string; prose: string }>;
  sortId: string;
  label: string;
  withdrawn: boolean;
  /** Where a withdrawn item went (ids without "#"). */
  links: Array<{ rel: TCsfLinkRel; href: string }>;
  functionId: string;
  categoryId: string | null;
};

export type TCsfCatalog = {
  uuid: string;
  title: string;
  version: string;
  oscalVersion: string;
  published: string | null;
  lastModified: string;
  /** Every item (functions, categories, subcategories, withdrawn ones too), in NIST's sort-id order. */
  items: TCsfItem[];
  byId: ReadonlyMap<string, TCsfItem>;
};

type TOscalProp = { name: string; value: string; ns?: string };
type TOscalPart = { id?: string; name: string; prose?: string; ns?: string };
type TOscalControl = {
  id: string;
  class?: string;
  title: string;
  props?: TOscalProp[];
  parts?: TOscalPart[];
  links?: Array<{ href: string; rel?: string }>;
  controls?: TOscalControl[];
};
type TOscalCatalog = {
  catalog: {
    uuid: string;
    metadata: { title: string; version: string; "oscal-version": string; published?: string; "last-modified": string };
    groups: TOscalControl[];
  };
};

const prop = (c: TOscalControl, name: string) => c.props?.find((p) => p.name === name)?.value;

/** NIST's two spellings (CSF: moved_to + bare id; SP 800-53: moved-to + "#id"). */
function normaliseLink(link: { href: string; rel?: string }): { rel: TCsfLinkRel; href: string } | null {
  const rel = link.rel?.replace(/-/g, "_");
  if (rel !== "moved_to" && rel !== "incorporated_into") return null;
  return { rel, href: link.href.replace(/^#/, "") };
}

function toItem(c: TOscalControl, kind: TCsfKind, functionId: string, categoryId: string | null): TCsfItem {
  const statementPart = c.parts?.find((p) => p.name === (kind === "function" ? "overview" : "statement"));
  return {
    id: c.id,
    kind,
    title: c.title,
    statement: statementPart?.prose ?? null,
    examples: (c.parts ?? []).filter((p) => p.name === "example" && p.id && p.prose).map((p) => ({ id: p.id!, prose: p.prose! })),
    sortId: prop(c, "sort-id") ?? "",
    label: prop(c, "label") ?? c.id,
    withdrawn: prop(c, "status") === "withdrawn",
    links: (c.links ?? []).map(normaliseLink).filter((l): l is NonNullable<typeof l> => l !== null),
    functionId,
    categoryId,
  };
}

/** Builds the catalog model from the OSCAL document (exported for tests on hand-made documents). */
export function parseCsfCatalog(doc: unknown): TCsfCatalog {
  const { catalog } = doc as TOscalCatalog;
  if (!catalog?.groups || !catalog.metadata) throw new Error("Not an OSCAL catalog: catalog.groups / catalog.metadata missing.");
  const items: TCsfItem[] = [];
  for (const fn of catalog.groups) {
    items.push(toItem(fn, "function", fn.id, null));
    for (const category of fn.controls ?? []) {
      items.push(toItem(category, "category", fn.id, null));
      for (const sub of category.controls ?? []) items.push(toItem(sub, "subcategory", fn.id, category.id));
    }
  }
  // sort-ids are zero-padded, so string order is NIST's order; a few duplicates tie-break by id.
  items.sort((a, b) => (a.sortId < b.sortId ? -1 : a.sortId > b.sortId ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    uuid: catalog.uuid,
    title: catalog.metadata.title,
    version: catalog.metadata.version,
    oscalVersion: catalog.metadata["oscal-version"],
    published: catalog.metadata.published ?? null,
    lastModified: catalog.metadata["last-modified"],
    items,
    byId: new Map(items.map((i) => [i.id, i])),
  };
}

let cached: TCsfCatalog | undefined;

/** The shipped catalog, read once per process (relative to the working directory: the repository root). */
export function loadCsfCatalog(): TCsfCatalog {
  cached ??= parseCsfCatalog(JSON.parse(readFileSync(path.join(process.cwd(), CSF_CATALOG_FILE), "utf8")));
  return cached;
}

/** The CSF 2.0 subcategories in force (withdrawn 1.1 items left out), in NIST's order. */
export function currentSubcategories(catalog: TCsfCatalog = loadCsfCatalog()): TCsfItem[] {
  return catalog.items.filter((i) => i.kind === "subcategory" && !i.withdrawn);
}

const ID_PATTERN = /^([A-Z]{2})\.([A-Z]{2})(?:-0?(\d{1,2}))?$/;

/**
 * A CSF id as the catalog writes it: upper case, two-digit subcategory numbers ("pr.ac-4" →
 * "PR.AC-04"; CSF 1.1 wrote single digits). Null when the text is not shaped like a CSF id.
 */
export function normaliseCsfId(text: string): string | null {
  const m = ID_PATTERN.exec(text.trim().toUpperCase());
  if (!m) return null;
  return m[3] === undefined ? `${m[1]}.${m[2]}` : `${m[1]}.${m[2]}-${m[3].padStart(2, "0")}`;
}

/** The 2.0 items a withdrawn 1.1 id was moved to or incorporated into (following chains), in NIST's order. */
export function successorsOf(id: string, catalog: TCsfCatalog = loadCsfCatalog()): Array<{ item: TCsfItem; rel: TCsfLinkRel }> {
  const out = new Map<string, { item: TCsfItem; rel: TCsfLinkRel }>();
  const visit = (from: TCsfItem, rel: TCsfLinkRel | null, depth: number) => {
    if (depth > 5) return;
    for (const link of from.links) {
      const to = catalog.byId.get(link.href);
      if (!to) continue;
      const effective = rel ?? link.rel;
      if (to.withdrawn) visit(to, effective, depth + 1);
      else if (!out.has(to.id)) out.set(to.id, { item: to, rel: effective });
    }
  };
  const start = catalog.byId.get(id);
  if (start) visit(start, null, 0);
  return [...out.values()].sort((a, b) => (a.item.sortId < b.item.sortId ? -1 : a.item.sortId > b.item.sortId ? 1 : 0));
}

export type TCsfSearchHit = {
  item: TCsfItem;
  /** id: the text is this item's id; crosswalk: a withdrawn CSF 1.1 id that moved here; text: words of its title or statement. */
  via: "id" | "crosswalk" | "text";
  /** For crosswalk hits: the 1.1 item searched for, and how NIST says it moved. */
  from?: { id: string; rel: TCsfLinkRel; statement: string | null };
};

/**
 * Finds CSF items by id (1.1 or 2.0 spelling) or by words. A withdrawn 1.1 id answers with the
 * 2.0 items NIST moved it to, after the withdrawn item itself.
 */
export function searchCsf(query: string, catalog: TCsfCatalog = loadCsfCatalog(), limit = 25): TCsfSearchHit[] {
  const text = query.trim();
  if (!text) return [];
  const id = normaliseCsfId(text);
  if (id) {
    const item = catalog.byId.get(id);
    if (!item) return [];
    const hits: TCsfSearchHit[] = [{ item, via: "id" }];
    if (item.withdrawn) {
      for (const s of successorsOf(id, catalog)) hits.push({ item: s.item, via: "crosswalk", from: { id: item.id, rel: s.rel, statement: item.statement } });
    }
    return hits;
  }
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return catalog.items
    .filter((i) => !i.withdrawn)
    .filter((i) => {
      const hay = `${i.id} ${i.title} ${i.statement ?? ""}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    })
    .slice(0, limit)
    .map((item) => ({ item, via: "text" as const }));
}
