// Saved views of the handle inventory: the input and the DTO. A view is a name and the query
// string of /handles (filter, sort, page size, columns; never a cursor). Pure.
import { z } from "zod";
import { COLUMNS_PARAM, handleColumnsParam, handleFilterQuery, parseHandleColumns, toQueryRecord, ZHandleFilter } from "./handle-filter-schema";

export const SAVED_VIEWS_MAX = 50;
export const SAVED_VIEW_PATH = "/handles";

const QUERY_MAX = 4000;

/** A query string as the page has it ("status=working&owner=…", with or without "?"), made canonical. */
const ZViewQuery = z
  .string({ error: "Give the view's query string." })
  .max(QUERY_MAX, `A view's query string has at most ${QUERY_MAX} characters.`)
  .transform((text, ctx) => {
    const params = new URLSearchParams(text.replace(/^\?/, ""));
    const columns = params.get(COLUMNS_PARAM);
    params.delete(COLUMNS_PARAM);
    // A view keeps where the list starts, never where a reader had paged to.
    params.delete("cursor");
    const parsed = ZHandleFilter.safeParse(toQueryRecord(params));
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: `${issue.path.join(".") || "query"}: ${issue.message}` });
      return z.NEVER;
    }
    const canonical = new URLSearchParams(handleFilterQuery(parsed.data));
    const cols = columns === null ? null : handleColumnsParam(parseHandleColumns(columns));
    if (cols) canonical.set(COLUMNS_PARAM, cols);
    return canonical.toString();
  });

export const ZSaveViewInput = z.object({
  name: z
    .string({ error: "Give the view a name." })
    .trim()
    .min(1, "Give the view a name.")
    .max(80, "A view's name has at most 80 characters.")
    .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), "A view's name cannot hold control characters."),
  query: ZViewQuery,
});
export type TSaveViewInput = z.input<typeof ZSaveViewInput>;

export const ZSavedViewDto = z.strictObject({
  id: z.string(),
  name: z.string(),
  query: z.string(),
  /** Where the view opens: /handles?<query>. */
  href: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type TSavedViewDto = z.infer<typeof ZSavedViewDto>;

export function toSavedViewDto(row: { id: string; name: string; query: string; createdAt: Date; updatedAt: Date }): TSavedViewDto {
  return ZSavedViewDto.parse({
    id: row.id,
    name: row.name,
    query: row.query,
    href: row.query ? `${SAVED_VIEW_PATH}?${row.query}` : SAVED_VIEW_PATH,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  });
}
