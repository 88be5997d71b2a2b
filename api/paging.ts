// Cursor paging of a sorted list (CONTRACT §6: `{"items": [...], "next": cursor}` where paginated), for
// every list route. A cursor is opaque to clients: the sort key of the last item of a page, so the next
// page starts after it even when items were added in between (no offset that shifts). Pure.
import { apiError } from "./errors.js";

/** How a list is sorted: each item's key (strings, compared in order) and the comparison of two keys. */
export interface Order<T> {
  /** How many strings a key has (a cursor of another length is not one this API gave). */
  keyLength: number;
  key(item: T): string[];
  compare(a: readonly string[], b: readonly string[]): number;
}

export const encodeCursor = (key: readonly string[]) => Buffer.from(JSON.stringify(key)).toString("base64url");

function decodeCursor(cursor: string, length: number): string[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString());
  } catch {
    key = null;
  }
  if (!Array.isArray(key) || key.length !== length || !key.every((part) => typeof part === "string")) throw apiError("VALIDATION_FAILED", "cursor is not one this API gave");
  return key as string[];
}

/** One page of `sorted` (sorted by `order`) after the item the cursor names; `next` is null on the last page. */
export function paginate<T>(sorted: readonly T[], limit: number, cursor: string | undefined, order: Order<T>): { items: T[]; next: string | null } {
  let start = 0;
  if (cursor !== undefined) {
    const after = decodeCursor(cursor, order.keyLength);
    start = sorted.findIndex((item) => order.compare(order.key(item), after) > 0);
    if (start === -1) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  return { items, next: start + limit < sorted.length && items.length > 0 ? encodeCursor(order.key(items[items.length - 1]!)) : null };
}
